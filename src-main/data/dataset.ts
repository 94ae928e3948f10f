// Opening a dataset: detect the format, sample the first records to detect the shape, then
// stream every record normalised.

import { stat } from 'node:fs/promises'
import { FileFormatError } from './errors'
import { detectFormat, readHead } from './formats'
import type { SourceObject } from './fields'
import { normalizeRecord } from './normalize'
import { readRecords } from './readers/index'
import { applyMapping, detectShape, effectiveMapping, unknownShapeError, validateMapping } from './shapes'
import type { DatasetRow, PreviewRow, ReadOptions, SourceInfo, SourceRecord } from './types'

const SAMPLE_RECORDS = 50
const DEFAULT_PREVIEW_ROWS = 20

/**
 * Sniffs format and shape, then returns a generator over every record, normalised. Sniffing
 * reads the first records and closes the file; `rows` reads it again from the start when first
 * pulled, so nothing is held open until then and abandoning `rows` unstarted leaks nothing.
 * Errors: FileFormatError for a file that cannot be read at all (also thrown mid-stream, e.g.
 * a bad UTF-8 byte on line 80,000), the signal's reason when aborted.
 */
export async function openDataset(path: string, opts: ReadOptions = {}): Promise<{ info: SourceInfo; rows: AsyncGenerator<DatasetRow> }> {
  const { info } = await sniff(path, opts, SAMPLE_RECORDS)
  return { info, rows: streamRows(path, info, opts) }
}

/** The first `limit` records (default 20), each with its source record and its normalised row or problem. */
export async function previewDataset(path: string, opts: ReadOptions & { limit?: number } = {}): Promise<{ info: SourceInfo; rows: PreviewRow[] }> {
  const limit = opts.limit ?? DEFAULT_PREVIEW_ROWS
  const { info, sample } = await sniff(path, opts, Math.max(SAMPLE_RECORDS, limit))
  const rows = sample.slice(0, limit).map((record) => {
    const { row, problem } = normalizeRecord(info.shape, mapRecord(record, opts.mapping))
    return { location: record.location, ...(row ? { row } : { problem }), raw: record.value ?? {} }
  })
  return { info, rows }
}

async function* streamRows(path: string, info: SourceInfo, opts: ReadOptions): AsyncGenerator<DatasetRow> {
  for await (const record of readRecords(path, info.format, { signal: opts.signal, onProgress: opts.onProgress })) {
    opts.signal?.throwIfAborted()
    yield normalizeRecord(info.shape, mapRecord(record, opts.mapping))
  }
  opts.onProgress?.(info.totalBytes, info.totalBytes)
}

function mapRecord(record: SourceRecord, mapping: Record<string, string> = {}): SourceRecord {
  return record.value ? { ...record, value: applyMapping(record.value, mapping) } : record
}

async function sniff(path: string, opts: ReadOptions, count: number): Promise<{ info: SourceInfo; sample: SourceRecord[] }> {
  const mapping = opts.mapping ?? {}
  validateMapping(mapping)
  const totalBytes = (await stat(path)).size
  const format = detectFormat(path, await readHead(path), opts.format)
  const sample: SourceRecord[] = []
  for await (const record of readRecords(path, format, { signal: opts.signal, limit: count })) {
    sample.push(record)
    if (sample.length >= count) break
  }
  const objects = sample.flatMap((record) => (record.value ? [record.value] : []))
  if (objects.length === 0) throw noRecordsError(path, sample)
  const columns = columnsOf(objects)
  checkMappedColumns(path, mapping, columns)
  const shape = detectShape(objects.map((object) => applyMapping(object, mapping)))
  if (!shape) throw unknownShapeError(path, columns)
  return { info: { format, shape, mapping: effectiveMapping(shape, mapping, columns), columns, totalBytes }, sample }
}

/** Keys of the records in first-seen order. */
function columnsOf(objects: SourceObject[]): string[] {
  const columns = new Set<string>()
  for (const object of objects) for (const key of Object.keys(object)) columns.add(key)
  return [...columns]
}

function checkMappedColumns(path: string, mapping: Record<string, string>, columns: string[]): void {
  for (const [field, column] of Object.entries(mapping)) {
    if (!columns.includes(column)) {
      throw new FileFormatError(`the mapping ${field}=${column} names a column the file does not have (columns: ${columns.join(', ')})`, path)
    }
  }
}

function noRecordsError(path: string, sample: SourceRecord[]): FileFormatError {
  if (sample.length === 0) return new FileFormatError('the file holds no records', path)
  const examples = sample.slice(0, 3).map((record) => `${record.location}: ${record.problem?.reason}`)
  return new FileFormatError(`none of the first ${sample.length} records could be read (${examples.join('; ')})`, path)
}
