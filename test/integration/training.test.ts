// Training runs at the service level, on the tiny demo model: a run records its steps,
// evaluations and checkpoints in SQLite and ends in a model folder the app loads; a cancelled
// run resumes exactly where it stopped; a killed process leaves an intact database and
// checkpoint, and its run resumes to the same curve as an uninterrupted one.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport, ModelSummary, RunMetrics, RunSummary } from '../../src-main/api/types'
import { createServices, type Services } from '../../src-main/services'
import { openDb } from '../../src-main/store/db'
import { tempDir } from '../helpers/temp'

const root = join(import.meta.dirname, '..', '..')
const ctx = { host: 'cli' as const }
const t = tempDir('figa-train-')
const dataDir = join(t.dir, 'data')
let services: Services
let datasetId: number
let model: ModelSummary

const settings = { maxSteps: 8, evalEvery: 4, checkpointEvery: 4, microBatch: 2, accumulation: 1, heldOut: 0.2, seed: 3 }

beforeAll(async () => {
  services = await createServices({ dataDir })
  const fileId = services.files.registerPath(join(root, 'test', 'fixtures', 'train', 'tiny-pairs.jsonl')).fileId
  datasetId = ((await services.runJob('datasets.import', { fileId, name: 'tiny' }, ctx)) as ImportReport).datasetId!
  model = (await services.call('models.add', { path: join(root, 'resources', 'demo-model') }, ctx)) as ModelSummary
})
afterAll(async () => {
  await services?.close()
  t.cleanup()
})

async function runToEnd(extra: Record<string, unknown> = {}): Promise<RunSummary> {
  const run = (await services.call('runs.start', { datasetId, modelId: model.id, settings: { ...settings, ...extra } }, ctx)) as RunSummary
  await services.training.wait(run.id).catch(() => {})
  return (await services.call('runs.get', { runId: run.id }, ctx)) as RunSummary
}

const metricsOf = async (runId: number) => ((await services.call('runs.metrics', { runIds: [runId] }, ctx)) as RunMetrics[])[0]

let reference: RunMetrics

describe('training runs', () => {
  it('offers presets fitted to the model size', async () => {
    const presets = (await services.call('train.presets', { modelId: model.id }, ctx)) as { recommended: string; presets: Array<{ name: string }> }
    expect(presets.presets.map((p) => p.name)).toContain(presets.recommended)
  })

  it('trains in a worker, records every step and evaluation, and ends in a model the app loads', async () => {
    const run = await runToEnd()
    expect(run).toMatchObject({ state: 'done', step: 8, totalSteps: 8, method: 'figa' })
    expect(run.finalDir && existsSync(join(run.finalDir, 'model.safetensors'))).toBe(true)
    reference = await metricsOf(run.id)
    expect(reference.train.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(reference.eval.map((m) => m.step)).toEqual([4, 8])
    for (const m of reference.train) {
      expect(Number.isFinite(m.loss)).toBe(true)
      expect(m.lossNegative).toBeGreaterThanOrEqual(0)
      expect(m.loss).toBeCloseTo(m.lossPositive - m.lossNegative, 5)
    }
    const added = (await services.call('runs.addModel', { runId: run.id }, ctx)) as ModelSummary
    expect(added).toMatchObject({ architecture: 'LlamaForCausalLM', paramCount: model.paramCount })
    const inspection = await services.call('models.inspect', { path: run.finalDir! }, ctx)
    expect(inspection).toMatchObject({ ok: true })
  })

  it('cancels a run and resumes it to the same curve as an uninterrupted run', async () => {
    const run = (await services.call('runs.start', { datasetId, modelId: model.id, settings }, ctx)) as RunSummary
    await new Promise<void>((resolve) => {
      const off = services.events.on('run.progress', (p) => {
        if (p.runId === run.id && p.train && p.train.step >= 5) {
          off()
          void services.call('runs.cancel', { runId: run.id }, ctx)
          resolve()
        }
      })
    })
    await services.training.wait(run.id).catch(() => {})
    const stopped = (await services.call('runs.get', { runId: run.id }, ctx)) as RunSummary
    expect(stopped.state).toBe('cancelled')
    expect(stopped.lastCheckpoint).not.toBeNull()

    await services.call('runs.resume', { runId: run.id }, ctx)
    await services.training.wait(run.id).catch(() => {})
    const finished = (await services.call('runs.get', { runId: run.id }, ctx)) as RunSummary
    expect(finished).toMatchObject({ state: 'done', step: 8 })
    const resumed = await metricsOf(run.id)
    expect(resumed.train.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    resumed.train.forEach((m, i) => expect(m.loss).toBeCloseTo(reference.train[i].loss, 5))
    resumed.eval.forEach((m, i) => expect(m.marginPerToken).toBeCloseTo(reference.eval[i].marginPerToken, 5))
  })

  it('survives kill -9: the database and the last checkpoint are intact and the run resumes to the same curve', async () => {
    await services.close()
    const child = spawn(process.execPath, [
      join(root, 'bin', 'figa.js'), '--data-dir', dataDir, 'train', '--dataset', 'tiny', '--model', 'demo-model', '--settings', JSON.stringify(settings),
    ], { stdio: 'ignore' })
    // Kill it once it has written a checkpoint and gone past it.
    const db = openDb(dataDir)
    try {
      const progress = () => db.prepare("SELECT step, last_checkpoint FROM runs WHERE state = 'running' ORDER BY id DESC LIMIT 1").get() as { step: number; last_checkpoint: string | null } | undefined
      await expect.poll(() => { const p = progress(); return !!p && p.step >= 5 && p.last_checkpoint !== null }, { timeout: 60_000, interval: 10 }).toBe(true)
      child.kill('SIGKILL')
      await new Promise((r) => child.on('exit', r))
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    } finally {
      db.close()
    }

    services = await createServices({ dataDir })
    const killed = ((await services.call('runs.list', {}, ctx)) as RunSummary[])[0]
    expect(killed.state).toBe('interrupted')
    const inspection = await services.call('models.inspect', { path: killed.lastCheckpoint! }, ctx)
    expect(inspection).toMatchObject({ ok: true })

    await services.call('runs.resume', { runId: killed.id }, ctx)
    await services.training.wait(killed.id).catch(() => {})
    expect(((await services.call('runs.get', { runId: killed.id }, ctx)) as RunSummary).state).toBe('done')
    const resumed = await metricsOf(killed.id)
    expect(resumed.train.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    resumed.train.forEach((m, i) => expect(m.loss).toBeCloseTo(reference.train[i].loss, 5))
  })
})
