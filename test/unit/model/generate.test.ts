import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'
import type { CausalLM } from '../../../src-main/model/base'
import { type TokenEvent, generate, pickToken, streamGenerate } from '../../../src-main/model/generate'
import { loadModel } from '../../../src-main/model/model'
import { Rng } from '../../../src-main/model/rng'

const FIX = path.resolve(__dirname, '../../fixtures/parity')
let model: CausalLM
let ref: { inputs: number[][]; greedy: number[][] }

// a toy detokenizer: token i → "<i>"
const decode = (ids: number[]) => ids.map((i) => `<${i}>`).join('')

beforeAll(async () => {
  await initBackend()
  model = await loadModel(path.join(FIX, 'qwen2-tiny'))
  ref = JSON.parse(fs.readFileSync(path.join(FIX, 'qwen2-tiny', 'reference.json'), 'utf8'))
})
afterAll(() => model?.dispose())

describe('sampling', () => {
  const prompt = () => ref.inputs[1]

  it('is reproducible for a seed, and differs across seeds', async () => {
    const opts = { temperature: 1.2, maxNewTokens: 24, seed: 42, eosTokenIds: [] }
    const a = await generate(model, prompt(), opts)
    const b = await generate(model, prompt(), opts)
    const c = await generate(model, prompt(), { ...opts, seed: 43 })
    expect(a.tokens).toHaveLength(24)
    expect(b.tokens).toEqual(a.tokens)
    expect(c.tokens).not.toEqual(a.tokens)
  })

  it('gives the same tokens with and without the KV cache', async () => {
    const opts = { temperature: 0.9, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 12, seed: 7, eosTokenIds: [] }
    const a = await generate(model, prompt(), opts)
    const b = await generate(model, prompt(), { ...opts, useCache: false })
    expect(b.tokens).toEqual(a.tokens)
  })

  it('temperature 0, top-k 1 and a tiny top-p all reduce to greedy', async () => {
    const greedy = ref.greedy[1]
    const base = { maxNewTokens: 12, eosTokenIds: [], seed: 1 }
    expect((await generate(model, prompt(), { ...base, temperature: 0 })).tokens).toEqual(greedy)
    expect((await generate(model, prompt(), { ...base, topK: 1 })).tokens).toEqual(greedy)
    expect((await generate(model, prompt(), { ...base, topP: 1e-6 })).tokens).toEqual(greedy)
  })

  it('a strong repetition penalty avoids every token already seen', async () => {
    const r = await generate(model, prompt(), { greedy: true, repetitionPenalty: 1e4, maxNewTokens: 20, eosTokenIds: [] })
    const seen = new Set(prompt())
    for (const t of r.tokens) {
      expect(seen.has(t)).toBe(false)
      seen.add(t)
    }
  })

  it('top-p keeps the smallest set reaching p (HF semantics)', () => {
    // probabilities 0.5, 0.3, 0.15, 0.05
    const logits = () => new Float32Array([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)])
    const rng = new Rng(1)
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 4000; i++) counts[pickToken(logits(), { greedy: false, temperature: 1, topK: 0, topP: 0.8, penalty: 1, seen: new Set(), rng }).token]++
    expect(counts[2] + counts[3]).toBe(0)
    expect(counts[0] / counts[1]).toBeGreaterThan(1.4)
    expect(counts[0] / counts[1]).toBeLessThan(1.95)
    // top-k 3 excludes the smallest; plain sampling follows the probabilities
    const c2 = [0, 0, 0, 0]
    for (let i = 0; i < 4000; i++) c2[pickToken(logits(), { greedy: false, temperature: 1, topK: 3, topP: 1, penalty: 1, seen: new Set(), rng }).token]++
    expect(c2[3]).toBe(0)
    const c3 = [0, 0, 0, 0]
    for (let i = 0; i < 20000; i++) c3[pickToken(logits(), { greedy: false, temperature: 1, topK: 0, topP: 1, penalty: 1, seen: new Set(), rng }).token]++
    expect(c3[3] / 20000).toBeGreaterThan(0.04)
    expect(c3[3] / 20000).toBeLessThan(0.06)
    // the reported log-probability is the model's, before processing
    const p = pickToken(logits(), { greedy: true, temperature: 1, topK: 0, topP: 1, penalty: 1.5, seen: new Set([0]), rng })
    expect(p.token).toBe(0)
    expect(p.logprob).toBeCloseTo(Math.log(0.5), 5)
  })
})

describe('stopping', () => {
  it('stops on an EOS id without returning it', async () => {
    const g = ref.greedy[2]
    const r = await generate(model, ref.inputs[2], { greedy: true, maxNewTokens: 12, eosTokenIds: [g[3]] })
    expect(r.finishReason).toBe('eos')
    expect(r.tokens).toEqual(g.slice(0, 3))
  })

  it('uses the config eos ids by default and stops at maxNewTokens', async () => {
    const r = await generate(model, ref.inputs[2], { greedy: true, maxNewTokens: 5 })
    expect(r.finishReason).toBe('length')
    expect(r.tokens).toEqual(ref.greedy[2].slice(0, 5))
    expect(r.promptTokens).toBe(ref.inputs[2].length)
  })

  it('stops on a stop string, cuts the text before it, and never streams part of it', async () => {
    const g = ref.greedy[0]
    const stop = `<${g[4]}><${g[5]}>`
    const events: TokenEvent[] = []
    const r = await generate(model, ref.inputs[0], { greedy: true, maxNewTokens: 12, eosTokenIds: [], decode, stopStrings: [stop], onToken: (e) => events.push(e) })
    expect(r.finishReason).toBe('stop')
    expect(r.text).toBe(decode(g.slice(0, 4)))
    expect(r.tokens).toEqual(g.slice(0, 6))
    const streamed = events.map((e) => e.text).join('')
    expect(streamed).toBe(r.text)
    for (const e of events) expect(e.text.includes(`<${g[4]}>`)).toBe(false)
  })

  it('streams the complete text when no stop string matches', async () => {
    const events: TokenEvent[] = []
    const r = await generate(model, ref.inputs[0], { greedy: true, maxNewTokens: 8, eosTokenIds: [], decode, stopStrings: ['<never>', `<${ref.greedy[0][7]}>never`], onToken: (e) => events.push(e) })
    expect(r.finishReason).toBe('length')
    expect(events.map((e) => e.text).join('')).toBe(r.text)
    expect(r.text).toBe(decode(ref.greedy[0].slice(0, 8)))
    expect(events[events.length - 1].token).toBeNull() // the held-back tail is flushed at the end
  })

  it('is cancelled by an AbortSignal', async () => {
    const ac = new AbortController()
    const r = await generate(model, ref.inputs[1], {
      temperature: 1,
      seed: 3,
      maxNewTokens: 50,
      eosTokenIds: [],
      signal: ac.signal,
      onToken: (e) => {
        if (e.index === 2) ac.abort()
      },
    })
    expect(r.finishReason).toBe('aborted')
    expect(r.tokens).toHaveLength(3)
    // an abort from a timer is seen between tokens
    const ac2 = new AbortController()
    setTimeout(() => ac2.abort(), 5)
    const r2 = await generate(model, ref.inputs[1], { temperature: 1, seed: 3, maxNewTokens: 100_000, eosTokenIds: [], signal: ac2.signal })
    expect(r2.finishReason).toBe('aborted')
    // and the model's context limit ends a run that is not cancelled in time
    expect(r2.tokens.length).toBeLessThan(model.config.maxPositions)
  })

  it('ends at the context limit', async () => {
    const r = await generate(model, ref.inputs[2], { temperature: 1, seed: 5, maxNewTokens: 1000, eosTokenIds: [] })
    expect(r.finishReason).toBe('length')
    expect(ref.inputs[2].length + r.tokens.length).toBe(model.config.maxPositions + 1)
  })
})

describe('memory', () => {
  it('does not grow per generated token (tf.memory().numTensors)', async () => {
    const before = tf.memory().numTensors
    const counts: number[] = []
    await generate(model, ref.inputs[2], {
      temperature: 0.8,
      topK: 20,
      seed: 9,
      maxNewTokens: 30,
      eosTokenIds: [],
      onToken: () => counts.push(tf.memory().numTensors),
    })
    expect(counts).toHaveLength(30)
    expect(new Set(counts.slice(1)).size).toBe(1)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('streamGenerate yields tokens and returns the result', async () => {
    const it = streamGenerate(model, ref.inputs[1], { greedy: true, maxNewTokens: 4, eosTokenIds: [] })
    const toks: number[] = []
    let r = await it.next()
    while (!r.done) {
      toks.push(r.value.token!)
      r = await it.next()
    }
    expect(toks).toEqual(ref.greedy[1].slice(0, 4))
    expect(r.value.tokens).toEqual(toks)
    expect(r.value.tokensPerSecond).toBeGreaterThan(0)
  })

  it('frees the cache when the consumer stops early', async () => {
    const before = tf.memory().numTensors
    for await (const ev of streamGenerate(model, ref.inputs[1], { greedy: true, maxNewTokens: 10, eosTokenIds: [] })) {
      if (ev.index === 1) break
    }
    expect(tf.memory().numTensors).toBe(before)
  })
})
