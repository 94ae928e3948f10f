// Text generation: KV-cached decoding with greedy / temperature / top-k / top-p sampling and a
// repetition penalty (Hugging Face semantics and order: repetition penalty → temperature → top-k →
// top-p), stopping on EOS ids, stop strings or the token budget, cancellable with an AbortSignal.
// Deterministic for a given seed (and backend). One sequence at a time.

import type { CausalLM, KVCache } from './base'
import { Rng } from './rng'

export interface GenerateOptions {
  /** tokens to generate at most (default 128) */
  maxNewTokens?: number
  /** 0 (or greedy: true) picks the argmax; default 1 */
  temperature?: number
  greedy?: boolean
  /** keep the k most likely tokens (0 = off) */
  topK?: number
  /** keep the smallest set of tokens whose probability reaches p (1 = off) */
  topP?: number
  /** HF repetition penalty over prompt + generated ids (1 = off) */
  repetitionPenalty?: number
  /** RNG seed; the same seed gives the same tokens (default: random) */
  seed?: number
  /** stop when one of these is generated (default: the config's eos_token_id) */
  eosTokenIds?: number[]
  /** stop when the generated text contains one of these (needs `decode`); the text is cut before it */
  stopStrings?: string[]
  /** token ids → text, used for stop strings and the streamed text */
  decode?: (ids: number[]) => string
  signal?: AbortSignal
  /** false recomputes the whole sequence at every step (for tests); default true */
  useCache?: boolean
  /** called for every generated token (also available as the async iterator of streamGenerate) */
  onToken?: (ev: TokenEvent) => void
}

export interface TokenEvent {
  /** the token; null for a last event that only flushes held-back text */
  token: number | null
  /** 0-based index among the generated tokens */
  index: number
  /** new text since the previous event ('' when no decode function or when held back) */
  text: string
  /** log-probability of the token under the model (temperature 1, no filtering) */
  logprob: number
}

export type FinishReason = 'eos' | 'stop' | 'length' | 'aborted'

export interface GenerateResult {
  /** generated ids, without the EOS that ended generation */
  tokens: number[]
  /** decoded text of `tokens` (cut before a stop string), or null without a decode function */
  text: string | null
  finishReason: FinishReason
  promptTokens: number
  /** time to the first token's logits */
  prefillMs: number
  /** time spent on the remaining tokens */
  decodeMs: number
  /** decode speed, tokens/s after the first token */
  tokensPerSecond: number
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r))

/** Stream generated tokens; the iterator's return value is the GenerateResult. */
export async function* streamGenerate(model: CausalLM, prompt: number[], opts: GenerateOptions = {}): AsyncGenerator<TokenEvent, GenerateResult> {
  if (!prompt.length) throw new Error('the prompt is empty')
  const maxNew = opts.maxNewTokens ?? 128
  const greedy = opts.greedy === true || opts.temperature === 0
  const temperature = opts.temperature ?? 1
  if (!greedy && !(temperature > 0)) throw new Error('temperature must be > 0 (or 0 for greedy)')
  const topP = opts.topP ?? 1
  if (!(topP > 0 && topP <= 1)) throw new Error('topP must be in (0, 1]')
  const eos = new Set(opts.eosTokenIds ?? model.config.eosTokenIds)
  const stops = (opts.stopStrings ?? []).filter((s) => s.length > 0)
  if (stops.length && !opts.decode) throw new Error('stop strings need a decode function')
  const rng = new Rng(opts.seed ?? Math.floor(Math.random() * 2 ** 32))
  const useCache = opts.useCache !== false
  const maxPos = model.config.maxPositions
  if (prompt.length >= maxPos) throw new Error(`the prompt has ${prompt.length} tokens; the model supports ${maxPos} positions`)

  const seen = new Set<number>(prompt)
  const tokens: number[] = []
  let cache: KVCache | null = useCache ? model.newCache(1) : null
  let text = ''
  let emitted = 0
  let finish: FinishReason = 'length'
  const t0 = performance.now()
  let tFirst = 0
  try {
    let input = prompt
    for (let step = 0; step < maxNew; step++) {
      if (opts.signal?.aborted) {
        finish = 'aborted'
        break
      }
      if (prompt.length + tokens.length > maxPos) break
      const lg = model.forward([useCache ? input : [...prompt, ...tokens]], { cache: cache ?? undefined, lastOnly: true })
      let logits: Float32Array
      try {
        logits = (await lg.data()) as Float32Array
      } finally {
        lg.dispose()
      }
      if (step === 0) tFirst = performance.now()
      const { token, logprob } = pickToken(logits, { greedy, temperature, topK: opts.topK ?? 0, topP, penalty: opts.repetitionPenalty ?? 1, seen, rng })
      if (eos.has(token)) {
        finish = 'eos'
        break
      }
      tokens.push(token)
      seen.add(token)
      input = [token]
      let delta = ''
      if (opts.decode) {
        text = opts.decode(tokens)
        const hit = findStop(text, stops)
        if (hit >= 0) {
          text = text.slice(0, hit)
          delta = text.slice(emitted)
          emitted = text.length
          finish = 'stop'
        } else {
          const safe = text.length - holdBack(text, stops)
          if (safe > emitted) {
            delta = text.slice(emitted, safe)
            emitted = safe
          }
        }
      }
      const ev: TokenEvent = { token, index: tokens.length - 1, text: delta, logprob }
      opts.onToken?.(ev)
      yield ev
      if (finish === 'stop') break
      await yieldToEventLoop()
    }
  } finally {
    cache?.dispose()
    cache = null
  }
  if (opts.decode && finish !== 'stop') {
    // flush what was held back (a partial stop string at the very end, an incomplete character)
    text = opts.decode(tokens)
    if (text.length > emitted) {
      const ev: TokenEvent = { token: null, index: tokens.length, text: text.slice(emitted), logprob: 0 }
      emitted = text.length
      opts.onToken?.(ev)
      yield ev
    }
  }
  const tEnd = performance.now()
  const decodeMs = tFirst ? tEnd - tFirst : 0
  return {
    tokens,
    text: opts.decode ? text : null,
    finishReason: finish,
    promptTokens: prompt.length,
    prefillMs: tFirst ? tFirst - t0 : tEnd - t0,
    decodeMs,
    tokensPerSecond: tokens.length > 1 && decodeMs > 0 ? ((tokens.length - 1) * 1000) / decodeMs : 0,
  }
}

/** Generate to the end; streaming through opts.onToken. */
export async function generate(model: CausalLM, prompt: number[], opts: GenerateOptions = {}): Promise<GenerateResult> {
  const it = streamGenerate(model, prompt, opts)
  for (;;) {
    const r = await it.next()
    if (r.done) return r.value
  }
}

/** index of the first stop string in text, or -1 */
function findStop(text: string, stops: string[]): number {
  let best = -1
  for (const s of stops) {
    const i = text.indexOf(s)
    if (i >= 0 && (best < 0 || i < best)) best = i
  }
  return best
}

/** characters at the end of text to hold back: a prefix of a stop string, or an incomplete character */
function holdBack(text: string, stops: string[]): number {
  let n = 0
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > n; k--) {
      if (text.endsWith(s.slice(0, k))) {
        n = k
        break
      }
    }
  }
  if (text.endsWith('\uFFFD')) n = Math.max(n, 1)
  return n
}

export interface PickOptions {
  greedy: boolean
  temperature: number
  topK: number
  topP: number
  penalty: number
  seen: Set<number>
  rng: Rng
}

/** Choose the next token from a row of logits (the array is modified). */
export function pickToken(logits: Float32Array, o: PickOptions): { token: number; logprob: number } {
  const V = logits.length
  // log-probability under the plain model, before any processing
  let max = -Infinity
  for (let i = 0; i < V; i++) if (logits[i] > max) max = logits[i]
  let z = 0
  for (let i = 0; i < V; i++) z += Math.exp(logits[i] - max)
  const lse = max + Math.log(z)

  if (o.penalty !== 1) {
    for (const id of o.seen) {
      if (id < 0 || id >= V) continue
      const s = logits[id]
      logits[id] = s < 0 ? s * o.penalty : s / o.penalty
    }
  }
  let token: number
  if (o.greedy) {
    token = 0
    for (let i = 1; i < V; i++) if (logits[i] > logits[token]) token = i
  } else {
    token = sample(logits, o)
  }
  // report the log-probability under the plain model (undo the penalty on this entry)
  let raw = logits[token]
  if (o.penalty !== 1 && o.seen.has(token)) raw = raw < 0 ? raw / o.penalty : raw * o.penalty
  return { token, logprob: raw - lse }
}

function sample(logits: Float32Array, o: PickOptions): number {
  const V = logits.length
  const scaled = new Float32Array(V)
  const invT = 1 / o.temperature
  for (let i = 0; i < V; i++) scaled[i] = logits[i] * invT
  // top-k: drop scores below the k-th largest (ties kept, as HF)
  if (o.topK > 0 && o.topK < V) {
    const kth = kthLargest(scaled, o.topK)
    for (let i = 0; i < V; i++) if (scaled[i] < kth) scaled[i] = -Infinity
  }
  // softmax
  let max = -Infinity
  for (let i = 0; i < V; i++) if (scaled[i] > max) max = scaled[i]
  const probs = new Float64Array(V)
  let sum = 0
  for (let i = 0; i < V; i++) {
    const p = scaled[i] === -Infinity ? 0 : Math.exp(scaled[i] - max)
    probs[i] = p
    sum += p
  }
  for (let i = 0; i < V; i++) probs[i] /= sum
  // top-p: keep the most likely tokens until their mass reaches p (at least one)
  if (o.topP < 1) {
    const keep = nucleus(probs, o.topP)
    let s = 0
    for (const i of keep) s += probs[i]
    const u = o.rng.next() * s
    let acc = 0
    for (const i of keep) {
      acc += probs[i]
      if (u < acc) return i
    }
    return keep[keep.length - 1]
  }
  const u = o.rng.next()
  let acc = 0
  let last = 0
  for (let i = 0; i < V; i++) {
    if (probs[i] === 0) continue
    acc += probs[i]
    last = i
    if (u < acc) return i
  }
  return last
}

function kthLargest(a: Float32Array, k: number): number {
  const sorted = Float32Array.from(a).sort()
  return sorted[a.length - k]
}

/** Indices of the nucleus in descending probability. Only candidates above a threshold are sorted. */
function nucleus(probs: Float64Array, p: number): number[] {
  const V = probs.length
  let maxP = 0
  for (let i = 0; i < V; i++) if (probs[i] > maxP) maxP = probs[i]
  // lower the threshold until the tokens above it carry at least p: the nucleus lies among them
  let tau = maxP / 64
  let cand: number[] = []
  for (;;) {
    cand = []
    let mass = 0
    for (let i = 0; i < V; i++) {
      if (probs[i] >= tau && probs[i] > 0) {
        cand.push(i)
        mass += probs[i]
      }
    }
    if (mass >= p || tau === 0) break
    tau = tau < 1e-30 ? 0 : tau / 64
  }
  cand.sort((a, b) => probs[b] - probs[a] || a - b)
  const keep: number[] = []
  let acc = 0
  for (const i of cand) {
    keep.push(i)
    acc += probs[i]
    if (acc >= p) break
  }
  return keep
}
