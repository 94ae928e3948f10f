// The training job inside a worker: reads the run and its examples from the store, trains
// (or resumes from the last checkpoint), and records every step, evaluation and checkpoint in
// SQLite as it goes, so a killed process loses at most the steps since its last checkpoint.
import type { BackendPreference, RunProgress } from '../api/types'
import { initBackend } from '../model'
import { openDb } from '../store/db'
import { dropMetricsAfter, getRun, recordMetrics, setRunOwner, updateRun } from '../store/runs'
import { Trainer } from '../train'
import { loadExamples } from './examples'
import { ApiError } from '../api/errors'
import { trainingParallelism } from './spawn-worker'
import type { TaskContext } from './tasks'

export interface TrainTaskArgs {
  dataDir: string
  runId: number
  resume: boolean
  preference: BackendPreference
}

export async function runTraining(args: TrainTaskArgs, ctx: TaskContext): Promise<{ state: 'done' | 'cancelled'; step: number }> {
  const db = openDb(args.dataDir)
  try {
    const run = getRun(db, args.runId)
    if (!run) throw new ApiError('not_found', `no run ${args.runId}`)
    setRunOwner(db, run.id, process.pid)
    updateRun(db, run.id, { state: 'running', error: null })
    const examples = loadExamples(db, run.datasetId, run.selectionId, run.method)
    // one engine per core (this one plus gradient helpers) when training runs on WASM
    const parallel = trainingParallelism()
    await initBackend(args.preference, { threads: parallel.threads })
    const progress = (p: Omit<RunProgress, 'runId'>) => ctx.emit('run.progress', { runId: run.id, ...p })
    progress({ state: 'running', step: run.step, totalSteps: run.totalSteps, etaMs: null, message: args.resume ? 'resuming' : 'loading the model' })

    const trainer =
      args.resume && run.lastCheckpoint
        ? await Trainer.resume({ checkpointDir: run.lastCheckpoint, examples, outDir: run.outDir, helpers: parallel.helpers })
        : await Trainer.start({ modelDir: run.baseModel, examples, settings: run.settings, outDir: run.outDir, helpers: parallel.helpers })
    const startStep = trainer.step
    dropMetricsAfter(db, run.id, startStep)
    const started = Date.now()
    let step = startStep
    let totalSteps = trainer.totalSteps
    updateRun(db, run.id, { step, totalSteps })
    try {
      const result = await trainer.run({
        signal: ctx.signal,
        onStep: (m) => {
          step = m.step
          totalSteps = m.totalSteps
          recordMetrics(db, run.id, 'train', m.step, m)
          updateRun(db, run.id, { step: m.step, totalSteps: m.totalSteps })
          const perStep = (Date.now() - started) / Math.max(1, m.step - startStep)
          // the first step says how the step was computed (the helpers start with it)
          const i = trainer.info
          const message = m.step === startStep + 1 ? `${i.backend}; ${engines(i.workers, parallel.threads)}${i.helperError ? ` (gradient helpers did not start: ${i.helperError})` : ''}` : undefined
          progress({ state: 'running', step: m.step, totalSteps: m.totalSteps, etaMs: perStep * (m.totalSteps - m.step), train: m, ...(message ? { message } : {}) })
        },
        onEval: (m) => {
          recordMetrics(db, run.id, 'eval', m.step, m)
          progress({ state: 'running', step, totalSteps, etaMs: null, eval: m })
        },
        onCheckpoint: (dir, at) => {
          updateRun(db, run.id, { lastCheckpoint: dir })
          progress({ state: 'running', step: at, totalSteps, etaMs: null, checkpoint: dir })
        },
      })
      const state = result.stoppedEarly ? 'cancelled' : 'done'
      updateRun(db, run.id, { state, step: result.steps, ...(result.stoppedEarly ? {} : { finalDir: result.finalDir }) })
      progress({ state, step: result.steps, totalSteps, etaMs: 0 })
      return { state, step: result.steps }
    } finally {
      trainer.dispose()
    }
  } finally {
    db.close()
  }
}

function engines(workers: number, threads: number): string {
  return workers > 1 ? `data parallel: ${workers} engines × ${threads} thread${threads === 1 ? '' : 's'} each` : 'one engine'
}
