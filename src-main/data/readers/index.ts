// One entry point over the format readers.

import type { SourceFormat, SourceRecord } from '../types'
import { readCsv } from './csv'
import { readJson } from './json'
import { readJsonl } from './jsonl'
import { readParquet } from './parquet'
import type { ReaderOptions } from './record'

export type { ReaderOptions } from './record'

/** Streams the file's records in order; bad records come as problems, a broken file throws. */
export function readRecords(file: string, format: SourceFormat, opts: ReaderOptions = {}): AsyncGenerator<SourceRecord> {
  switch (format) {
    case 'jsonl': return readJsonl(file, opts)
    case 'json': return readJson(file, opts)
    case 'csv':
    case 'tsv': return readCsv(file, format, opts)
    case 'parquet': return readParquet(file, opts)
  }
}
