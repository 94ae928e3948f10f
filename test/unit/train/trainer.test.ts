// The Trainer on tiny random models: the gradient's sign, exact resume (losses and weights equal to
// an uninterrupted run), checkpoint layout, cancellation, evaluation, dataset checks, no leaks.

import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import { loadModel } from '../../../src-main/model/model'
import { SafetensorsReader } from '../../../src-main/model/safetensors'
import { batchLoss, headWeight, planBatch } from '../../../src-main/train/batch'
import { readState } from '../../../src-main/train/checkpoint'
import type { TrainExample } from '../../../src-main/train/data'
import { type TrainSettings } from '../../../src-main/train/settings'
import { type StepMetrics, Trainer } from '../../../src-main/train/trainer'
import { syntheticExamples, tinyModelDir, wordTokenizer, maxWeightDiff, weightsOf, testFolders } from './helpers'

let llama: string
let gpt2: string
const folders = testFolders()

beforeAll(async () => {
  await initBackend()
  llama = await tinyModelDir('llama', 5, true, 3)
  gpt2 = await tinyModelDir('gpt2', 6, false, 3)
  folders.keep(path.dirname(llama))
  folders.keep(path.dirname(gpt2))
})
afterAll(() => folders.removeAll())
const out = (tag: string) => folders.out(tag)

const examples = syntheticExamples(14, 21)
const base: Partial<TrainSettings> = { microBatch: 2, accumulation: 2, heldOut: 0.15, lr: 3e-3, maxSteps: 6, evalEvery: 0, checkpointEvery: 0, tau: null, seed: 9 }

describe('the gradient of the FIGA loss', () => {
  it('one Adam step lowers the CE of rewarded tokens and raises the CE of penalised ones', async () => {
    // one token per word: y and ŷ differ in one substituted token (and ŷ's EOS is rewarded)
    const pair: TrainExample[] = [{ id: 1, prompt: 'what colour is the sky ?', original: 'the sky is green today', revised: 'the sky is blue today' }]
    const t = await Trainer.start({
      modelDir: llama,
      examples: pair,
      tokenizer: wordTokenizer(),
      outDir: out('sign'),
      settings: { ...base, heldOut: 0, microBatch: 1, accumulation: 1, lr: 1e-3, maxSteps: 1 },
    })
    try {
      const pp = (t as unknown as { train: Parameters<typeof planBatch>[0] }).train
      expect(pp[0].revised.weights.filter((w) => w !== 0).length).toBe(2) // blue, EOS
      expect(pp[0].original!.weights.filter((w) => w !== 0).length).toBe(1) // green
      const plan = planBatch(pp, { method: 'figa', sharedPrefix: true, select: 'sparse', padId: 0 })
      const ceOf = () => {
        let ce: Float64Array<ArrayBufferLike>[] = []
        tf.tidy(() => {
          ce = batchLoss({ model: t.model, head: headWeight(t.model) as unknown as tf.Tensor2D, plan, weigh: (_g, c) => new Float64Array(c.length), trainHead: false }).ce
        })
        const mean = (bad: boolean) => {
          let s = 0
          let n = 0
          plan.groups.forEach((g, gi) =>
            ce[gi].forEach((c, i) => {
              if (!!g.sel.isOriginal[i] === bad) {
                s += c
                n++
              }
            }),
          )
          return s / n
        }
        return { rewarded: mean(false), penalised: mean(true) }
      }
      const before = ceOf()
      const m = (await t.trainStep())!
      expect(m.lossNegative).toBeGreaterThan(0)
      const after = ceOf()
      expect(after.rewarded).toBeLessThan(before.rewarded)
      expect(after.penalised).toBeGreaterThan(before.penalised)
    } finally {
      t.dispose()
    }
  })
})

describe.each([
  ['full fine-tuning, llama', () => llama, null],
  ['LoRA q_proj/v_proj, llama', () => llama, { rank: 4, alpha: 8, targets: ['q_proj', 'v_proj'] }],
  ['full fine-tuning, gpt2 (untied head)', () => gpt2, null],
  ['LoRA c_attn, gpt2', () => gpt2, { rank: 2, alpha: 4, targets: ['c_attn'] }],
] as const)('resume: %s', (_label, modelDir, lora) => {
  it('6 steps straight = 3 steps, checkpoint, dispose, resume, 3 steps (losses and weights within 1e-5)', async () => {
    const settings = { ...base, lora: lora ? { ...lora, targets: [...lora.targets] } : null, schedule: 'cosine' as const, warmupSteps: 2, weightDecay: 0.01 }
    // uninterrupted
    const o1 = out('straight')
    const a = await Trainer.start({ modelDir: modelDir(), examples, outDir: o1, settings })
    expect(a.info.trainPairs).toBe(12) // 3 steps per epoch: the resume point is an epoch boundary
    const lossesA: StepMetrics[] = []
    const ra = await a.run({ onStep: (m) => lossesA.push(m) })
    a.dispose()
    expect(ra).toMatchObject({ steps: 6, stoppedEarly: false })
    // interrupted
    const o2 = out('resumed')
    const b = await Trainer.start({ modelDir: modelDir(), examples, outDir: o2, settings })
    const lossesB: StepMetrics[] = []
    for (let i = 0; i < 3; i++) lossesB.push((await b.trainStep())!)
    const ck = path.join(o2, 'checkpoint-3')
    await b.saveCheckpoint(ck)
    b.dispose()
    const c = await Trainer.resume({ checkpointDir: ck, examples: [...examples].reverse() })
    expect(c.step).toBe(3)
    expect(c.totalSteps).toBe(6)
    const rc = await c.run({ onStep: (m) => lossesB.push(m) })
    c.dispose()
    expect(rc).toMatchObject({ steps: 6, stoppedEarly: false, finalDir: path.join(o2, 'final') })
    expect(lossesB.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6])
    lossesA.forEach((m, i) => {
      expect(Math.abs(lossesB[i].loss - m.loss)).toBeLessThan(1e-5)
      expect(Math.abs(lossesB[i].lossNegative - m.lossNegative)).toBeLessThan(1e-5)
      expect(lossesB[i].lr).toBe(m.lr)
    })
    expect(new Set(lossesA.map((m) => m.loss.toFixed(6))).size).toBeGreaterThan(3)
    expect(maxWeightDiff(await weightsOf(ra.finalDir), await weightsOf(rc.finalDir))).toBeLessThan(1e-5)
    // the weights did change
    expect(maxWeightDiff(await weightsOf(ra.finalDir), await weightsOf(modelDir()))).toBeGreaterThan(1e-4)
  })
})

describe('checkpoints, cancellation, evaluation', () => {
  it('writes a loadable HF folder with the trainer state, optimizer moments and (LoRA) adapters', async () => {
    const o = out('layout')
    const t = await Trainer.start({ modelDir: llama, examples, outDir: o, settings: { ...base, lora: { rank: 2, alpha: 2, targets: ['q_proj'] }, maxSteps: 4, checkpointEvery: 2, keepCheckpoints: 1 } })
    const cks: [string, number][] = []
    await t.run({ onCheckpoint: (d, s) => cks.push([d, s]) })
    t.dispose()
    expect(cks.map((c) => c[1])).toEqual([2])
    const ck = cks[0][0]
    const files = fs.readdirSync(ck).sort()
    expect(files).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'trainer_state.json', 'optimizer.safetensors', 'lora.safetensors']))
    expect(fs.readdirSync(o).filter((f) => !f.startsWith('.')).sort()).toEqual(['checkpoint-2', 'final'])
    const st = await readState(ck)
    expect(st).toMatchObject({ step: 2, totalSteps: 4, resumable: true, optimizerStep: 2, epoch: 0 })
    expect(st.order.length).toBe(12)
    expect(st.rng.length).toBe(4)
    const opt = await SafetensorsReader.open(path.join(ck, 'optimizer.safetensors'))
    expect(opt.names().sort()).toEqual(['model.layers.0.self_attn.q_proj.weight.lora_A.exp_avg', 'model.layers.0.self_attn.q_proj.weight.lora_A.exp_avg_sq', 'model.layers.0.self_attn.q_proj.weight.lora_B.exp_avg', 'model.layers.0.self_attn.q_proj.weight.lora_B.exp_avg_sq', 'model.layers.1.self_attn.q_proj.weight.lora_A.exp_avg', 'model.layers.1.self_attn.q_proj.weight.lora_A.exp_avg_sq', 'model.layers.1.self_attn.q_proj.weight.lora_B.exp_avg', 'model.layers.1.self_attn.q_proj.weight.lora_B.exp_avg_sq'].sort())
    await opt.close()
    const m = await loadModel(ck)
    m.dispose()
    const fin = await readState(path.join(o, 'final'))
    expect(fin.resumable).toBe(false)
    expect(fs.existsSync(path.join(o, 'final', 'optimizer.safetensors'))).toBe(false)
    await expect(Trainer.resume({ checkpointDir: path.join(o, 'final'), examples })).rejects.toThrow(/cannot be resumed/)
  })

  it('LoRA changes only the target weights, and final/ holds them merged', async () => {
    const o = out('lora-only')
    const t = await Trainer.start({ modelDir: llama, examples, outDir: o, settings: { ...base, lora: { rank: 2, alpha: 4, targets: ['v_proj'] }, maxSteps: 2 } })
    const r = await t.run()
    // in-memory logits = logits of the saved merged model
    const ids = [[5, 17, 99, 3, 200, 7]]
    const live = t.model.forward(ids)
    t.dispose()
    const before = await weightsOf(llama)
    const after = await weightsOf(r.finalDir)
    for (const [k, x] of before) {
      const y = after.get(k)!
      let d = 0
      for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]))
      if (k.includes('v_proj')) expect(d, k).toBeGreaterThan(0)
      else expect(d, k).toBe(0)
    }
    const m = await loadModel(r.finalDir)
    const saved = m.forward(ids)
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(live, saved))).dataSync()[0])).toBeLessThan(1e-5)
    tf.dispose([live, saved])
    m.dispose()
  })

  it('cancels between steps, leaves a checkpoint there, and resumes to the same end', async () => {
    const o = out('cancel')
    const ac = new AbortController()
    const t = await Trainer.start({ modelDir: llama, examples, outDir: o, settings: { ...base, checkpointEvery: 4 } })
    const steps: number[] = []
    const r = await t.run({ signal: ac.signal, onStep: (m) => (steps.push(m.step), m.step === 2 && ac.abort()) })
    t.dispose()
    expect(r).toMatchObject({ stoppedEarly: true, steps: 2, finalDir: path.join(o, 'checkpoint-2') })
    expect(steps).toEqual([2].length ? [1, 2] : [])
    const c = await Trainer.resume({ checkpointDir: r.finalDir, examples })
    const more: number[] = []
    const r2 = await c.run({ onStep: (m) => more.push(m.step) })
    c.dispose()
    expect(more).toEqual([3, 4, 5, 6])
    expect(r2.stoppedEarly).toBe(false)
  })

  it('evaluates the held-out pairs: margin per token and perplexities', async () => {
    const o = out('eval')
    const t = await Trainer.start({ modelDir: llama, examples, outDir: o, settings: { ...base, maxSteps: 4, evalEvery: 2 } })
    const evals: { step: number; marginPerToken: number; pplRevised: number; pplOriginal: number; pairs: number }[] = []
    await t.run({ onEval: (m) => evals.push(m) })
    expect(evals.map((e) => e.step)).toEqual([2, 4])
    for (const e of evals) {
      expect(e.pairs).toBe(2)
      expect(Number.isFinite(e.marginPerToken)).toBe(true)
      expect(e.pplRevised).toBeGreaterThan(1)
      expect(e.pplOriginal).toBeGreaterThan(1)
    }
    // training on FIGA pushes the margin up (same pairs seen before: the held-out ones are similar)
    const again = t.evaluate()
    expect(again).toEqual(evals[1])
    t.dispose()
  })

  it('refuses to resume on a different dataset, with a clear message', async () => {
    const o = out('hash')
    const t = await Trainer.start({ modelDir: llama, examples, outDir: o, settings: { ...base, maxSteps: 1 } })
    await t.trainStep()
    await t.saveCheckpoint(path.join(o, 'checkpoint-1'))
    t.dispose()
    const other = examples.map((e, i) => (i === 0 ? { ...e, revised: e.revised + ' more' } : e))
    await expect(Trainer.resume({ checkpointDir: path.join(o, 'checkpoint-1'), examples: other })).rejects.toThrow(/different dataset/)
  })

  it('SFT trains on ŷ alone, SFT rows included', async () => {
    const o = out('sft')
    const t = await Trainer.start({ modelDir: llama, examples: syntheticExamples(10, 4, { sft: 3 }), outDir: o, settings: { ...base, method: 'sft', heldOut: 0, maxSteps: 2 } })
    expect(t.info.trainPairs).toBe(10)
    const ms: StepMetrics[] = []
    await t.run({ onStep: (m) => ms.push(m) })
    t.dispose()
    for (const m of ms) {
      expect(m.lossNegative).toBe(0)
      expect(m.weightedShare).toBe(1)
    }
  })

  it('explains a bad setting and a dataset without pairs', async () => {
    await expect(Trainer.start({ modelDir: llama, examples, outDir: out('bad'), settings: { microBatch: 0, lr: -1 } })).rejects.toThrow(/microBatch.*lr|lr.*microBatch/)
    await expect(Trainer.start({ modelDir: llama, examples: syntheticExamples(4, 1, { sft: 4 }), outDir: out('bad2'), settings: {} })).rejects.toThrow(/FIGA needs pairs/)
    await expect(Trainer.start({ modelDir: llama, examples, outDir: out('bad3'), settings: { lora: { rank: 2, alpha: 2, targets: ['c_attn'] } } })).rejects.toThrow(/match no weight.*q_proj/)
  })

  it('no tensor leak per step', async () => {
    const t = await Trainer.start({ modelDir: llama, examples, outDir: out('leak'), settings: { ...base, maxSteps: 10 } })
    await t.trainStep()
    t.evaluate()
    const n = tf.memory().numTensors
    for (let i = 0; i < 3; i++) {
      await t.trainStep()
      t.evaluate()
      expect(tf.memory().numTensors).toBe(n)
    }
    t.dispose()
  })
})
