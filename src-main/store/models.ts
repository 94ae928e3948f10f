import type { ModelSummary } from '../api/types'
import { now, type Db } from './db'

interface ModelRecord {
  id: number
  name: string
  path: string
  architecture: string
  model_type: string
  param_count: number
  dtype: string
  size_bytes: number
  chat_template: number
  added_at: string
}

function toSummary(r: ModelRecord): ModelSummary {
  return {
    id: r.id, name: r.name, path: r.path, architecture: r.architecture, modelType: r.model_type, paramCount: r.param_count,
    dtype: r.dtype, sizeBytes: r.size_bytes, hasChatTemplate: r.chat_template === 1, addedAt: r.added_at,
  }
}

export function listModels(db: Db): ModelSummary[] {
  return (db.prepare('SELECT * FROM models ORDER BY name COLLATE NOCASE').all() as ModelRecord[]).map(toSummary)
}

export function getModel(db: Db, id: number): ModelSummary | undefined {
  const r = db.prepare('SELECT * FROM models WHERE id = ?').get(id) as ModelRecord | undefined
  return r && toSummary(r)
}

export function findModel(db: Db, by: { name?: string; path?: string }): ModelSummary | undefined {
  const r = (by.path !== undefined
    ? db.prepare('SELECT * FROM models WHERE path = ?').get(by.path)
    : db.prepare('SELECT * FROM models WHERE name = ? COLLATE NOCASE').get(by.name)) as ModelRecord | undefined
  return r && toSummary(r)
}

export function insertModel(db: Db, m: Omit<ModelSummary, 'id' | 'addedAt'>): number {
  return Number(
    db.prepare(`INSERT INTO models (name, path, architecture, model_type, param_count, dtype, size_bytes, chat_template, added_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(m.name, m.path, m.architecture, m.modelType, m.paramCount, m.dtype, m.sizeBytes, m.hasChatTemplate ? 1 : 0, now()).lastInsertRowid,
  )
}

export function deleteModel(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM models WHERE id = ?').run(id).changes > 0
}
