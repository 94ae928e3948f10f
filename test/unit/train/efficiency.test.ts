// Each saving of the training step equals the naive computation (no shared prefix, LM head over
// every position of every padded row, micro-batches in data order): the loss parts and the
// gradient of every parameter agree within float tolerance, with each saving on alone and all on.

import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { loadModel } from '../../../src-main/model/model'
import { loadTokenizer } from '../../../src-main/signals/tokenizer'
import { planBatch } from '../../../src-main/train/batch'
import { type PreparedPair, microBatches, prepareExamples } from '../../../src-main/train/data'
import { fullTrainable } from '../../../src-main/train/params'
import { type TrainSettings, withDefaults } from '../../../src-main/train/settings'
import { type StepGradients, accumulateStep } from '../../../src-main/train/step'
import { syntheticExamples, tinyModelDir } from './helpers'

beforeAll(async () => {
  await initBackend()
})

type Eff = TrainSettings['efficiency']
const NAIVE: Eff = { sharedPrefix: false, sparseHead: false, bucketing: false, pruneFiltered: false }
const ALL: Eff = { sharedPrefix: true, sparseHead: true, bucketing: true, pruneFiltered: true }

function maxRelDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): { worst: number; name: string } {
  let worst = 0
  let name = ''
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort())
  for (const [k, x] of a) {
    const y = b.get(k)!
    let scale = 1e-6
    for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(y[i]))
    let d = 0
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]))
    if (d / scale > worst) {
      worst = d / scale
      name = k
    }
  }
  return { worst, name }
}

describe.each([
  ['llama', true, 'figa'],
  ['llama', false, 'figa'],
  ['gpt2', true, 'figa'],
  ['llama', true, 'sft'],
] as const)('efficiency savings equal the naive step: %s (tied %s), %s', (family, tied, method) => {
  let model: CausalLM
  let pairs: PreparedPair[]
  let dir: string
  const settings = (eff: Eff, microBatch: number) =>
    withDefaults({ method, microBatch, accumulation: 8, tau: 5.6, gamma: 0.25, efficiency: eff })

  beforeAll(async () => {
    dir = await tinyModelDir(family, 11, tied, 4)
    model = await loadModel(dir)
    const tokenizer = await loadTokenizer(dir)
    pairs = prepareExamples(syntheticExamples(7, 3, { sft: method === 'sft' ? 2 : 0 }), { tokenizer, settings: settings(NAIVE, 3), maxPositions: 256 }).pairs
    expect(pairs.length).toBe(7)
  })
  afterAll(() => {
    model?.dispose()
    fs.rmSync(path.dirname(dir), { recursive: true, force: true })
  })

  const run = async (eff: Eff, microBatch = 3, tau = 5.6): Promise<StepGradients> => {
    const g = await accumulateStep({ model, trainable: fullTrainable(model), pairs, settings: { ...settings(eff, microBatch), tau }, padId: 0 })
    return g!
  }

  it('shared prefix, sparse head, bucketing: each alone and all together', async () => {
    const naive = await run(NAIVE)
    expect(naive.n).toBeGreaterThan(0)
    if (method === 'figa') {
      expect(naive.bad).toBeGreaterThan(0)
      // the τ filter keeps some bad tokens and drops others
      expect(naive.badKept).toBeGreaterThan(0)
      expect(naive.badKept).toBeLessThan(naive.bad)
    }
    for (const eff of [
      { ...NAIVE, sharedPrefix: true },
      { ...NAIVE, sparseHead: true },
      { ...NAIVE, bucketing: true },
      { ...NAIVE, pruneFiltered: true },
      ALL,
    ]) {
      const g = await run(eff)
      const label = JSON.stringify(eff)
      expect(g.n, label).toBe(naive.n)
      expect(g.bad, label).toBe(naive.bad)
      expect(g.badKept, label).toBe(naive.badKept)
      expect(g.positive, label).toBeCloseTo(naive.positive, 3)
      expect(g.negative, label).toBeCloseTo(naive.negative, 3)
      expect(Math.abs(g.positive - naive.positive) / naive.positive, label).toBeLessThan(1e-5)
      const d = maxRelDiff(g.acc, naive.acc)
      expect(d.worst, `${label}: ${d.name}`).toBeLessThan(2e-4)
      if (eff.sharedPrefix && method === 'figa') expect(g.computedTokens, label).toBeLessThan(naive.computedTokens)
    }
  })

  it('the split into micro-batches does not change the step (normalised over the whole step)', async () => {
    const one = await run(ALL, 1)
    const all = await run(ALL, 7)
    expect(all.microBatches).toBe(1)
    expect(one.microBatches).toBe(7)
    expect(one.n).toBe(all.n)
    expect(Math.abs(one.positive - all.positive) / all.positive).toBeLessThan(1e-5)
    expect(maxRelDiff(one.acc, all.acc).worst).toBeLessThan(2e-4)
  })

  if (method === 'figa') {
    it('pruneFiltered skips the backward pass of y rows whose bad tokens the τ filter all dropped, with the same result', async () => {
      // τ below every CE: no bad token is penalised, so every micro-batch's y rows are pruned
      const naive = await run(NAIVE, 3, 0.01)
      const pruned = await run(ALL, 3, 0.01)
      expect(naive.badKept).toBe(0)
      expect(pruned.prunedBranches).toBe(pruned.microBatches)
      expect(naive.prunedBranches).toBe(0)
      expect(pruned.n).toBe(naive.n)
      expect(maxRelDiff(pruned.acc, naive.acc).worst).toBeLessThan(2e-4)
      // τ above every CE: nothing to prune
      expect((await run(ALL, 3, 100)).prunedBranches).toBe(0)
    })
  }

  it('a micro-batch without any weighted token gives a zero gradient (no failure)', async () => {
    const none = pairs.slice(0, 2).map((pp) => ({ ...pp, revised: { ...pp.revised, weights: new Float32Array(pp.revised.weights.length) } }))
    const g = (await accumulateStep({ model, trainable: fullTrainable(model), pairs: none, settings: { ...settings(ALL, 2), tau: 0.001 }, padId: 0 }))!
    expect(g.n).toBe(0)
    for (const a of g.acc.values()) expect(a.every((x) => x === 0)).toBe(true)
  })

  it('packed rows run no padding; padded rows run more, less when bucketed by length', () => {
    const tokens = (bucketing: boolean, pad: boolean) =>
      microBatches(pairs, 3, bucketing, method).reduce((n, mb) => n + planBatch(mb, { method, sharedPrefix: false, select: 'full', pad, padId: 0 }).computedTokens, 0)
    // packed: exactly the inputs of every row, ids[0 .. L-2]
    const inputs = pairs.reduce((n, pp) => n + pp.revised.ids.length - 1 + (method === 'figa' && pp.original ? pp.original.ids.length - 1 : 0), 0)
    expect(tokens(true, false)).toBe(inputs)
    expect(tokens(false, true)).toBeGreaterThan(inputs)
    expect(tokens(true, true)).toBeLessThanOrEqual(tokens(false, true))
  })

  it('no tensor leaks across steps', async () => {
    await run(ALL)
    const before = tf.memory().numTensors
    await run(ALL)
    await run(NAIVE)
    expect(tf.memory().numTensors).toBe(before)
  })
})
