// LoRA kept merged (W = W0 + (α/r)·A·B in the model's variables) gives the same forward pass and
// the same adapter gradients as the unmerged forward x·W0 + (α/r)·(x·A)·B differentiated directly.

import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { loadModel } from '../../../src-main/model/model'
import { loadTokenizer } from '../../../src-main/signals/tokenizer'
import { batchLoss, headWeight, planBatch } from '../../../src-main/train/batch'
import { prepareExamples } from '../../../src-main/train/data'
import { LoraTrainable } from '../../../src-main/train/params'
import { TrainRng } from '../../../src-main/train/rng'
import { withDefaults } from '../../../src-main/train/settings'
import { syntheticExamples, tinyModelDir } from './helpers'

beforeAll(async () => {
  await initBackend()
})

describe.each([
  ['llama', ['q_proj', 'v_proj']],
  ['gpt2', ['c_attn']],
] as const)('LoRA on %s', (family, targets) => {
  let dir: string
  let model: CausalLM
  beforeAll(async () => {
    dir = await tinyModelDir(family, 3, true, 2)
    model = await loadModel(dir)
  })
  afterAll(() => {
    model.dispose()
    fs.rmSync(path.dirname(dir), { recursive: true, force: true })
  })

  it('merged forward and chain-rule gradients equal the unmerged forward and its autodiff gradients', async () => {
    const settings = { rank: 3, alpha: 6, targets: [...targets] }
    const lora = LoraTrainable.create(model, settings, new TrainRng(1))
    // a non-zero B so that both gradients are non-trivial
    const rng = new TrainRng(2)
    for (const a of lora.adapters) for (let i = 0; i < a.B.length; i++) a.B[i] = 0.05 * rng.normal()
    lora.merge()
    const tok = await loadTokenizer(dir)
    const pairs = prepareExamples(syntheticExamples(3, 5), { tokenizer: tok, settings: withDefaults({}), maxPositions: 256 }).pairs
    const plan = planBatch(pairs, { method: 'figa', sharedPrefix: true, select: 'sparse', padId: 0 })
    const head = headWeight(model) as unknown as tf.Tensor2D
    const signed = (g: (typeof plan.groups)[0]) => Float64Array.from(g.sel.weight, (w, i) => (g.sel.isOriginal[i] ? -w : w))
    const loss = () => batchLoss({ model, head, plan, weigh: (g) => signed(g), trainHead: false }).value

    // merged: the trainer's path
    const { value, grads } = tf.variableGrads(loss, lora.vars)
    const mergedLoss = value.dataSync()[0]
    const acc = new Map<string, Float32Array>()
    lora.accumulate(grads, acc)
    tf.dispose([value, ...Object.values(grads)])

    // unmerged: swap each target for W0 + s·A·B built from differentiable A, B
    const r = settings.rank
    const s = settings.alpha / settings.rank
    const As = lora.adapters.map((a) => tf.variable(tf.tensor2d(a.A, [a.inF, r])))
    const Bs = lora.adapters.map((a) => tf.variable(tf.tensor2d(a.B, [r, a.outF])))
    const saved = lora.adapters.map((a) => model.params.get(a.target)!)
    const unmerged = tf.variableGrads(() => {
      lora.adapters.forEach((a, i) => {
        const w = tf.add(a.base, tf.mul(tf.matMul(As[i], Bs[i]), s))
        model.params.set(a.target, w as unknown as tf.Variable)
      })
      try {
        return loss()
      } finally {
        lora.adapters.forEach((a, i) => model.params.set(a.target, saved[i]))
      }
    }, [...As, ...Bs])
    expect(Math.abs(unmerged.value.dataSync()[0] - mergedLoss)).toBeLessThan(1e-4 * Math.abs(mergedLoss))
    lora.adapters.forEach((a, i) => {
      for (const [key, v] of [
        [`${a.target}.lora_A`, As[i]],
        [`${a.target}.lora_B`, Bs[i]],
      ] as const) {
        const want = unmerged.grads[v.name].dataSync()
        const got = acc.get(key)!
        let scale = 1e-8
        for (const x of want) scale = Math.max(scale, Math.abs(x))
        let d = 0
        for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(got[k] - want[k]))
        expect(d / scale, key).toBeLessThan(1e-4)
        expect(scale, key).toBeGreaterThan(1e-6)
      }
    })
    tf.dispose([unmerged.value, ...Object.values(unmerged.grads), ...As, ...Bs])
    lora.dispose()
  })
})
