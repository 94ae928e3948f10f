import type { Message, NormalizedRow, PairPage, PairRow } from '../api/types'
import { now, type Db } from './db'

interface PairRecord {
  id: number
  dataset_id: number
  position: number
  kind: 'pair' | 'sft'
  system: string | null
  instruction: string
  input: string
  history: string | null
  original: string | null
  revised: string
  reference: string | null
  content_hash: string
  source_location: string | null
  edited_at: string | null
}

export function toPairRow(r: PairRecord): PairRow {
  return {
    id: r.id,
    datasetId: r.dataset_id,
    position: r.position,
    kind: r.kind,
    system: r.system,
    instruction: r.instruction,
    input: r.input,
    history: r.history === null ? null : (JSON.parse(r.history) as Message[]),
    original: r.original,
    revised: r.revised,
    reference: r.reference,
    contentHash: r.content_hash,
    sourceLocation: r.source_location,
    editedAt: r.edited_at,
  }
}

export function toNormalizedRow(p: PairRow): NormalizedRow {
  return {
    kind: p.kind,
    system: p.system,
    instruction: p.instruction,
    input: p.input,
    history: p.history,
    original: p.original,
    revised: p.revised,
    reference: p.reference,
  }
}

/** Prepared statements for a bulk insert into one dataset (used inside the import transaction). */
export function pairInserter(db: Db, datasetId: number) {
  const insert = db.prepare(`
    INSERT INTO pairs (dataset_id, position, kind, system, instruction, input, history, original, revised, reference, content_hash, source_location)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const byHash = db.prepare('SELECT source_location FROM pairs WHERE dataset_id = ? AND content_hash = ? LIMIT 1').pluck()
  const maxPosition = db.prepare('SELECT coalesce(max(position), -1) FROM pairs WHERE dataset_id = ?').pluck()
  let position = (maxPosition.get(datasetId) as number) + 1
  return {
    /** The source location of an earlier row with this hash in the dataset, if any. */
    findDuplicate(hash: string): string | null | undefined {
      return byHash.get(datasetId, hash) as string | null | undefined
    },
    /** Inserts the row and returns its id. */
    insert(row: NormalizedRow, hash: string, location: string): number {
      return Number(insert.run(
        datasetId, position++, row.kind, row.system, row.instruction, row.input,
        row.history === null ? null : JSON.stringify(row.history),
        row.original, row.revised, row.reference, hash, location,
      ).lastInsertRowid)
    },
  }
}

export function listPairs(
  db: Db,
  q: { datasetId: number; offset: number; limit: number; search?: string; kind?: 'pair' | 'sft' },
): PairPage {
  const where = ['dataset_id = @datasetId']
  const params: Record<string, unknown> = { datasetId: q.datasetId, limit: q.limit, offset: q.offset }
  if (q.kind) {
    where.push('kind = @kind')
    params.kind = q.kind
  }
  const search = q.search?.trim()
  if (search) {
    // instr() on lower() is a plain substring match: no LIKE wildcards to escape.
    where.push('(instr(lower(instruction), @s) OR instr(lower(input), @s) OR instr(lower(coalesce(original, \'\')), @s) OR instr(lower(revised), @s))')
    params.s = search.toLowerCase()
  }
  const clause = where.join(' AND ')
  const total = db.prepare(`SELECT count(*) FROM pairs WHERE ${clause}`).pluck().get(params) as number
  const rows = db
    .prepare(`SELECT * FROM pairs WHERE ${clause} ORDER BY position LIMIT @limit OFFSET @offset`)
    .all(params) as PairRecord[]
  return { total, offset: q.offset, rows: rows.map(toPairRow) }
}

export function getPair(db: Db, id: number): PairRow | undefined {
  const r = db.prepare('SELECT * FROM pairs WHERE id = ?').get(id) as PairRecord | undefined
  return r && toPairRow(r)
}

export function updatePair(db: Db, id: number, row: NormalizedRow, hash: string): void {
  db.prepare(`
    UPDATE pairs SET instruction = ?, input = ?, original = ?, revised = ?, content_hash = ?, edited_at = ?
    WHERE id = ?`).run(row.instruction, row.input, row.original, row.revised, hash, now(), id)
}

/** The next `limit` rows after `afterPosition`, in order (keyset paging for export and scans). */
export function pairsAfter(db: Db, datasetId: number, afterPosition: number, limit: number): PairRow[] {
  const rows = db
    .prepare('SELECT * FROM pairs WHERE dataset_id = ? AND position > ? ORDER BY position LIMIT ?')
    .all(datasetId, afterPosition, limit) as PairRecord[]
  return rows.map(toPairRow)
}
