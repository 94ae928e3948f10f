import type { EvalModelSummary, EvalReport } from '../api/types'
import { now, type Db } from './db'

export interface EvalRow {
  pair_id: number
  side: 'a' | 'b'
  logp_revised: number
  tokens_revised: number
  logp_original: number
  tokens_original: number
  answer_tokens: number | null
  answer: string | null
}

export function insertEval(
  db: Db,
  e: { modelA: number; modelB: number; nameA: string; nameB: string; datasetId: number; settings: object; summary: { a: EvalModelSummary; b: EvalModelSummary; pairs: number; split: string }; rows: EvalRow[] },
): number {
  return db.transaction(() => {
    const id = Number(
      db.prepare('INSERT INTO evals (model_a, model_b, name_a, name_b, dataset_id, settings, summary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(e.modelA, e.modelB, e.nameA, e.nameB, e.datasetId, JSON.stringify(e.settings), JSON.stringify(e.summary), now()).lastInsertRowid,
    )
    const insert = db.prepare(`INSERT INTO eval_rows (eval_id, pair_id, side, logp_revised, tokens_revised, logp_original, tokens_original, answer_tokens, answer)
                               VALUES (@eval_id, @pair_id, @side, @logp_revised, @tokens_revised, @logp_original, @tokens_original, @answer_tokens, @answer)`)
    for (const r of e.rows) insert.run({ eval_id: id, ...r })
    return id
  })()
}

interface EvalRecord {
  id: number
  dataset_id: number | null
  dataset_name: string | null
  summary: string
  created_at: string
}

function toReport(r: EvalRecord): EvalReport {
  const s = JSON.parse(r.summary) as { a: EvalModelSummary; b: EvalModelSummary; pairs: number; split: 'heldout' | 'all' }
  return { id: r.id, datasetId: r.dataset_id ?? 0, datasetName: r.dataset_name ?? '(deleted)', pairs: s.pairs, split: s.split, a: s.a, b: s.b, createdAt: r.created_at }
}

const EVAL_SQL = 'SELECT e.*, d.name AS dataset_name FROM evals e LEFT JOIN datasets d ON d.id = e.dataset_id'

export function listEvals(db: Db): EvalReport[] {
  return (db.prepare(`${EVAL_SQL} ORDER BY e.id DESC`).all() as EvalRecord[]).map(toReport)
}

export function getEval(db: Db, id: number): EvalReport | undefined {
  const r = db.prepare(`${EVAL_SQL} WHERE e.id = ?`).get(id) as EvalRecord | undefined
  return r && toReport(r)
}

/** Per-pair rows of both models side by side, in dataset order. */
export function evalRows(db: Db, id: number): Array<Record<string, unknown>> {
  return db
    .prepare(`
      SELECT a.pair_id, p.position + 1 AS row, p.instruction,
        a.logp_revised AS a_logp_revised, a.tokens_revised AS a_tokens_revised, a.logp_original AS a_logp_original, a.tokens_original AS a_tokens_original, a.answer_tokens AS a_answer_tokens, a.answer AS a_answer,
        b.logp_revised AS b_logp_revised, b.tokens_revised AS b_tokens_revised, b.logp_original AS b_logp_original, b.tokens_original AS b_tokens_original, b.answer_tokens AS b_answer_tokens, b.answer AS b_answer
      FROM eval_rows a JOIN eval_rows b ON b.eval_id = a.eval_id AND b.pair_id = a.pair_id AND b.side = 'b'
      LEFT JOIN pairs p ON p.id = a.pair_id
      WHERE a.eval_id = ? AND a.side = 'a' ORDER BY p.position`)
    .all(id) as Array<Record<string, unknown>>
}
