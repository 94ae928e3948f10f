// Text chunks → physical lines, and line-ending normalisation for CSV.

import { FileFormatError } from './errors'

// No real record is this long; past it the file is almost certainly not line-delimited, and
// buffering on would only end in an out-of-memory crash.
const MAX_LINE_CHARS = 64 * 1024 * 1024

export interface Line { text: string; line: number } // 1-based physical line number

/** Splits text chunks into lines (without "\n" or a trailing "\r"), numbering them across chunks. */
export async function* splitLines(chunks: AsyncIterable<string>, file: string): AsyncGenerator<Line> {
  let carry = ''
  let line = 1
  for await (const chunk of chunks) {
    const text = carry + chunk
    let start = 0
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      yield { text: stripCr(text.slice(start, end)), line: line++ }
      start = end + 1
    }
    carry = text.slice(start)
    if (carry.length > MAX_LINE_CHARS) {
      throw new FileFormatError('this line is longer than 64 MiB; the file does not look line-delimited (use .json for a JSON array)', file, `line ${line}`)
    }
  }
  if (carry) yield { text: stripCr(carry), line }
}

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text
}

/**
 * Rewrites CRLF as LF, including a CRLF split across two chunks. csv-parse miscounts lines when
 * CRLF appears inside quoted fields, and Windows line breaks inside cells are noise in
 * training text anyway.
 */
export async function* crlfToLf(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let pendingCr = false
  for await (let chunk of chunks) {
    if (pendingCr) chunk = '\r' + chunk
    pendingCr = chunk.endsWith('\r')
    if (pendingCr) chunk = chunk.slice(0, -1)
    if (chunk) yield chunk.replaceAll('\r\n', '\n')
  }
  if (pendingCr) yield '\r'
}
