// Packed sequences (model/attention.ts): sequences of different lengths in one call, and sequences
// that continue a prefix computed by an earlier call, give the hidden states and the gradients of
// running every full sequence on its own.

import * as tf from '@tensorflow/tfjs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { loadModel } from '../../../src-main/model/model'
import type { PackedKV, PackedSegment } from '../../../src-main/model/attention'

const FIX = path.resolve(__dirname, '../../fixtures/parity')

beforeAll(async () => {
  await initBackend()
})

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])

/** Segments laid end to end, each optionally continuing rows of the prefix call. */
function segmentsOf(lengths: number[], past?: ({ start: number; length: number } | null)[]): PackedSegment[] {
  let start = 0
  return lengths.map((length, i) => {
    const s = { start, length, past: past?.[i] ?? null }
    start += length
    return s
  })
}

const disposeKV = (kv: PackedKV[] | null) => kv?.forEach((l) => tf.dispose([l.k, l.v]))

describe.each(['gpt2-tiny', 'llama-tiny-gqa', 'qwen2-tiny'])('packed sequences: %s', (name) => {
  let model: CausalLM
  beforeAll(async () => {
    model = await loadModel(path.join(FIX, name))
  })

  // two prefixes (one per "pair"), and branches that continue them: pair 0 has two branches
  const P0 = [5, 17, 300, 42]
  const P1 = [99, 8, 250]
  const C0 = [77, 5, 17]
  const D0 = [3, 3]
  const C1 = [12, 400, 7, 9, 31]
  const full = [
    [...P0, ...C0],
    [...P0, ...D0],
    [...P1, ...C1],
  ]

  /** the packed run: prefix call, then one call with the three branches; hidden rows [prefixes; branches] */
  const packed = (): tf.Tensor2D => {
    const pre = model.hiddenPacked(Int32Array.from([...P0, ...P1]), segmentsOf([P0.length, P1.length]), { keepKV: true })
    try {
      const past = [
        { start: 0, length: P0.length },
        { start: 0, length: P0.length },
        { start: P0.length, length: P1.length },
      ]
      const br = model.hiddenPacked(Int32Array.from([...C0, ...D0, ...C1]), segmentsOf([C0.length, D0.length, C1.length], past), { past: pre.kv })
      return tf.concat([pre.hidden, br.hidden], 0) as tf.Tensor2D
    } finally {
      disposeKV(pre.kv)
    }
  }
  /** the same rows from each full sequence on its own */
  const separate = (): tf.Tensor2D => {
    const h = full.map((ids) => model.hidden([ids]).reshape([ids.length, -1]) as tf.Tensor2D)
    const rows = (x: tf.Tensor2D, a: number, n: number) => x.slice([a, 0], [n, -1])
    return tf.concat([rows(h[0], 0, P0.length), rows(h[2], 0, P1.length), rows(h[0], P0.length, C0.length), rows(h[1], P0.length, D0.length), rows(h[2], P1.length, C1.length)], 0) as tf.Tensor2D
  }

  it('hidden states equal each sequence run alone', () => {
    tf.tidy(() => {
      const a = packed()
      const b = separate()
      expect(a.shape).toEqual(b.shape)
      expect(maxDiff(a, b)).toBeLessThan(1e-4)
      // sequences without a prefix, of different lengths, in one call
      const c = model.hiddenPacked(Int32Array.from([...full[0], ...full[2]]), segmentsOf([full[0].length, full[2].length])).hidden
      const d = tf.concat([model.hidden([full[0]]).reshape([full[0].length, -1]), model.hidden([full[2]]).reshape([full[2].length, -1])], 0)
      expect(maxDiff(c, d)).toBeLessThan(1e-4)
    })
  })

  it('gradients of every parameter equal those of the separate runs (prefix rows get both branches)', () => {
    const D = model.config.hiddenSize
    const n = P0.length + P1.length + C0.length + D0.length + C1.length
    const r = tf.randomNormal([n, D], 0, 1, 'float32', 3)
    const vars = [...model.params.values()]
    const a = tf.variableGrads(() => tf.sum(tf.mul(packed(), r)) as tf.Scalar, vars)
    const b = tf.variableGrads(() => tf.sum(tf.mul(separate(), r)) as tf.Scalar, vars)
    expect(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0])).toBeLessThan(1e-3)
    for (const v of vars) {
      const ga = a.grads[v.name]
      const gb = b.grads[v.name]
      // an untied lm_head takes no part in the hidden states
      expect(!ga, v.name).toBe(!gb)
      if (!gb) continue
      const scale = Math.max(1e-6, tf.tidy(() => tf.max(tf.abs(gb)).dataSync()[0]))
      expect(maxDiff(ga, gb) / scale, v.name).toBeLessThan(1e-4)
    }
    tf.dispose([r, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)])
  })

  it('refuses segments that do not tile the rows or reach outside the prefix call', () => {
    expect(() => model.hiddenPacked(Int32Array.from([1, 2, 3]), [{ start: 0, length: 2 }])).toThrow(/cover 2 rows/)
    expect(() => model.hiddenPacked(Int32Array.from([1, 2, 3]), [{ start: 1, length: 2 }])).toThrow(/tile the rows/)
    expect(() => model.hiddenPacked(Int32Array.from([1, 2]), [{ start: 0, length: 2, past: { start: 0, length: 2 } }])).toThrow(/no past/)
  })

  it('leaves no tensors behind', () => {
    tf.tidy(() => {
      packed() // warm-up: cached constants
    })
    const before = tf.memory().numTensors
    tf.tidy(() => {
      packed()
    })
    expect(tf.memory().numTensors).toBe(before)
  })
})
