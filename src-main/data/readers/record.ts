// Building SourceRecords: shared by the readers.

import type { TextReadOptions } from '../encoding'
import { isPlainObject, typeName } from '../fields'
import type { SourceRecord } from '../types'

export interface ReaderOptions extends TextReadOptions {
  /** The caller will stop after this many records; a reader may use it to read less. */
  limit?: number
}

export function problemRecord(index: number, location: string, reason: string): SourceRecord {
  return { index, location, problem: { index, location, reason } }
}

/** A parsed JSON value as a record; anything but an object is a problem ("item is not a JSON object (got array)"). */
export function objectRecord(value: unknown, index: number, location: string, noun: string): SourceRecord {
  if (isPlainObject(value)) return { index, location, value }
  return problemRecord(index, location, `${noun} is not a JSON object (got ${typeName(value)})`)
}

/** V8's JSON.parse message with its 0-based "position" turned into a 1-based column, kept short. */
export function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const described = message.replace(/ in JSON at position (\d+)/, (_, position: string) => ` at column ${Number(position) + 1}`)
  return described.length > 200 ? `${described.slice(0, 200)}…` : described
}
