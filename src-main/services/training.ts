// Training runs from the main thread: create a run, start or resume its worker, cancel it,
// and keep the run's state true when a worker fails or the process that ran it is gone.
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ApiError } from '../api/errors'
import type { RunSummary, TrainMethod, TrainSettings } from '../api/types'
import type { Db } from '../store/db'
import { getDataset } from '../store/datasets'
import { getModel } from '../store/models'
import { deleteRun, getRun, insertRun, listRuns, markInterrupted, setRunOwner, updateRun } from '../store/runs'
import { getSelection } from '../store/signals'
import { presetsFor } from '../train/settings'
import type { EventBus } from './events'
import type { JobManager } from './jobs'
import { backendPreference } from './models'

export interface StartRunRequest {
  datasetId: number
  selectionId?: number
  modelId: number
  method: TrainMethod
  preset?: string
  settings: Partial<TrainSettings>
  name?: string
}

export class Training {
  /** Which job trains which run, for cancel. */
  private readonly jobOfRun = new Map<number, string>()

  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
    private readonly jobs: JobManager,
    private readonly events: EventBus,
  ) {
    markInterrupted(db, isAlive)
  }

  presets(modelId: number, method: TrainMethod) {
    const model = getModel(this.db, modelId)
    if (!model) throw new ApiError('not_found', `no model with id ${modelId}`)
    return presetsFor(model.paramCount, method, familyOf(model.modelType))
  }

  start(r: StartRunRequest): RunSummary {
    const dataset = getDataset(this.db, r.datasetId)
    if (!dataset) throw new ApiError('not_found', `no dataset with id ${r.datasetId}`)
    const model = getModel(this.db, r.modelId)
    if (!model) throw new ApiError('not_found', `no model with id ${r.modelId}`)
    if (r.selectionId !== undefined && getSelection(this.db, r.selectionId)?.datasetId !== r.datasetId) {
      throw new ApiError('not_found', `dataset "${dataset.name}" has no selection with id ${r.selectionId}`)
    }
    if (r.method === 'figa' && dataset.pairCount === 0) throw new ApiError('invalid_argument', `"${dataset.name}" has no pairs: FIGA needs original and revised responses (SFT can use it)`)
    const { recommended, presets } = presetsFor(model.paramCount, r.method, familyOf(model.modelType))
    const presetName = r.preset ?? recommended
    const preset = presets.find((p) => p.name === presetName)
    if (!preset) throw new ApiError('invalid_argument', `no preset "${presetName}" (have: ${presets.map((p) => p.name).join(', ')})`)
    const settings: TrainSettings = { ...preset.settings, ...r.settings, method: r.method }
    const name = r.name ?? `${r.method.toUpperCase()} ${model.name} on ${dataset.name}`
    const id = insertRun(this.db, {
      name, datasetId: dataset.id, selectionId: r.selectionId ?? null, modelId: model.id, baseModel: model.path, method: r.method,
      preset: presetName, settings, outDir: (runId) => join(this.dataDir, 'runs', String(runId)),
    })
    this.launch(id, false)
    return this.summary(id)
  }

  resume(runId: number): RunSummary {
    const run = this.summary(runId)
    if (run.state === 'running') throw new ApiError('conflict', `run ${runId} is running already`)
    if (run.state === 'done') throw new ApiError('conflict', `run ${runId} has finished: start a new run to train further`)
    this.launch(runId, run.lastCheckpoint !== null)
    return this.summary(runId)
  }

  cancel(runId: number): RunSummary {
    const jobId = this.jobOfRun.get(runId)
    if (!jobId || !this.jobs.cancel(jobId)) throw new ApiError('conflict', `run ${runId} is not running in this app`)
    return this.summary(runId)
  }

  list(): RunSummary[] {
    return listRuns(this.db)
  }

  remove(runId: number, deleteFiles: boolean): boolean {
    const run = this.summary(runId)
    if (run.state === 'running') throw new ApiError('conflict', 'cancel the run before deleting it')
    if (deleteFiles && existsSync(run.outDir)) rmSync(run.outDir, { recursive: true, force: true })
    const deleted = deleteRun(this.db, runId)
    this.events.emit('runs.changed', {})
    return deleted
  }

  /** Waits for a run's worker (CLI). */
  wait(runId: number): Promise<unknown> {
    const jobId = this.jobOfRun.get(runId)
    return jobId ? this.jobs.wait(jobId) : Promise.resolve(null)
  }

  summary(runId: number): RunSummary {
    const run = getRun(this.db, runId)
    if (!run) throw new ApiError('not_found', `no run with id ${runId}`)
    const { settings: _settings, ...summary } = run
    return summary
  }

  private launch(runId: number, resume: boolean): void {
    updateRun(this.db, runId, { state: 'running', error: null })
    setRunOwner(this.db, runId, process.pid)
    const run = this.summary(runId)
    const { jobId, finished } = this.jobs.start('runs.start', `Train: ${run.name}`, 'train', {
      dataDir: this.dataDir, runId, resume, preference: backendPreference(this.db),
    })
    this.jobOfRun.set(runId, jobId)
    this.events.emit('runs.changed', {})
    finished
      .catch((error: ApiError) => {
        // The worker could not record its own end (it failed or was cancelled before training).
        const state = error.code === 'cancelled' ? 'cancelled' : 'failed'
        if (getRun(this.db, runId)?.state === 'running') updateRun(this.db, runId, { state, error: state === 'failed' ? error.message : null })
        this.events.emit('run.progress', { runId, state, step: this.summary(runId).step, totalSteps: run.totalSteps, etaMs: null, message: error.message })
      })
      .finally(() => {
        this.jobOfRun.delete(runId)
        setRunOwner(this.db, runId, null)
        this.events.emit('runs.changed', {})
      })
  }
}

/** LoRA targets and presets differ between GPT-2 (fused c_attn) and the Llama family. */
function familyOf(modelType: string): 'gpt2' | 'llama' {
  return modelType === 'gpt2' ? 'gpt2' : 'llama'
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false // this process just started: nothing of ours runs yet
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
