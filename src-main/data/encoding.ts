// Bytes → text: streams a file as UTF-8 text, strips a BOM, and rejects anything that is not
// UTF-8 with the line and byte offset of the first bad byte, so a user can find and fix it.

import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { FileFormatError } from './errors'

const CHUNK_BYTES = 256 * 1024
const CONVERT_HINT = 'convert it to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8 in.csv > out.csv)'

export interface TextReadOptions {
  signal?: AbortSignal
  onProgress?: (bytesRead: number, totalBytes: number) => void
}

/**
 * Rejects heads that are clearly not UTF-8 text: UTF-16/32 byte-order marks, or NUL bytes
 * (UTF-16 without a BOM, or a binary file). Valid UTF-8 text never contains NUL.
 */
export function checkTextHead(file: string, head: Uint8Array): void {
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)
  const utf32be = head[0] === 0 && head[1] === 0 && head[2] === 0xfe && head[3] === 0xff
  if (utf16 || utf32be) {
    throw new FileFormatError(`the file is UTF-16/UTF-32 encoded (it starts with a byte-order mark); ${CONVERT_HINT.replace('LATIN1', 'UTF-16')}`, file, 'byte offset 0')
  }
  const nul = head.subarray(0, 4096).indexOf(0)
  if (nul !== -1) {
    throw new FileFormatError(`the file contains NUL bytes, so it is not UTF-8 text (UTF-16 without a byte-order mark, or a binary file); ${CONVERT_HINT.replace('LATIN1', 'UTF-16')}`, file, `byte offset ${nul}`)
  }
}

/**
 * Streams a file as decoded UTF-8 text chunks (BOM removed). Reports bytes read after each chunk
 * and stops with the signal's reason when aborted.
 */
export async function* readText(file: string, opts: TextReadOptions = {}): AsyncGenerator<string> {
  const totalBytes = (await stat(file)).size
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES })
  let offset = 0
  let line = 1
  let tail: Buffer = Buffer.alloc(0) // the previous chunk's last bytes, where an undecoded partial character may sit
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      opts.signal?.throwIfAborted()
      if (offset === 0) checkTextHead(file, chunk)
      let text: string
      try {
        text = decoder.decode(chunk, { stream: true })
      } catch {
        throw notUtf8Error(file, tail, chunk, offset, line)
      }
      offset += chunk.length
      line += countNewlines(text)
      tail = chunk.subarray(-3)
      opts.onProgress?.(offset, totalBytes)
      if (text) yield text
    }
    const rest = finish(decoder, file, offset, line)
    if (rest) yield rest
  } finally {
    stream.destroy()
  }
}

function finish(decoder: TextDecoder, file: string, offset: number, line: number): string {
  try {
    return decoder.decode()
  } catch {
    throw new FileFormatError(`the file ends in the middle of a UTF-8 character, so it is not valid UTF-8; ${CONVERT_HINT}`, file, `line ${line} (byte offset ${offset})`)
  }
}

export function countNewlines(text: string): number {
  let count = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++
  return count
}

/**
 * The decoder only says "invalid"; find where. Everything it decoded before this chunk was valid
 * except at most 3 held-back bytes of a partial character at the end of the previous chunk, so
 * validating (those bytes + this chunk) from the first non-continuation byte finds the culprit.
 */
function notUtf8Error(file: string, tail: Buffer, chunk: Buffer, chunkOffset: number, line: number): FileFormatError {
  const window = Buffer.concat([tail, chunk])
  let start = 0
  while (start < tail.length && (window[start] & 0xc0) === 0x80) start++
  const found = firstInvalidUtf8(window.subarray(start))
  const bad = found === -1 ? tail.length : start + found
  const inChunk = Math.max(bad - tail.length, 0)
  const badLine = line + countByte(chunk.subarray(0, inChunk), 0x0a)
  const byteOffset = chunkOffset - tail.length + bad
  const hex = window[bad].toString(16).toUpperCase().padStart(2, '0')
  return new FileFormatError(
    `byte 0x${hex} is not valid UTF-8 (the file is probably Latin-1 or Windows-1252); ${CONVERT_HINT}`,
    file,
    `line ${badLine} (byte offset ${byteOffset})`,
  )
}

function countByte(bytes: Uint8Array, byte: number): number {
  let count = 0
  for (let i = bytes.indexOf(byte); i !== -1; i = bytes.indexOf(byte, i + 1)) count++
  return count
}

/**
 * Index of the first byte that starts an invalid UTF-8 sequence (per the WHATWG decoder: no
 * overlong forms, no surrogates, nothing above U+10FFFF); -1 if none. A sequence cut off by the
 * end of `bytes` is not counted as invalid.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const lead = bytes[i]
    if (lead < 0x80) { i++; continue }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0
    if (length === 0) return i
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf
    for (let k = 1; k < length; k++) {
      if (i + k >= bytes.length) return -1
      const byte = bytes[i + k]
      const ok = k === 1 ? byte >= low && byte <= high : (byte & 0xc0) === 0x80
      if (!ok) return i
    }
    i += length
  }
  return -1
}
