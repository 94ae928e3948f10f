import type { EvalMetrics, RunDetail, RunMetrics, RunState, RunSummary, StepMetrics, TrainMethod, TrainSettings } from '../api/types'
import { now, type Db } from './db'

interface RunRecord {
  id: number
  name: string
  dataset_id: number | null
  dataset_name: string | null
  selection_id: number | null
  model_id: number | null
  base_model: string
  method: TrainMethod
  preset: string | null
  settings: string
  state: RunState
  out_dir: string
  step: number
  total_steps: number | null
  last_checkpoint: string | null
  final_dir: string | null
  error: string | null
  result_model_id: number | null
  created_at: string
  updated_at: string
}

const RUN_SQL = 'SELECT r.*, d.name AS dataset_name FROM runs r LEFT JOIN datasets d ON d.id = r.dataset_id'

function toSummary(r: RunRecord): RunSummary {
  return {
    id: r.id, name: r.name, datasetId: r.dataset_id, datasetName: r.dataset_name, selectionId: r.selection_id, modelId: r.model_id,
    baseModel: r.base_model, method: r.method, preset: r.preset, state: r.state, step: r.step, totalSteps: r.total_steps,
    lastCheckpoint: r.last_checkpoint, finalDir: r.final_dir, outDir: r.out_dir, error: r.error, createdAt: r.created_at,
    updatedAt: r.updated_at, resultModelId: r.result_model_id,
  }
}

export function listRuns(db: Db): RunSummary[] {
  return (db.prepare(`${RUN_SQL} ORDER BY r.id DESC`).all() as RunRecord[]).map(toSummary)
}

export function getRun(db: Db, id: number): RunDetail | undefined {
  const r = db.prepare(`${RUN_SQL} WHERE r.id = ?`).get(id) as RunRecord | undefined
  return r && { ...toSummary(r), settings: JSON.parse(r.settings) as TrainSettings }
}

export function insertRun(
  db: Db,
  r: { name: string; datasetId: number; selectionId: number | null; modelId: number; baseModel: string; method: TrainMethod; preset: string | null; settings: TrainSettings; outDir: (id: number) => string },
): number {
  return db.transaction(() => {
    const t = now()
    const id = Number(
      db.prepare(`INSERT INTO runs (name, dataset_id, selection_id, model_id, base_model, method, preset, settings, state, out_dir, created_at, updated_at)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', '', ?, ?)`)
        .run(r.name, r.datasetId, r.selectionId, r.modelId, r.baseModel, r.method, r.preset, JSON.stringify(r.settings), t, t).lastInsertRowid,
    )
    db.prepare('UPDATE runs SET out_dir = ? WHERE id = ?').run(r.outDir(id), id)
    return id
  })()
}

export function updateRun(
  db: Db,
  id: number,
  fields: Partial<{ state: RunState; step: number; totalSteps: number; lastCheckpoint: string; finalDir: string; error: string | null; resultModelId: number }>,
): void {
  const columns: Record<string, string> = {
    state: 'state', step: 'step', totalSteps: 'total_steps', lastCheckpoint: 'last_checkpoint', finalDir: 'final_dir', error: 'error', resultModelId: 'result_model_id',
  }
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined)
  if (entries.length === 0) return
  const set = entries.map(([k]) => `${columns[k]} = @${k}`).join(', ')
  db.prepare(`UPDATE runs SET ${set}, updated_at = @updatedAt WHERE id = @id`).run({ ...Object.fromEntries(entries), updatedAt: now(), id })
}

export function deleteRun(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM runs WHERE id = ?').run(id).changes > 0
}

export function recordMetrics(db: Db, runId: number, kind: 'train' | 'eval', step: number, data: StepMetrics | EvalMetrics): void {
  db.prepare('INSERT OR REPLACE INTO run_metrics (run_id, kind, step, data) VALUES (?, ?, ?, ?)').run(runId, kind, step, JSON.stringify(data))
}

/** A resumed run recomputes everything after its checkpoint: drop those points first. */
export function dropMetricsAfter(db: Db, runId: number, step: number): void {
  db.prepare('DELETE FROM run_metrics WHERE run_id = ? AND step > ?').run(runId, step)
}

export function runMetrics(db: Db, runId: number): RunMetrics {
  const rows = db.prepare('SELECT kind, data FROM run_metrics WHERE run_id = ? ORDER BY step').all(runId) as Array<{ kind: 'train' | 'eval'; data: string }>
  return {
    runId,
    train: rows.filter((r) => r.kind === 'train').map((r) => JSON.parse(r.data) as StepMetrics),
    eval: rows.filter((r) => r.kind === 'eval').map((r) => JSON.parse(r.data) as EvalMetrics),
  }
}

export function setRunOwner(db: Db, id: number, pid: number | null): void {
  db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(pid, id)
}

/** Runs left 'running' by a process that died (crash, kill -9, power loss): they can be resumed. */
export function markInterrupted(db: Db, isAlive: (pid: number) => boolean): number {
  const orphans = (db.prepare("SELECT id, owner_pid FROM runs WHERE state = 'running'").all() as Array<{ id: number; owner_pid: number | null }>)
    .filter((r) => r.owner_pid === null || !isAlive(r.owner_pid))
  for (const r of orphans) updateRun(db, r.id, { state: 'interrupted' })
  return orphans.length
}
