// JSON Lines: one object per line; blank lines are skipped.

import { readText } from '../encoding'
import { splitLines } from '../lines'
import type { SourceRecord } from '../types'
import { describeJsonError, objectRecord, problemRecord, type ReaderOptions } from './record'

export async function* readJsonl(file: string, opts: ReaderOptions = {}): AsyncGenerator<SourceRecord> {
  let index = 0
  for await (const { text, line } of splitLines(readText(file, opts), file)) {
    if (text.trim() === '') continue
    yield parseLine(text, index++, `line ${line}`)
  }
}

function parseLine(text: string, index: number, location: string): SourceRecord {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return problemRecord(index, location, `line is not valid JSON: ${describeJsonError(error)}`)
  }
  return objectRecord(value, index, location, 'line')
}
