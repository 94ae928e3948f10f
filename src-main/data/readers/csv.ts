// CSV/TSV with a header row. Quoted fields may hold delimiters, quotes and line breaks.
// A record with the wrong number of fields is a bad row; broken quoting ends the file.

import { Readable, pipeline } from 'node:stream'
import { CsvError, parse } from 'csv-parse'
import { countNewlines, readText } from '../encoding'
import { FileFormatError } from '../errors'
import { headText, readHead, sniffDelimiter } from '../formats'
import { crlfToLf } from '../lines'
import type { SourceRecord } from '../types'
import { problemRecord, type ReaderOptions } from './record'

// Past this, an unclosed quote is swallowing the rest of the file.
const MAX_RECORD_CHARS = 64 * 1024 * 1024

export async function* readCsv(file: string, format: 'csv' | 'tsv', opts: ReaderOptions = {}): AsyncGenerator<SourceRecord> {
  const parser = parse({
    delimiter: format === 'tsv' ? '\t' : await csvDelimiter(file),
    record_delimiter: '\n', // crlfToLf leaves only LF
    relax_column_count: true, // we report such records as bad rows rather than failing the file
    max_record_size: MAX_RECORD_CHARS,
    // No skip_empty_lines or info: blank lines come through as [''] and we count lines ourselves
    // (csv-parse's per-record info costs ~40% of the parse time).
  })
  pipeline(Readable.from(crlfToLf(readText(file, opts))), parser, () => {})
  let header: string[] | null = null
  let line = 1 // where the next record starts
  let index = 0
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      const location = `line ${line}`
      line += 1 + record.reduce((n, field) => n + countNewlines(field), 0)
      if (record.length === 1 && record[0] === '') continue
      if (header) yield toRecord(header, record, index++, location)
      else header = headerNames(file, record, location)
    }
  } catch (error) {
    throw error instanceof CsvError ? syntaxError(file, error, line) : error
  } finally {
    parser.destroy()
  }
}

/** Comma unless the header line says semicolon or pipe (spreadsheet exports in some locales). */
async function csvDelimiter(file: string): Promise<string> {
  const text = headText(await readHead(file))
  const newline = text.indexOf('\n')
  return sniffDelimiter(newline === -1 ? text : text.slice(0, newline), [',', ';', '|']) ?? ','
}

function headerNames(file: string, record: string[], location: string): string[] {
  const names = record.map((name, i) => name.trim() || `column_${i + 1}`)
  const duplicate = names.find((name, i) => names.indexOf(name) !== i)
  if (duplicate !== undefined) throw new FileFormatError(`the header names the column "${duplicate}" twice`, file, location)
  return names
}

function toRecord(header: string[], fields: string[], index: number, location: string): SourceRecord {
  if (fields.length !== header.length) {
    return problemRecord(index, location, `expected ${header.length} fields (as in the header), found ${fields.length}`)
  }
  return { index, location, value: Object.fromEntries(header.map((name, i) => [name, fields[i]])) }
}

/** `recordLine` is where the failing record starts: for an unclosed quote, a better pointer than EOF. */
function syntaxError(file: string, error: CsvError, recordLine: number): FileFormatError {
  const runaway = error.code === 'CSV_QUOTE_NOT_CLOSED' || error.code === 'CSV_MAX_RECORD_SIZE'
  const line = runaway ? recordLine : typeof error.lines === 'number' ? error.lines : undefined
  const reason = error.code === 'CSV_QUOTE_NOT_CLOSED'
    ? 'a quoted field that starts in this record is never closed (an unescaped " inside a field must be written as "")'
    : `CSV syntax error: ${error.message}`
  return new FileFormatError(reason, file, line === undefined ? undefined : `line ${line}`)
}
