import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify'

/** Per-pair evaluation rows as CSV (header row first) or JSONL. */
export function exportEvalRows(rows: Array<Record<string, unknown>>, format: 'csv' | 'jsonl'): Readable {
  if (format === 'jsonl') return Readable.from(rows.map((r) => JSON.stringify(r) + '\n'))
  const columns = rows.length ? Object.keys(rows[0]) : ['pair_id']
  return Readable.from(rows).pipe(stringify({ header: true, columns }))
}
