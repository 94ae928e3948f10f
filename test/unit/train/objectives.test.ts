// The loss math: figaLoss on hand-made cases (τ filter, band, EOS rule via the weights, N), SFT as
// the same function with a ≡ 1, and the fused weighted cross-entropy against a float64 computation
// (value and gradients), in one block and in several, and its stability far from the target.

import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import { figaLoss, penalised, weightedCrossEntropy } from '../../../src-main/train/objectives'

beforeAll(async () => {
  await initBackend()
})

describe('figaLoss', () => {
  const noFilter = { tau: null, tauBand: null }

  it('is (Σ a·CE(ŷ) − Σ b·CE(y)) / N with N the tokens of non-zero weight', () => {
    // ŷ: 4 tokens, a = [α, γ=0, α, α(EOS)]; y: 3 tokens, b = [0, β, β]
    const r = figaLoss({ ce: [2, 5, 1, 0.5], weight: [1, 0, 1, 1] }, { ce: [3, 0.4, 0.2], weight: [0, 0.5, 0.5] }, noFilter)
    expect(r.positive).toBeCloseTo(2 + 1 + 0.5, 12)
    expect(r.negative).toBeCloseTo(0.5 * 0.4 + 0.5 * 0.2, 12)
    expect(r.n).toBe(5)
    expect(r.loss).toBeCloseTo((3.5 - 0.3) / 5, 12)
    expect([...r.a]).toEqual([1, 0, 1, 1])
    expect([...r.b]).toEqual([0, 0.5, 0.5])
  })

  it('γ ≠ 0 weighs the unchanged tokens and counts them in N', () => {
    const r = figaLoss({ ce: [2, 5, 1], weight: [1, 0.1, 1] }, { ce: [], weight: [] }, noFilter)
    expect(r.n).toBe(3)
    expect(r.loss).toBeCloseTo((2 + 0.5 + 1) / 3, 12)
  })

  it('τ filter: a bad token is penalised only while CE ≤ τ, and then leaves N', () => {
    const y = { ce: [0.59, 0.6, 0.61, 3], weight: [0.5, 0.5, 0.5, 0.5] }
    const r = figaLoss({ ce: [1], weight: [1] }, y, { tau: 0.6, tauBand: null })
    expect([...r.b]).toEqual([0.5, 0.5, 0, 0])
    expect(r.n).toBe(3)
    expect(r.negative).toBeCloseTo(0.5 * (0.59 + 0.6), 12)
    expect(r.loss).toBeCloseTo((1 - 0.5 * 1.19) / 3, 12)
  })

  it('band variant: penalised only while lo ≤ CE ≤ hi (wins over τ)', () => {
    const y = { ce: [0.5, 0.6, 0.8, 1.0, 1.2], weight: [0.5, 0.5, 0.5, 0.5, 0.5] }
    const r = figaLoss({ ce: [], weight: [] }, y, { tau: 0.6, tauBand: [0.6, 1.0] })
    expect([...r.b]).toEqual([0, 0.5, 0.5, 0.5, 0])
    expect(r.n).toBe(3)
    expect(r.loss).toBeCloseTo(-(0.5 * (0.6 + 0.8 + 1.0)) / 3, 12)
    expect(penalised(0.59, { tau: null, tauBand: [0.6, 1] })).toBe(false)
    expect(penalised(100, { tau: null, tauBand: null })).toBe(true)
  })

  it('SFT is the same function with a ≡ 1 and no y term: the mean CE of ŷ', () => {
    const ce = [2, 1, 4, 0.25]
    const r = figaLoss({ ce, weight: [1, 1, 1, 1] }, { ce: [], weight: [] }, { tau: 0.6, tauBand: null })
    expect(r.loss).toBeCloseTo(7.25 / 4, 12)
    expect(r.negative).toBe(0)
  })

  it('no weighted token: loss 0, N 0', () => {
    const r = figaLoss({ ce: [1, 2], weight: [0, 0] }, { ce: [0.1], weight: [0.5] }, { tau: 0.05, tauBand: null })
    expect(r).toMatchObject({ loss: 0, n: 0, positive: 0, negative: 0 })
  })
})

/** float64 reference: value Σ w·CE and gradients w.r.t. H [M, D] and W [D, V]. */
function reference(H: Float64Array, W: Float64Array, M: number, D: number, V: number, rows: number[], targets: number[], w: number[]) {
  const dH = new Float64Array(M * D)
  const dW = new Float64Array(D * V)
  const ce: number[] = []
  let value = 0
  rows.forEach((r, i) => {
    const logits = new Float64Array(V)
    for (let v = 0; v < V; v++) {
      let s = 0
      for (let d = 0; d < D; d++) s += H[r * D + d] * W[d * V + v]
      logits[v] = s
    }
    let mx = -Infinity
    for (const x of logits) mx = Math.max(mx, x)
    let sum = 0
    for (const x of logits) sum += Math.exp(x - mx)
    const lse = mx + Math.log(sum)
    ce.push(lse - logits[targets[i]])
    value += w[i] * ce[i]
    for (let v = 0; v < V; v++) {
      const g = w[i] * (Math.exp(logits[v] - lse) - (v === targets[i] ? 1 : 0))
      for (let d = 0; d < D; d++) {
        dH[r * D + d] += g * W[d * V + v]
        dW[d * V + v] += g * H[r * D + d]
      }
    }
  })
  return { value, ce, dH, dW }
}

describe('weightedCrossEntropy (fused, custom gradient)', () => {
  const M = 7
  const D = 6
  const V = 23
  const rnd = (n: number, seed: number, scale: number) => {
    let s = seed
    return Float64Array.from({ length: n }, () => {
      s = (s * 16807) % 2147483647
      return ((s / 2147483647) * 2 - 1) * scale
    })
  }
  const H = rnd(M * D, 3, 1)
  const W = Float64Array.from(rnd(D * V, 5, 1.5), Math.fround)
  const Hf = Float64Array.from(H, Math.fround)
  // rows with a repeat (one hidden state predicting for both branches), signed weights
  const rows = [0, 2, 2, 3, 6, 5, 1]
  const targets = [4, 0, 22, 7, 7, 13, 1]
  const signed = [1, 0.5, -0.5, 0, 1, -0.5, 0.25]

  // chunkRows: rows per block of logits; headT: the transposed head given in that many row blocks
  for (const [chunkRows, headTBlocks] of [
    [undefined, 0],
    [2, 0],
    [undefined, 1],
    [2, 3],
  ] as const) {
    it(`value and gradients equal a float64 computation (${chunkRows ? 'blocks of 2 rows' : 'one block'}, ${headTBlocks ? `transposed head in ${headTBlocks} blocks` : 'no transposed head'})`, () => {
      const ref = reference(Hf, W, M, D, V, rows, targets, signed)
      const h = tf.tensor2d(Float32Array.from(Hf), [M, D])
      const w = tf.tensor2d(Float32Array.from(W), [D, V])
      const wT = tf.transpose(w) as tf.Tensor2D
      const size = Math.ceil(V / Math.max(1, headTBlocks))
      const headT = headTBlocks ? Array.from({ length: headTBlocks }, (_, b) => wT.slice([b * size, 0], [Math.min(size, V - b * size), D]) as tf.Tensor2D) : undefined
      let seen: Float64Array | null = null
      const grads = tf.grads((hh: tf.Tensor, ww: tf.Tensor) => {
        const r = weightedCrossEntropy({
          hidden: hh as tf.Tensor2D,
          head: ww as tf.Tensor2D,
          rows: Int32Array.from(rows),
          targets: Int32Array.from(targets),
          weigh: (ce) => {
            seen = ce.slice()
            return Float64Array.from(signed)
          },
          trainHead: true,
          chunkRows,
          headT,
        })
        expect(r.value.dataSync()[0]).toBeCloseTo(ref.value, 4)
        return r.value
      })([h, w])
      expect(seen).not.toBeNull()
      seen!.forEach((c, i) => expect(Math.abs(c - ref.ce[i])).toBeLessThan(2e-5))
      const gH = grads[0].dataSync()
      const gW = grads[1].dataSync()
      ref.dH.forEach((x, i) => expect(Math.abs(gH[i] - x)).toBeLessThan(2e-5))
      ref.dW.forEach((x, i) => expect(Math.abs(gW[i] - x)).toBeLessThan(2e-5))
      tf.dispose([h, w, wT, ...(headT ?? []), ...grads])
    })
  }

  it('a constant head: gradient only for the hidden states', () => {
    const ref = reference(Hf, W, M, D, V, rows, targets, signed)
    const h = tf.tensor2d(Float32Array.from(Hf), [M, D])
    const w = tf.tensor2d(Float32Array.from(W), [D, V])
    const g = tf.grad((hh: tf.Tensor) =>
      weightedCrossEntropy({ hidden: hh as tf.Tensor2D, head: w, rows: Int32Array.from(rows), targets: Int32Array.from(targets), weigh: () => Float64Array.from(signed), trainHead: false }).value,
    )(h)
    const gH = g.dataSync()
    ref.dH.forEach((x, i) => expect(Math.abs(gH[i] - x)).toBeLessThan(2e-5))
    tf.dispose([h, w, g])
  })

  it('stays finite when the target is far below the others (the negative term drives p → 0)', () => {
    const h = tf.tensor2d([[1, 0]])
    const w = tf.tensor2d([
      [-200, 100, 0],
      [0, 0, 0],
    ])
    const [gh, gw] = tf.grads((hh: tf.Tensor, ww: tf.Tensor) =>
      weightedCrossEntropy({ hidden: hh as tf.Tensor2D, head: ww as tf.Tensor2D, rows: Int32Array.from([0]), targets: Int32Array.from([0]), weigh: () => Float64Array.from([-0.5]), trainHead: true }).value,
    )([h, w])
    const ce = weightedCrossEntropy({ hidden: h, head: w, rows: Int32Array.from([0]), targets: Int32Array.from([0]), weigh: (c) => c, trainHead: false })
    expect(ce.ce[0]).toBeCloseTo(300, 3) // log p = −300: exp would underflow, log-sum-exp does not
    ce.value.dispose()
    for (const x of [...gh.dataSync(), ...gw.dataSync()]) expect(Number.isFinite(x)).toBe(true)
    // gradient −0.5·(softmax − onehot): at the target −0.5·(0 − 1) = +0.5 on its logit
    expect(gw.dataSync()[0]).toBeCloseTo(0.5, 5)
    tf.dispose([h, w, gh, gw])
  })
})
