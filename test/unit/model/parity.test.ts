// Acceptance test of the model engine (test/fixtures/parity/README.md): for every fixture, logits
// within 1e-4 of reference.json at every position and vocab entry, and the 12 greedy tokens exactly,
// by full recomputation and with the KV cache (prefill logits checked too), on the default backend.

import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { generate } from '../../../src-main/model/generate'
import { loadModel } from '../../../src-main/model/model'

const ROOT = path.resolve(__dirname, '../../fixtures/parity')
const FIXTURES = ['gpt2-tiny', 'gpt2-tiny-noprefix', 'llama-tiny-gqa', 'llama-tiny-bf16', 'qwen2-tiny', 'llama-tiny-sharded']
const TOL = 1e-4

interface Reference {
  architecture: string
  stored_dtype: string
  inputs: number[][]
  greedy: number[][]
  logits: number[][][]
}

function maxAbsDiff(got: Float32Array, want: number[][]): number {
  const V = want[0].length
  let m = 0
  for (let t = 0; t < want.length; t++) {
    for (let v = 0; v < V; v++) {
      const d = Math.abs(got[t * V + v] - want[t][v])
      if (!(d <= m)) m = d // NaN propagates as a failure
    }
  }
  return m
}

function argmax(a: Float32Array, offset = 0, n = a.length): number {
  let best = offset
  for (let i = offset + 1; i < offset + n; i++) if (a[i] > a[best]) best = i
  return best - offset
}

beforeAll(async () => {
  const info = await initBackend()
  expect(info.name).toBe('wasm')
})

describe.each(FIXTURES)('parity: %s', (name) => {
  const dir = path.join(ROOT, name)
  const ref: Reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'))
  let model: CausalLM

  beforeAll(async () => {
    model = await loadModel(dir)
  })
  afterAll(() => model?.dispose())

  it('loads the declared architecture', () => {
    expect(model.config.architecture).toBe(ref.architecture)
  })

  it.each(ref.inputs.map((x, i) => [i, x.length]))('logits match reference (input %i, %i tokens)', (i) => {
    const lg = model.forward([ref.inputs[i]])
    expect(lg.shape).toEqual([1, ref.inputs[i].length, model.config.vocabSize])
    const got = lg.dataSync() as Float32Array
    lg.dispose()
    expect(maxAbsDiff(got, ref.logits[i])).toBeLessThanOrEqual(TOL)
  })

  it.each(ref.inputs.map((_, i) => [i]))('greedy 12 tokens by full recomputation (input %i)', (i) => {
    const seq = [...ref.inputs[i]]
    const out: number[] = []
    for (let s = 0; s < 12; s++) {
      const lg = model.forward([seq])
      const d = lg.dataSync() as Float32Array
      lg.dispose()
      const V = model.config.vocabSize
      const tok = argmax(d, (seq.length - 1) * V, V)
      out.push(tok)
      seq.push(tok)
    }
    expect(out).toEqual(ref.greedy[i])
  })

  it.each(ref.inputs.map((_, i) => [i]))('greedy 12 tokens with the KV cache; prefill logits match (input %i)', (i) => {
    const cache = model.newCache()
    try {
      const pre = model.forward([ref.inputs[i]], { cache })
      const d = pre.dataSync() as Float32Array
      pre.dispose()
      expect(maxAbsDiff(d, ref.logits[i])).toBeLessThanOrEqual(TOL)
      const V = model.config.vocabSize
      let tok = argmax(d, (ref.inputs[i].length - 1) * V, V)
      const out = [tok]
      for (let s = 1; s < 12; s++) {
        const lg = model.forward([[tok]], { cache, lastOnly: true })
        tok = argmax(lg.dataSync() as Float32Array)
        lg.dispose()
        out.push(tok)
      }
      expect(cache.length).toBe(ref.inputs[i].length + 11)
      expect(out).toEqual(ref.greedy[i])
    } finally {
      cache.dispose()
    }
  })

  it('generate() greedy reproduces the reference, cached and uncached', async () => {
    for (let i = 0; i < ref.inputs.length; i++) {
      for (const useCache of [true, false]) {
        const r = await generate(model, ref.inputs[i], { greedy: true, maxNewTokens: 12, eosTokenIds: [], useCache })
        expect(r.tokens).toEqual(ref.greedy[i])
        expect(r.finishReason).toBe('length')
      }
    }
  })

  it('prefill in two chunks gives the same logits as one pass', () => {
    const ids = ref.inputs[2]
    const cut = 17
    const cache = model.newCache()
    try {
      const a = model.forward([ids.slice(0, cut)], { cache })
      const b = model.forward([ids.slice(cut)], { cache })
      const got = tf.tidy(() => tf.concat([a, b], 1).dataSync() as Float32Array)
      a.dispose()
      b.dispose()
      expect(maxAbsDiff(got, ref.logits[2])).toBeLessThanOrEqual(TOL)
    } finally {
      cache.dispose()
    }
  })
})

describe('parity: batch of two sequences', () => {
  it('each row of a batch matches its single-sequence reference', async () => {
    for (const name of ['gpt2-tiny', 'qwen2-tiny']) {
      const dir = path.join(ROOT, name)
      const ref: Reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'))
      const model = await loadModel(dir)
      try {
        // two equal-length prefixes of the long input and of a shifted copy
        const a = ref.inputs[2].slice(0, 7)
        const b = ref.inputs[1]
        const lg = model.forward([a, b])
        const d = lg.dataSync() as Float32Array
        lg.dispose()
        const V = model.config.vocabSize
        expect(maxAbsDiff(d.subarray(0, 7 * V), ref.logits[2].slice(0, 7))).toBeLessThanOrEqual(TOL)
        expect(maxAbsDiff(d.subarray(7 * V), ref.logits[1])).toBeLessThanOrEqual(TOL)
        // and with the cache, one more token each
        const cache = model.newCache(2)
        const p = model.forward([a, b], { cache, lastOnly: true })
        p.dispose()
        const n = model.forward([[ref.inputs[2][7]], [5]], { cache, lastOnly: true })
        const nd = n.dataSync() as Float32Array
        n.dispose()
        cache.dispose()
        expect(maxAbsDiff(nd.subarray(0, V), [ref.logits[2][7]])).toBeLessThanOrEqual(TOL)
      } finally {
        model.dispose()
      }
    }
  })
})
