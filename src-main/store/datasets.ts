import type { DatasetSummary, Shape, SourceFormat } from '../api/types'
import { now, type Db } from './db'

interface DatasetRecord {
  id: number
  name: string
  created_at: string
  updated_at: string
  source_name: string | null
  source_format: string | null
  shape: string | null
  pair_count: number
  sft_count: number
}

const SUMMARY_SQL = `
  SELECT d.*,
    (SELECT count(*) FROM pairs p WHERE p.dataset_id = d.id AND p.kind = 'pair') AS pair_count,
    (SELECT count(*) FROM pairs p WHERE p.dataset_id = d.id AND p.kind = 'sft')  AS sft_count
  FROM datasets d`

function toSummary(r: DatasetRecord): DatasetSummary {
  return {
    id: r.id,
    name: r.name,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    sourceName: r.source_name,
    sourceFormat: r.source_format as SourceFormat | null,
    shape: r.shape as Shape | null,
    pairCount: r.pair_count,
    sftCount: r.sft_count,
  }
}

export function listDatasets(db: Db): DatasetSummary[] {
  return (db.prepare(`${SUMMARY_SQL} ORDER BY d.name COLLATE NOCASE`).all() as DatasetRecord[]).map(toSummary)
}

export function getDataset(db: Db, id: number): DatasetSummary | undefined {
  const r = db.prepare(`${SUMMARY_SQL} WHERE d.id = ?`).get(id) as DatasetRecord | undefined
  return r && toSummary(r)
}

export function findDatasetByName(db: Db, name: string): DatasetSummary | undefined {
  const r = db.prepare(`${SUMMARY_SQL} WHERE d.name = ? COLLATE NOCASE`).get(name) as DatasetRecord | undefined
  return r && toSummary(r)
}

export function createDataset(
  db: Db,
  d: { name: string; sourceName: string | null; sourceFormat: SourceFormat | null; shape: Shape | null; mapping: Record<string, string> | null },
): number {
  const t = now()
  const info = db
    .prepare('INSERT INTO datasets (name, created_at, updated_at, source_name, source_format, shape, mapping) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(d.name, t, t, d.sourceName, d.sourceFormat, d.shape, d.mapping ? JSON.stringify(d.mapping) : null)
  return Number(info.lastInsertRowid)
}

export function touchDataset(db: Db, id: number): void {
  db.prepare('UPDATE datasets SET updated_at = ? WHERE id = ?').run(now(), id)
}

export function renameDataset(db: Db, id: number, name: string): void {
  db.prepare('UPDATE datasets SET name = ?, updated_at = ? WHERE id = ?').run(name, now(), id)
}

export function deleteDataset(db: Db, id: number): number {
  return db.transaction(() => {
    const pairs = db.prepare('DELETE FROM pairs WHERE dataset_id = ?').run(id).changes
    db.prepare('DELETE FROM datasets WHERE id = ?').run(id)
    return pairs
  })()
}
