// JSON: a top-level array of records, or an object whose first array-valued key holds them
// ({"data": [...]}). Parsed as a token stream, so a multi-GB file is never one string.

import { Readable, pipeline } from 'node:stream'
import { pipeline as pipelineAsync } from 'node:stream/promises'
import Pick from 'stream-json/filters/Pick.js'
import Parser from 'stream-json/Parser.js'
import StreamArray from 'stream-json/streamers/StreamArray.js'
import Verifier from 'stream-json/utils/Verifier.js'
import { readText } from '../encoding'
import { FileFormatError } from '../errors'
import type { SourceRecord } from '../types'
import { objectRecord, type ReaderOptions } from './record'

export async function* readJson(file: string, opts: ReaderOptions = {}): AsyncGenerator<SourceRecord> {
  const records = firstArrayFilter()
  const items = new StreamArray()
  const parser = new Parser({ packValues: true, streamValues: false })
  // Errors surface through `items`; the callback only keeps pipeline from reporting them twice.
  pipeline(Readable.from(readText(file, opts)), parser, new Pick({ filter: records.filter, once: true }), items, () => {})
  try {
    for await (const { key, value } of items as AsyncIterable<{ key: number; value: unknown }>) {
      yield objectRecord(value, key, `item ${key + 1}`, 'item')
    }
  } catch (error) {
    throw isParserError(error) ? await syntaxError(file, error, opts.signal) : error
  } finally {
    items.destroy()
  }
  if (!records.found) {
    throw new FileFormatError('expected a JSON array of records, or an object holding one (e.g. {"data": [...]})', file)
  }
}

/**
 * A Pick filter that selects the top-level array, or the value of the first top-level key that
 * is an array. Pick calls it at the start of every value with the path (stack) to that value.
 */
function firstArrayFilter() {
  const state = {
    found: false,
    filter: (stack: readonly (string | number | null)[], token: { name: string }): boolean => {
      if (token.name !== 'startArray' || state.found) return false
      state.found = stack.length === 0 || (stack.length === 1 && typeof stack[0] === 'string')
      return state.found
    },
  }
  return state
}

function isParserError(error: unknown): error is Error {
  return error instanceof Error && /^(Parser|Top-level)/.test(error.message)
}

/** stream-json's parser does not say where it failed; its Verifier does, so rerun that to find out. */
async function syntaxError(file: string, error: Error, signal?: AbortSignal): Promise<FileFormatError> {
  const reason = `invalid JSON: ${error.message.replace(/^Parser (cannot parse input: )?/, '')}`
  try {
    await pipelineAsync(Readable.from(readText(file, { signal })), new Verifier())
  } catch (located) {
    signal?.throwIfAborted()
    const { line, pos } = located as { line?: number; pos?: number }
    if (line !== undefined) return new FileFormatError(reason, file, `line ${line}, column ${pos}`)
  }
  return new FileFormatError(reason, file)
}
