// Data parallelism: a Trainer with gradient helper workers (real worker threads, each with its own
// WASM engine) trains like one without them — the same losses and weights up to the order of float
// additions — resumes exactly with them, cancels, and stops its workers on dispose.

import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import { spawnWorker } from '../../../src-main/services/spawn-worker'
import { shareOf } from '../../../src-main/train/gradient-helpers'
import type { TrainSettings } from '../../../src-main/train/settings'
import { type StepMetrics, Trainer } from '../../../src-main/train/trainer'
import { syntheticExamples, tinyModelDir, maxWeightDiff, weightsOf, testFolders } from './helpers'

let llama: string
const folders = testFolders()

beforeAll(async () => {
  await initBackend()
  llama = await tinyModelDir('llama', 5, true, 3)
  folders.keep(path.dirname(llama))
})
afterAll(() => folders.removeAll())
const out = (tag: string) => folders.out(tag)

const examples = syntheticExamples(14, 21)
const settings: Partial<TrainSettings> = { microBatch: 2, accumulation: 3, heldOut: 0.15, lr: 3e-3, maxSteps: 4, evalEvery: 0, checkpointEvery: 0, tau: null, seed: 9, schedule: 'cosine', warmupSteps: 1 }
const helpers = (count: number) => ({ count, spawn: () => spawnWorker('gradients') })

/** A whole run (start, run, dispose): its step metrics, final folder and engine count. */
async function trainRun(tag: string, s: Partial<TrainSettings>, h?: ReturnType<typeof helpers>) {
  const t = await Trainer.start({ modelDir: llama, examples, outDir: out(tag), settings: s, helpers: h })
  const steps: StepMetrics[] = []
  try {
    const r = await t.run({ onStep: (m) => steps.push(m) })
    return { steps, finalDir: r.finalDir, workers: t.info.workers }
  } finally {
    t.dispose()
  }
}

describe('gradient helpers (data parallelism over worker threads)', () => {
  it('deal pairs round-robin, worker 0 being the trainer', () => {
    expect(shareOf([0, 1, 2, 3, 4], 0, 2)).toEqual([0, 2, 4])
    expect(shareOf([0, 1, 2, 3, 4], 1, 2)).toEqual([1, 3])
    expect(shareOf([0], 1, 2)).toEqual([])
  })

  it('train like a single engine: same losses and final weights (float summation order aside)', async () => {
    const one = await trainRun('single', settings)
    const two = await trainRun('dp', settings, helpers(2))
    expect(one.workers).toBe(1)
    expect(two.workers).toBe(3)
    expect(two.steps.map((m) => m.step)).toEqual([1, 2, 3, 4])
    two.steps.forEach((m, i) => {
      expect(Math.abs(m.loss - one.steps[i].loss), `step ${i + 1}`).toBeLessThan(1e-5)
      expect(m.weightedTokens).toBe(one.steps[i].weightedTokens)
    })
    expect(maxWeightDiff(await weightsOf(one.finalDir), await weightsOf(two.finalDir))).toBeLessThan(1e-5)
  }, 120_000)

  it('resume with helpers continues exactly; a cancelled step changes nothing', async () => {
    const a = await Trainer.start({ modelDir: llama, examples, outDir: out('dp-straight'), settings, helpers: helpers(1) })
    const lossesA: number[] = []
    const ra = await a.run({ onStep: (m) => lossesA.push(m.loss) })
    a.dispose()
    const o = out('dp-resumed')
    const b = await Trainer.start({ modelDir: llama, examples, outDir: o, settings, helpers: helpers(1) })
    const lossesB: number[] = []
    for (let i = 0; i < 2; i++) lossesB.push((await b.trainStep())!.loss)
    // cancelled before it starts: no step, nothing changed
    const ac = new AbortController()
    ac.abort()
    expect(await b.trainStep(ac.signal)).toBeNull()
    expect(b.step).toBe(2)
    await b.saveCheckpoint(path.join(o, 'checkpoint-2'))
    b.dispose()
    const c = await Trainer.resume({ checkpointDir: path.join(o, 'checkpoint-2'), examples, helpers: helpers(1) })
    const rc = await c.run({ onStep: (m) => lossesB.push(m.loss) })
    c.dispose()
    lossesA.forEach((l, i) => expect(Math.abs(lossesB[i] - l)).toBeLessThan(1e-5))
    expect(maxWeightDiff(await weightsOf(ra.finalDir), await weightsOf(rc.finalDir))).toBeLessThan(1e-5)
  }, 120_000)

  it('train LoRA adapters like a single engine too', async () => {
    const lora = { ...settings, lora: { rank: 2, alpha: 4, targets: ['q_proj', 'v_proj'] } }
    const one = await trainRun('lora', lora)
    const two = await trainRun('dp-lora', lora, helpers(1))
    expect(two.workers).toBe(2)
    two.steps.forEach((m, i) => expect(Math.abs(m.loss - one.steps[i].loss), `step ${i + 1}`).toBeLessThan(1e-5))
    expect(maxWeightDiff(await weightsOf(one.finalDir), await weightsOf(two.finalDir))).toBeLessThan(1e-5)
    // the adapters did train
    expect(maxWeightDiff(await weightsOf(one.finalDir), await weightsOf(llama))).toBeGreaterThan(1e-5)
  }, 120_000)

  it('are not started for a step of one pair', async () => {
    const t = await Trainer.start({ modelDir: llama, examples, outDir: out('dp-none'), settings: { ...settings, microBatch: 1, accumulation: 1, maxSteps: 1 }, helpers: helpers(1) })
    try {
      await t.trainStep()
      expect(t.info.workers).toBe(1)
    } finally {
      t.dispose()
    }
  }, 60_000)

  it('that fail to start leave the run on one engine, saying why', async () => {
    const broken = { count: 1, spawn: () => new Worker('throw new Error("no engine here")', { eval: true }) }
    const t = await Trainer.start({ modelDir: llama, examples, outDir: out('dp-broken'), settings: { ...settings, maxSteps: 1 }, helpers: broken })
    try {
      expect(await t.trainStep()).not.toBeNull()
      expect(t.info.workers).toBe(1)
      expect(t.info.helperError).toMatch(/no engine here/)
    } finally {
      t.dispose()
    }
  }, 60_000)
})
