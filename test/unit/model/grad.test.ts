// The forward pass must be differentiable on WASM (the trainer uses tf.variableGrads): the custom
// gradients of the fast-path ops equal the stock ones, and model gradients match finite differences.

import * as tf from '@tensorflow/tfjs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { attention } from '../../../src-main/model/attention'
import { embedCols, embedRows, linear, matmul, matmulConst } from '../../../src-main/model/layers'
import { loadModel } from '../../../src-main/model/model'

const FIX = path.resolve(__dirname, '../../fixtures/parity')

beforeAll(async () => {
  await initBackend()
})

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])

describe('custom gradients of the fast-path ops', () => {
  it('matmul, linear and matmulConst match the stock gradients', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([5, 7], 0, 1, 'float32', 1) as tf.Tensor2D
      const w = tf.randomNormal([7, 3], 0, 1, 'float32', 2) as tf.Tensor2D
      const b = tf.randomNormal([3], 0, 1, 'float32', 3)
      const r = tf.randomNormal([5, 3], 0, 1, 'float32', 4)
      const mine = tf.grads((x, w, b) => tf.sum(tf.mul(linear(tf.tanh(matmul(x as tf.Tensor2D, tf.eye(7) as tf.Tensor2D)), w, b), r)))([x, w, b])
      const stock = tf.grads((x, w, b) => tf.sum(tf.mul(tf.add(tf.matMul(tf.tanh(tf.matMul(x as tf.Tensor2D, tf.eye(7))), w as tf.Tensor2D), b), r)))([x, w, b])
      for (let i = 0; i < 3; i++) expect(maxDiff(mine[i], stock[i])).toBeLessThan(1e-5)
      const gx = tf.grad((x) => tf.sum(tf.mul(matmulConst(x as tf.Tensor2D, w), r)))(x)
      const gs = tf.grad((x) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, w), r)))(x)
      expect(maxDiff(gx, gs)).toBeLessThan(1e-5)
    })
  })

  it('embedding gathers accumulate the gradient of repeated ids', () => {
    tf.tidy(() => {
      const V = 6
      const D = 4
      const table = tf.randomNormal([V, D], 0, 1, 'float32', 5)
      const ids = tf.tensor1d([1, 4, 1, 0, 1], 'int32')
      const r = tf.randomNormal([5, D], 0, 1, 'float32', 6)
      const oneHot = tf.oneHot(ids, V).toFloat() as tf.Tensor2D
      const want = tf.grad((t) => tf.sum(tf.mul(tf.matMul(oneHot, t as tf.Tensor2D), r)))(table)
      const rows = tf.grad((t) => tf.sum(tf.mul(embedRows(t, ids), r)))(table)
      expect(maxDiff(rows, want)).toBeLessThan(1e-6)
      const cols = tf.grad((tT) => tf.sum(tf.mul(embedCols(tT, ids), r)))(tf.transpose(table))
      expect(maxDiff(cols, tf.transpose(want))).toBeLessThan(1e-6)
    })
  })

  it.each([
    ['MHA, no past', 2, 3, 3, 0],
    ['GQA, with past', 2, 4, 2, 3],
    ['one sequence, one kv head', 1, 2, 1, 2],
  ])('attention (%s): the custom gradient equals autodiff of per-head stock ops', (_, B, H, Hkv, P) => {
    tf.tidy(() => {
      const T = 5
      const d = 4
      const S = P + T
      const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed)
      const q = rnd([B * T, H * d], 1)
      const k = rnd([B * T, Hkv * d], 2)
      const v = rnd([B * T, Hkv * d], 3)
      const pastKT = rnd([B * Hkv, d, Math.max(P, 1)], 4).slice([0, 0, 0], [B * Hkv, d, P])
      const pastV = rnd([B * Hkv, Math.max(P, 1), d], 5).slice([0, 0, 0], [B * Hkv, P, d])
      const r = rnd([B * T, H * d], 6)
      const sh = { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: d }
      const mask = tf.tensor2d(Array.from({ length: T * S }, (_, i) => (i % S > P + Math.floor(i / S) ? -1e9 : 0)), [T, S])
      // reference: per (sequence, head) slices, stock matMul/softmax/concat and their stock gradients
      const naive = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, pk: tf.Tensor, pv: tf.Tensor) => {
        let kT = tf.transpose(k.reshape([B, T, Hkv, d]), [0, 2, 3, 1]).reshape([B * Hkv, d, T])
        let vv = tf.transpose(v.reshape([B, T, Hkv, d]), [0, 2, 1, 3]).reshape([B * Hkv, T, d])
        if (P) {
          kT = tf.concat([pk, kT], 2)
          vv = tf.concat([pv, vv], 1)
        }
        const rowsOut: tf.Tensor[] = []
        for (let b = 0; b < B; b++) {
          const heads: tf.Tensor[] = []
          for (let h = 0; h < H; h++) {
            const g = Math.floor(h / (H / Hkv))
            const qh = q.slice([b * T, h * d], [T, d]) as tf.Tensor2D
            const kTg = kT.slice([b * Hkv + g, 0, 0], [1, d, S]).reshape([d, S]) as tf.Tensor2D
            const vg = vv.slice([b * Hkv + g, 0, 0], [1, S, d]).reshape([S, d]) as tf.Tensor2D
            heads.push(tf.matMul(tf.softmax(tf.add(tf.matMul(qh, kTg), mask)) as tf.Tensor2D, vg))
          }
          rowsOut.push(tf.concat(heads, 1))
        }
        return tf.sum(tf.mul(tf.concat(rowsOut, 0), r))
      }
      const ours = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, pk: tf.Tensor, pv: tf.Tensor) => {
        const past = P ? { kT: pk as tf.Tensor3D, v: pv as tf.Tensor3D } : null
        return tf.sum(tf.mul(attention(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D, past, sh).out, r))
      }
      // without a past, its (empty) tensors are not inputs of either function
      const inputs = P ? [q, k, v, pastKT, pastV] : [q, k, v]
      const call = (f: typeof naive) => (...xs: tf.Tensor[]) => f(xs[0], xs[1], xs[2], xs[3] ?? pastKT, xs[4] ?? pastV)
      const want = tf.grads(call(naive))(inputs)
      const got = tf.grads(call(ours))(inputs)
      expect(Math.abs(ours(q, k, v, pastKT, pastV).dataSync()[0] - naive(q, k, v, pastKT, pastV).dataSync()[0])).toBeLessThan(1e-4)
      for (let i = 0; i < inputs.length; i++) expect(maxDiff(got[i], want[i]), `input ${i}`).toBeLessThan(1e-4)
    })
  })
})

function ceLoss(model: CausalLM, ids: number[]): tf.Scalar {
  const logits = model.forward([ids.slice(0, -1)]).reshape([ids.length - 1, model.config.vocabSize])
  const targets = tf.oneHot(tf.tensor1d(ids.slice(1), 'int32'), model.config.vocabSize).toFloat()
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))) as tf.Scalar
}

describe.each(['gpt2-tiny', 'llama-tiny-gqa', 'qwen2-tiny'])('model gradients: %s', (name) => {
  it('variableGrads covers every parameter and agrees with finite differences', async () => {
    const model = await loadModel(path.join(FIX, name))
    try {
      const ids = [5, 17, 300, 42, 99, 5, 17, 8, 250, 3, 77, 5]
      // warm-up: creates the cached constants (scalars; under a tape, a tied head's [V, D] copy)
      const warm = tf.variableGrads(() => ceLoss(model, ids), [...model.params.values()])
      tf.dispose([warm.value, ...Object.values(warm.grads)])
      const before = tf.memory().numTensors
      const { value, grads } = tf.variableGrads(() => ceLoss(model, ids), [...model.params.values()])
      const loss = value.dataSync()[0]
      value.dispose()
      expect(Number.isFinite(loss)).toBe(true)
      for (const [k, v] of model.params) {
        const g = grads[v.name]
        expect(g, k).toBeDefined()
        expect(g.shape).toEqual(v.shape)
        expect(tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0]), k).toBe(1)
      }
      // finite differences on the largest-gradient entry of a few parameters
      const names = [...model.params.keys()].filter((k) => /(wte|embed_tokens|c_attn\.weight|q_proj|k_proj\.bias|down_proj|ln_1\.weight|input_layernorm|wpe)/.test(k))
      expect(names.length).toBeGreaterThan(3)
      for (const k of names) {
        const v = model.params.get(k)!
        const g = grads[v.name].dataSync() as Float32Array
        let idx = 0
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[idx])) idx = i
        const orig = (v.dataSync() as Float32Array).slice()
        const at = (delta: number) => {
          const p = orig.slice()
          p[idx] += delta
          const t = tf.tensor(p, v.shape)
          v.assign(t)
          t.dispose()
          return tf.tidy(() => ceLoss(model, ids).dataSync()[0])
        }
        const eps = 1e-2
        const num = (at(eps) - at(-eps)) / (2 * eps)
        const t = tf.tensor(orig, v.shape)
        v.assign(t)
        t.dispose()
        expect(Math.abs(num - g[idx]), `${k}[${idx}]: numeric ${num} vs analytic ${g[idx]}`).toBeLessThan(2e-3 + 0.03 * Math.abs(g[idx]))
      }
      for (const g of Object.values(grads)) g.dispose()
      // assign() replaced the variables' tensors one for one: nothing leaked
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      model.dispose()
    }
  })
})
