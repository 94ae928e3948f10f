// The common causal-LM interface and the parts every architecture shares: parameters held in
// tf.Variables, the KV cache, the LM head and the forward entry points.

import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from './config'
import { type HeadShape, type LayerKV, type PackedKV, type PackedSegment, attention, checkSegments, packedAttention, packedPositions } from './attention'
import { dropHeadRows, embedCols, embedRows, matmul } from './layers'
import type { TensorSource } from './safetensors'

/**
 * One parameter. `name` is the Hugging Face tensor name (canonical form, e.g. with
 * `transformer.` for GPT-2). `shape` is the layout held in the variable: every matmul weight is
 * [in, out], so nn.Linear weights (HF [out, in]) and a tied embedding (HF [V, D], kept as the
 * LM head [D, V]) are stored transposed (`transposed: true`).
 */
export interface ParamSpec {
  name: string
  shape: number[]
  transposed: boolean
  init: 'normal' | 'ones' | 'zeros'
}

/** The shape the tensor has in a safetensors file. */
export function hfShape(spec: ParamSpec): number[] {
  return spec.transposed ? [spec.shape[1], spec.shape[0]] : spec.shape
}

/** Keys and values of past positions, per layer, for a batch of sequences of equal length. */
export class KVCache {
  layers: (LayerKV | null)[]
  /** positions already in the cache */
  length = 0
  constructor(
    numLayers: number,
    readonly batch: number,
  ) {
    this.layers = new Array<LayerKV | null>(numLayers).fill(null)
  }

  /** install the keys/values of a forward step (the old tensors are disposed) */
  update(kv: LayerKV[], added: number): void {
    for (let i = 0; i < this.layers.length; i++) {
      const old = this.layers[i]
      this.layers[i] = kv[i]
      if (old) {
        old.kT.dispose()
        old.v.dispose()
      }
    }
    this.length += added
  }

  /** bytes held on the backend */
  get bytes(): number {
    let n = 0
    for (const l of this.layers) if (l) n += (l.kT.size + l.v.size) * 4
    return n
  }

  dispose(): void {
    for (const l of this.layers) {
      l?.kT.dispose()
      l?.v.dispose()
    }
    this.layers.fill(null)
    this.length = 0
  }
}

export interface ForwardOptions {
  /** read past keys/values from it and append this call's */
  cache?: KVCache
  /** compute logits only for the last position of each sequence ([B, 1, V]) */
  lastOnly?: boolean
}

export type TokenInput = number[][] | tf.Tensor2D

/**
 * How the rows of one call are laid out, as the architectures' body sees it: the position of every
 * row, and the attention of each layer among them (equal-length sequences with a KV cache, or
 * packed sequences; see attention.ts).
 */
export interface RowLayout {
  positions: number[]
  /** layer i's attention: q [N, H·d] (rotated, scaled), k, v [N, Hkv·d] → [N, H·d] */
  attend(layer: number, q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, heads: HeadShape): tf.Tensor2D
}

export interface PackedOptions {
  /** the keys/values of an earlier packed call that segments continue (`PackedSegment.past`) */
  past?: PackedKV[] | null
  /** return this call's keys/values per layer for a later call (the caller disposes them) */
  keepKV?: boolean
}

export interface CausalLM {
  readonly config: ModelConfig
  /** config.json as read (or generated), written back by saveModel */
  readonly rawConfig: Record<string, unknown>
  readonly paramCount: number
  /** trainable weights by HF tensor name; see ParamSpec for the layout */
  readonly params: Map<string, tf.Variable>
  /** logits [B, T, V] (or [B, 1, V] with lastOnly). ids: equal-length sequences, no padding. */
  forward(ids: TokenInput, opts?: ForwardOptions): tf.Tensor3D
  /** final-normed hidden states [B, T, D] (apply `logits` to chosen rows) */
  hidden(ids: TokenInput, opts?: { cache?: KVCache }): tf.Tensor3D
  /**
   * Final-normed hidden states [N, D] of sequences packed without padding (see attention.ts): `ids`
   * holds their tokens one sequence after another, `segments` where each starts and which prefix
   * rows of `opts.past` it continues.
   */
  hiddenPacked(ids: Int32Array, segments: PackedSegment[], opts?: PackedOptions): { hidden: tf.Tensor2D; kv: PackedKV[] | null }
  /** the LM head: [N, D] → [N, V] */
  logits(hidden: tf.Tensor2D): tf.Tensor2D
  newCache(batch?: number): KVCache
  /** the weights in HF names and layouts, fetched one by one (for saving) */
  exportTensors(): TensorSource[]
  dispose(): void
}

let modelSeq = 0

export abstract class TransformerLM implements CausalLM {
  readonly params = new Map<string, tf.Variable>()
  readonly paramCount: number
  readonly specs: ParamSpec[]
  /** unique prefix of this instance's variable names (tf.variable names are global) */
  readonly scope: string
  private disposed = false

  protected constructor(
    readonly config: ModelConfig,
    readonly rawConfig: Record<string, unknown>,
    specs: ParamSpec[],
    values: Map<string, tf.Tensor>,
  ) {
    this.specs = specs
    this.scope = `figa_m${++modelSeq}_${Math.random().toString(36).slice(2, 8)}`
    let count = 0
    for (const s of specs) {
      const t = values.get(s.name)
      if (!t) throw new Error(`internal: no value for ${s.name}`)
      this.params.set(s.name, tf.variable(t, true, `${this.scope}/${s.name}`))
      t.dispose()
      count += t.size
    }
    this.paramCount = count
  }

  protected p(name: string): tf.Variable {
    const v = this.params.get(name)
    if (!v) throw new Error(`internal: parameter ${name} missing`)
    return v
  }

  /** the LM head [D, V] */
  protected abstract headWeight(): tf.Tensor2D
  /** the embedding matrix [V, D] of an untied model, or null when tied (embed from the head's columns) */
  protected abstract embedWeight(): tf.Tensor2D | null
  /** The transformer body: token embeddings [N, D] of rows laid out as `layout` says → final-normed hidden states [N, D]. */
  protected abstract body(x: tf.Tensor2D, layout: RowLayout): tf.Tensor2D
  /** token embedding plus position embedding when the architecture has one: [B·T] → [B·T, D] */
  protected embedTokens(ids: tf.Tensor1D): tf.Tensor2D {
    const e = this.embedWeight()
    return e ? embedRows(e, ids) : embedCols(this.headWeight(), ids)
  }

  newCache(batch = 1): KVCache {
    return new KVCache(this.config.numLayers, batch)
  }

  logits(hidden: tf.Tensor2D): tf.Tensor2D {
    return matmul(hidden, this.headWeight())
  }

  private run(input: TokenInput, cache: KVCache | undefined, tail: (h: tf.Tensor2D, B: number, T: number) => tf.Tensor3D): tf.Tensor3D {
    if (this.disposed) throw new Error('the model has been disposed')
    let B: number
    let T: number
    let ids: tf.Tensor1D
    if (input instanceof tf.Tensor) {
      ;[B, T] = input.shape
      ids = input.reshape([B * T]) as tf.Tensor1D
      if (input.dtype !== 'int32') throw new Error('token ids must be an int32 tensor')
    } else {
      B = input.length
      T = B ? input[0].length : 0
      if (!B || !T) throw new Error('forward needs at least one token')
      const flat = new Int32Array(B * T)
      for (let b = 0; b < B; b++) {
        const row = input[b]
        if (row.length !== T) throw new Error('all sequences in a batch must have the same length (pad them)')
        flat.set(this.checkIds(row), b * T)
      }
      ids = tf.tensor1d(flat, 'int32')
    }
    const past = cache?.length ?? 0
    if (cache && cache.batch !== B) throw new Error(`the cache holds ${cache.batch} sequences, the input ${B}`)
    if (past + T > this.config.maxPositions) {
      ids.dispose()
      throw new Error(`sequence too long: ${past + T} positions, the model supports ${this.config.maxPositions}`)
    }
    // equal-length sequences at positions past..past+T-1; each layer's keys/values kept for the cache
    const kept: LayerKV[] = []
    const positions: number[] = []
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) positions.push(past + t)
    const layout: RowLayout = {
      positions,
      attend: (i, q, k, v, heads) => {
        const r = attention(q, k, v, cache ? cache.layers[i] : null, { batch: B, seq: T, ...heads })
        if (cache) kept[i] = { kT: tf.keep(r.kv.kT), v: tf.keep(r.kv.v) }
        return r.out
      },
    }
    try {
      const out = tf.tidy(() => tail(this.body(this.embedTokens(ids), layout), B, T))
      if (cache) cache.update(kept, T)
      return out
    } catch (e) {
      for (const kv of kept) kv && (kv.kT.dispose(), kv.v.dispose())
      throw e
    } finally {
      ids.dispose() // ours, or a reshaped view of the caller's tensor
    }
  }

  private checkIds(row: ArrayLike<number>): ArrayLike<number> {
    for (let t = 0; t < row.length; t++) {
      const id = row[t]
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) throw new Error(`token id ${id} is outside the vocabulary (0..${this.config.vocabSize - 1})`)
    }
    return row
  }

  hiddenPacked(ids: Int32Array, segments: PackedSegment[], opts: PackedOptions = {}): { hidden: tf.Tensor2D; kv: PackedKV[] | null } {
    if (this.disposed) throw new Error('the model has been disposed')
    const past = opts.past ?? null
    const n = checkSegments(segments, past ? past[0].rows : null)
    if (n !== ids.length) throw new Error(`the packed segments cover ${n} rows, the ids ${ids.length}`)
    this.checkIds(ids)
    const positions = packedPositions(segments)
    const longest = positions.reduce((m, p) => Math.max(m, p + 1), 0)
    if (longest > this.config.maxPositions) throw new Error(`sequence too long: ${longest} positions, the model supports ${this.config.maxPositions}`)
    const kept: PackedKV[] = []
    const layout: RowLayout = {
      positions,
      attend: (i, q, k, v, heads) => {
        const r = packedAttention(q, k, v, segments, past ? past[i] : null, heads)
        if (opts.keepKV) kept[i] = { k: tf.keep(r.kv.k), v: tf.keep(r.kv.v), rows: r.kv.rows }
        return r.out
      },
    }
    try {
      const hidden = tf.tidy(() => this.body(this.embedTokens(tf.tensor1d(ids, 'int32')), layout))
      return { hidden, kv: opts.keepKV ? kept : null }
    } catch (e) {
      for (const kv of kept) kv && (kv.k.dispose(), kv.v.dispose())
      throw e
    }
  }

  forward(input: TokenInput, opts: ForwardOptions = {}): tf.Tensor3D {
    return this.run(input, opts.cache, (h, B, T) => {
      const V = this.config.vocabSize
      if (!opts.lastOnly) return this.logits(h).reshape([B, T, V])
      const last = T === 1 ? h : B === 1 ? h.slice([T - 1, 0], [1, -1]) : tf.gather(h, tf.range(T - 1, B * T, T, 'int32'))
      return this.logits(last as tf.Tensor2D).reshape([B, 1, V])
    })
  }

  hidden(input: TokenInput, opts: { cache?: KVCache } = {}): tf.Tensor3D {
    return this.run(input, opts.cache, (h, B, T) => h.reshape([B, T, this.config.hiddenSize]))
  }

  exportTensors(): TensorSource[] {
    return this.specs.map((s) => ({
      name: s.name,
      shape: hfShape(s),
      data: async () => {
        const v = this.p(s.name)
        const d = (await v.data()) as Float32Array
        return s.transposed ? transpose2d(d, s.shape[0], s.shape[1]) : d
      },
    }))
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    dropHeadRows()
    for (const v of this.params.values()) v.dispose()
    this.params.clear()
    this.disposeExtra()
  }

  /** architecture-specific constants to free */
  protected disposeExtra(): void {}
}

/** Row-major [rows, cols] → [cols, rows], blocked for cache friendliness. */
export function transpose2d(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols)
  const B = 64
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B)
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B)
      for (let r = r0; r < r1; r++) {
        const base = r * cols
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[base + c]
      }
    }
  }
  return out
}
