// Format detection: the extension proposes, the first bytes confirm; an explicit format wins.

import { open } from 'node:fs/promises'
import { extname } from 'node:path'
import { checkTextHead } from './encoding'
import { FileFormatError } from './errors'
import type { SourceFormat } from './types'

export const HEAD_BYTES = 64 * 1024

const BY_EXTENSION: Record<string, SourceFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'json',
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.parquet': 'parquet',
}

/** The first `bytes` bytes of a file (fewer when the file is shorter). */
export async function readHead(path: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(bytes)
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

export function detectFormat(path: string, head: Buffer, override?: SourceFormat): SourceFormat {
  if (override) return override
  const byExtension = BY_EXTENSION[extname(path).toLowerCase()]
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet'
  if (byExtension === 'parquet') {
    throw new FileFormatError('the file has a .parquet extension but is not a Parquet file (it does not start with "PAR1")', path)
  }
  checkTextHead(path, head)
  const text = headText(head)
  const first = text.trimStart()[0]
  if (first === '[') return 'json'
  if (first === '{') return byExtension === 'jsonl' || looksLikeJsonLines(text) ? 'jsonl' : 'json'
  if (byExtension) return byExtension === 'csv' && sniffDelimiter(firstLine(text)) === '\t' ? 'tsv' : byExtension
  const delimiter = sniffDelimiter(firstLine(text))
  if (delimiter) return delimiter === '\t' ? 'tsv' : 'csv'
  throw new FileFormatError('cannot tell the format of this file: give it a .jsonl, .json, .csv, .tsv or .parquet extension, or choose the format explicitly', path)
}

/** Decodes a head leniently (it may end mid-character) and drops a UTF-8 BOM. */
export function headText(head: Uint8Array): string {
  return new TextDecoder('utf-8', { ignoreBOM: false }).decode(head)
}

function firstLine(text: string): string {
  const end = text.indexOf('\n')
  return end === -1 ? text : text.slice(0, end)
}

/** True when the first line is a whole JSON object and another record line follows it. */
function looksLikeJsonLines(text: string): boolean {
  const lines = text.trimStart().split('\n')
  if (lines.length < 2) return false
  try {
    const value: unknown = JSON.parse(lines[0])
    return typeof value === 'object' && value !== null && lines.slice(1).some((line) => line.trimStart().startsWith('{'))
  } catch {
    return false
  }
}

/**
 * The most frequent of tab, comma, semicolon and pipe outside double quotes in a header line;
 * null when there is none. Ties go to the earlier candidate.
 */
export function sniffDelimiter(line: string, candidates = ['\t', ',', ';', '|']): string | null {
  const counts = new Map(candidates.map((c) => [c, 0]))
  let quoted = false
  for (const char of line) {
    if (char === '"') quoted = !quoted
    else if (!quoted && counts.has(char)) counts.set(char, counts.get(char)! + 1)
  }
  let best: string | null = null
  for (const [char, count] of counts) if (count > 0 && (best === null || count > counts.get(best)!)) best = char
  return best
}
