// Shared building blocks, written for the WASM backend's fast paths (DESIGN §4):
// - every matmul is a plain 2-D [N, K] @ [K, M] product (XNNPACK), with a customGrad whose backward
//   transposes explicitly, so the gradients also take the fast path (stock gradients use
//   transposeA/B flags, which fall to a ~9x slower scalar loop);
// - the bias rides in the matmul kernel (tf.fused.matMul) and its gradient is a ones-vector matmul
//   (Sum over axis 0 is slow);
// - embeddings are a gather with a scatterND backward (WASM has no UnsortedSegmentSum);
// - gelu_new is x·sigmoid(2·√(2/π)·(x + 0.044715x³)) (Tanh is ~10x slower than Sigmoid);
// - attention over more than one query uses 2-D matmuls per head on a per-head block layout, with
//   one custom gradient for the whole core; single-token decoding uses one small batched matmul
//   (few ops matter more than FLOPs there).
// Everything here is differentiable with tf.grad / tf.variableGrads.

import * as tf from '@tensorflow/tfjs'

type T2 = tf.Tensor2D

type GradFn = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[]

const engine = tf.engine() as unknown as { isTapeOn(): boolean }
/**
 * True while tf.grad / tf.variableGrads records a tape. The customGrad wrappers are only needed
 * then; inference calls the plain ops (a customGrad scope costs as much as a small kernel).
 */
export function taping(): boolean {
  return engine.isTapeOn()
}

/** tf.tidy for a function returning any object of tensors (nested objects are kept as well). */
export function tidy<R>(fn: () => R): R {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as R
}

const scalars = new Map<number, tf.Scalar>()
/** A cached scalar constant (kept for the life of the process; saves one tensor per use). */
export function scalar(v: number): tf.Scalar {
  let s = scalars.get(v)
  if (!s || s.isDisposed) {
    s = tf.keep(tf.scalar(v))
    scalars.set(v, s)
  }
  return s
}

/** tf.customGrad with positional tensor inputs and a typed gradient function. */
export function custom(arity: number, f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: tf.Tensor; gradFunc: GradFn }) {
  const fn = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const { value, gradFunc } = f(args.slice(0, arity) as tf.Tensor[], args[arity] as tf.GradSaveFunc)
    return { value, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => gradFunc(dy as tf.Tensor, saved) }
  }
  return tf.customGrad(fn as unknown as Parameters<typeof tf.customGrad>[0])
}

/** x [N, K] @ w [K, M]. */
const matmulOp = custom(2, ([x, w], save) => {
  save([x, w])
  return {
    value: tf.matMul(x as T2, w as T2),
    gradFunc: (dy, [xs, ws]) => [tf.matMul(dy as T2, tf.transpose(ws as T2)), tf.matMul(tf.transpose(xs as T2), dy as T2)],
  }
})

/** x [N, K] @ w [K, M] + b [M]. */
const linearOp = custom(3, ([x, w, b], save) => {
  save([x, w])
  return {
    value: tf.fused.matMul({ a: x as T2, b: w as T2, bias: b }),
    gradFunc: (dy, [xs, ws]) => {
      const g = dy as T2
      const ones = tf.ones([1, g.shape[0]]) as T2
      return [tf.matMul(g, tf.transpose(ws as T2)), tf.matMul(tf.transpose(xs as T2), g), tf.matMul(ones, g).reshape([g.shape[1]])]
    },
  }
})

/** x [N, K] @ c [K, M] where c is a constant (no gradient wanted for it). */
const matmulConstOp = custom(2, ([x, c], save) => {
  save([c])
  return {
    value: tf.matMul(x as T2, c as T2),
    gradFunc: (dy, [cs]) => [tf.matMul(dy as T2, tf.transpose(cs as T2)), tf.zerosLike(cs)],
  }
})

/** 2-D matmul on the fast path, forward and backward. */
export function matmul(x: T2, w: T2): T2 {
  return taping() ? (matmulOp(x, w) as T2) : tf.matMul(x, w)
}

/** x [..., K] @ w [K, M] (+ b): flattens to 2-D, multiplies, restores the leading dims. */
export function linear(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor | null): tf.Tensor {
  const k = x.shape[x.shape.length - 1] as number
  const x2 = x.rank === 2 ? (x as T2) : x.reshape([-1, k])
  let y: T2
  if (taping()) y = b ? (linearOp(x2, w, b) as T2) : (matmulOp(x2, w) as T2)
  else y = (b ? tf.fused.matMul({ a: x2, b: w as T2, bias: b }) : tf.matMul(x2, w as T2)) as T2
  return x.rank === 2 ? y : y.reshape([...(x.shape.slice(0, -1) as number[]), w.shape[1] as number])
}

/** x [N, K] @ c [K, M] for a constant c (no gradient for c). */
export function matmulConst(x: T2, c: T2): T2 {
  return taping() ? (matmulConstOp(x, c) as T2) : tf.matMul(x, c)
}

/** rows of table [V, D] at ids [N] → [N, D]. */
const gatherRowsOp = custom(2, ([table, ids], save) => {
  save([ids])
  const shape = table.shape as [number, number]
  return {
    value: tf.gather(table, ids),
    gradFunc: (dy, [idx]) => [tf.scatterND(idx.reshape([-1, 1]), dy, shape), tf.zerosLike(idx)],
  }
})

/**
 * columns of tableT [D, V] at ids [N] → [N, D] (the embedding lookup of a tied, pre-transposed head).
 * Gradient: dTableT[:, ids[n]] += dy[n]ᵀ, one scatter of the N·D elements straight into the flat
 * [D·V] layout (element (j, n) to j·V + ids[n]; repeats add up), so no [V, D] result is transposed.
 */
const gatherColsOp = custom(2, ([tableT, ids], save) => {
  save([ids])
  const [d, v] = tableT.shape as [number, number]
  return {
    value: tf.gather(tableRows(tableT), ids),
    gradFunc: (dy, [idx]) => {
      const id = idx.dataSync() as Int32Array
      const n = id.length
      // flat target of each element of dyᵀ [D, N] (built in JS: WASM's int32 broadcasting ops are slow)
      const flat = new Int32Array(d * n)
      for (let j = 0; j < d; j++) for (let k = 0; k < n; k++) flat[j * n + k] = j * v + id[k]
      const grad = tf.scatterND(tf.tensor2d(flat, [d * n, 1], 'int32'), tf.transpose(dy).reshape([d * n]), [d * v]).reshape([d, v])
      return [grad, tf.zerosLike(idx)]
    },
  }
})

/**
 * A [V, D] copy of a tied head tableT [D, V], kept while the head's values stay the same (a
 * training step reads it in every micro-batch; a new value — the next optimizer step — replaces
 * it). Gathering contiguous rows of it is far cheaper than gathering strided columns of [D, V]
 * and transposing them (measured: ~25 ms per 1000 tokens on the 15M bench model).
 */
let headRows: { dataId: object; rows: T2 } | null = null
function tableRows(tableT: tf.Tensor): T2 {
  const dataId = (tableT as unknown as { dataId: object }).dataId
  if (headRows?.dataId !== dataId) {
    headRows?.rows.dispose()
    headRows = { dataId, rows: tf.keep(tf.transpose(tableT)) as T2 }
  }
  return headRows.rows
}

/** Free the [V, D] copy kept for training's embedding lookups (a model's dispose calls it). */
export function dropHeadRows(): void {
  headRows?.rows.dispose()
  headRows = null
}

/** Embedding lookup: table [V, D] gathered by rows. ids: int32 [N]. */
export function embedRows(table: tf.Tensor, ids: tf.Tensor1D): T2 {
  return taping() ? (gatherRowsOp(table, ids) as T2) : (tf.gather(table, ids) as T2)
}

/** Embedding lookup in a [D, V] matrix (tied LM head stored pre-transposed). ids: int32 [N]. */
export function embedCols(tableT: tf.Tensor, ids: tf.Tensor1D): T2 {
  return taping() ? (gatherColsOp(tableT, ids) as T2) : (tf.transpose(tf.gather(tableT, ids, 1)) as T2)
}

const meanCols = new Map<number, tf.Tensor2D>()
/** [D, 1] filled with 1/D: x [N, D] @ it = the row means (a fast-path matmul; Mean is a slow kernel on WASM). */
function meanColumn(d: number): tf.Tensor2D {
  let c = meanCols.get(d)
  if (!c || c.isDisposed) {
    c = tf.keep(tf.fill([d, 1], 1 / d) as tf.Tensor2D)
    meanCols.set(d, c)
  }
  return c
}

/** mean over the last axis of a 2-D tensor, keeping it: [N, D] → [N, 1] */
export function rowMean(x: T2): T2 {
  return matmulConst(x, meanColumn(x.shape[1] as number))
}

/** LayerNorm over the last axis of [N, D] (biased variance, as torch). */
export function layerNorm(x: T2, w: tf.Tensor, b: tf.Tensor, eps: number): T2 {
  const xc = tf.sub(x, rowMean(x)) as T2
  const variance = rowMean(tf.square(xc) as T2)
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, scalar(eps)))), w), b) as T2
}

/** RMSNorm of [N, D]: w · x / sqrt(mean(x²) + eps). */
export function rmsNorm(x: T2, w: tf.Tensor, eps: number): T2 {
  const ms = rowMean(tf.square(x) as T2)
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, scalar(eps)))), w) as T2
}

const GELU_K = 2 * Math.sqrt(2 / Math.PI)
/** gelu_new = 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) = x·sigmoid(2√(2/π)(x + 0.044715x³)). */
export function geluNew(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), scalar(0.044715))), scalar(GELU_K))
  return tf.mul(x, tf.sigmoid(inner))
}

/** silu(x) = x·sigmoid(x). */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x))
}

// ---------------------------------------------------------------------------------------------
// Rotary position embeddings (HF rotate_half convention).

export type RopeScalingSpec =
  | { type: 'default' }
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }

/**
 * Inverse frequencies in float32, as LlamaRotaryEmbedding computes them:
 * inv_freq = 1 / θ^(2i/d), then the rope_scaling adjustment (linear, llama3).
 */
export function ropeInvFreq(headDim: number, theta: number, scaling: RopeScalingSpec = { type: 'default' }): Float64Array {
  const half = headDim / 2
  const f = Math.fround
  const inv = new Float64Array(half)
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(Math.pow(theta, f((2 * i) / headDim))))
  if (scaling.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = f(inv[i] / scaling.factor)
  } else if (scaling.type === 'llama3') {
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions: old } = scaling
    const lowWl = old / lowFreqFactor
    const highWl = old / highFreqFactor
    for (let i = 0; i < half; i++) {
      const wl = (2 * Math.PI) / inv[i]
      let v = wl > lowWl ? inv[i] / factor : inv[i]
      if (!(wl < highWl) && !(wl > lowWl)) {
        const s = (old / wl - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
        v = (1 - s) * (v / factor) + s * v
      }
      inv[i] = f(v)
    }
  }
  return inv
}

export interface RopeRows {
  /** [N, 1, d]: cos/sin of emb = cat(freqs, freqs), freqs = inv_freq · pos rounded to float32 */
  cos: tf.Tensor3D
  sin: tf.Tensor3D
  /** the same multiplied by `scale` (folds the attention scaling into the queries' rotation) */
  cosScaled: tf.Tensor3D
  sinScaled: tf.Tensor3D
}

/** RoPE rows for the given positions (one per token row). */
export function ropeRows(inv: Float64Array, positions: number[], scale = 1): RopeRows {
  const half = inv.length
  const d = 2 * half
  const n = positions.length
  const cos = new Float32Array(n * d)
  const sin = new Float32Array(n * d)
  for (let r = 0; r < n; r++) {
    const p = positions[r]
    for (let i = 0; i < half; i++) {
      const a = Math.fround(inv[i] * p)
      cos[r * d + i] = cos[r * d + i + half] = Math.cos(a)
      sin[r * d + i] = sin[r * d + i + half] = Math.sin(a)
    }
  }
  const cs = cos.map((v) => v * scale)
  const ss = sin.map((v) => v * scale)
  return {
    cos: tf.tensor3d(cos, [n, 1, d]),
    sin: tf.tensor3d(sin, [n, 1, d]),
    cosScaled: tf.tensor3d(cs, [n, 1, d]),
    sinScaled: tf.tensor3d(ss, [n, 1, d]),
  }
}

/** R [d, d] with x @ R = rotate_half(x) = cat(-x[d/2:], x[:d/2]). */
export function rotateHalfMatrix(headDim: number): tf.Tensor2D {
  const h = headDim / 2
  const m = new Float32Array(headDim * headDim)
  for (let j = 0; j < h; j++) {
    m[(j + h) * headDim + j] = -1 // out[j] = -x[j + h]
    m[j * headDim + j + h] = 1 // out[j + h] = x[j]
  }
  return tf.tensor2d(m, [headDim, headDim])
}

/**
 * Apply RoPE to x [N, heads·d]: x·cos + rotate_half(x)·sin per head, with cos/sin [N, 1, d].
 * rotate_half is a product with the constant R (one plain 2-D matmul instead of slice/neg/concat).
 */
export function applyRope(x: T2, cos: tf.Tensor3D, sin: tf.Tensor3D, rot: T2, heads: number): T2 {
  const [n, width] = x.shape
  const d = width / heads
  const x3 = x.reshape([n, heads, d])
  const rotated = matmulConst(x.reshape([n * heads, d]), rot).reshape([n, heads, d])
  return tf.add(tf.mul(x3, cos), tf.mul(rotated, sin)).reshape([n, width]) as T2
}

// ---------------------------------------------------------------------------------------------
// Attention with an optional KV cache.

/** Keys and values of one layer for a batch: kT [B·Hkv, d, S] (keys transposed), v [B·Hkv, S, d]. */
export interface LayerKV {
  kT: tf.Tensor3D
  v: tf.Tensor3D
}

export interface AttentionShape {
  batch: number
  /** new positions per sequence in this call */
  seq: number
  heads: number
  kvHeads: number
  headDim: number
}

/** Causal mask [T, S] for T new queries after `past` cached positions: 0 or -1e9. */
export function causalMask(t: number, past: number): T2 {
  const s = past + t
  const m = new Float32Array(t * s)
  for (let i = 0; i < t; i++) for (let j = past + i + 1; j < s; j++) m[i * s + j] = -1e9
  return tf.tensor2d(m, [t, s])
}

/**
 * Causal multi-head attention with grouped kv heads (query head h reads kv head h // (H / Hkv)).
 * q [B·T, H·d] (already rotated and scaled), k, v [B·T, Hkv·d]; `past` holds earlier keys/values
 * of the same sequences (or null). Returns the output [B·T, H·d] and the keys/values to cache.
 */
export function attention(q: T2, k: T2, v: T2, past: LayerKV | null, sh: AttentionShape): { out: T2; kv: LayerKV } {
  const { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: d } = sh
  const rep = H / Hkv
  // new keys → [B·Hkv, d, T], new values → [B·Hkv, T, d]
  let kT: tf.Tensor3D
  let vv: tf.Tensor3D
  if (T === 1) {
    kT = k.reshape([B * Hkv, d, 1])
    vv = v.reshape([B * Hkv, 1, d])
  } else {
    kT = tf.transpose(k.reshape([B, T, Hkv, d]), [0, 2, 3, 1]).reshape([B * Hkv, d, T])
    vv = tf.transpose(v.reshape([B, T, Hkv, d]), [0, 2, 1, 3]).reshape([B * Hkv, T, d])
  }
  if (past) {
    kT = tf.concat([past.kT, kT], 2)
    vv = tf.concat([past.v, vv], 1)
  }
  const S = kT.shape[2]
  const pastLen = S - T
  let out: T2
  if (T === 1) {
    // one query per sequence: q [B·Hkv, rep, d] @ kT [B·Hkv, d, S] → [B·Hkv, rep, S]; small batched matmuls
    const q3 = q.reshape([B * Hkv, rep, d])
    const p = tf.softmax(tf.matMul(q3, kT))
    out = tf.matMul(p, vv).reshape([B, H * d])
  } else {
    const mask = causalMask(T, pastLen)
    out = taping() ? (attendOp(sh, mask)(q, kT, vv) as T2) : attendForward(q, kT, vv, sh, mask, false).out
  }
  return { out, kv: { kT, v: vv } }
}

// The core of attention over several queries, q [B·T, H·d], kT [B·Hkv, d, S], v [B·Hkv, S, d] →
// [B·T, H·d], per (sequence, head) with plain 2-D matmuls. Heads are laid out once per call so that
// every head is a contiguous block ([B·H·T, d], [B·Hkv·S, d]): per-head pieces are then cheap
// contiguous slices, and under a tape a custom gradient computes each head's backward directly and
// joins the pieces with one concat (the stock gradients of per-head slices would pad every head's
// gradient to the full tensor and add them up).

/** [B·T, H·d] → [B·H·T, d]: each (sequence, head) a contiguous block of T rows */
export function toHeads(x: tf.Tensor, B: number, T: number, H: number, d: number): T2 {
  return tf.transpose(x.reshape([B, T, H, d]), [0, 2, 1, 3]).reshape([B * H * T, d]) as T2
}

/** [B·H·T, d] → [B·T, H·d] (inverse of toHeads) */
export function fromHeads(x: tf.Tensor, B: number, T: number, H: number, d: number): T2 {
  return tf.transpose(x.reshape([B, H, T, d]), [0, 2, 1, 3]).reshape([B * T, H * d]) as T2
}

/** acc + x, or x when there is no acc yet */
export function addTo(acc: T2 | null, x: T2): T2 {
  return acc ? (tf.add(acc, x) as T2) : x
}

/** rows r0..r0+n-1 of a 2-D tensor (a contiguous slice) */
export function rows(x: T2, r0: number, n: number): T2 {
  return x.slice([r0, 0], [n, x.shape[1]])
}

/**
 * Forward: per head softmax(q_h·kᵀ_g + mask)·v_g. Returns the output and, when `keepProbs`, every
 * head's probabilities [T, S] in (sequence, head) order (the backward pass needs them).
 */
function attendForward(q: T2, kT: tf.Tensor3D, v: tf.Tensor3D, sh: AttentionShape, mask: T2, keepProbs: boolean): { out: T2; probs: T2[] } {
  const { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: d } = sh
  const S = kT.shape[2]
  const rep = H / Hkv
  const qh = toHeads(q, B, T, H, d)
  const kT2 = kT.reshape([B * Hkv * d, S]) as T2
  const v2 = v.reshape([B * Hkv * S, d]) as T2
  const outs: T2[] = []
  const probs: T2[] = []
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < Hkv; g++) {
      const bg = b * Hkv + g
      const kTg = rows(kT2, bg * d, d)
      const vg = rows(v2, bg * S, S)
      for (let r = 0; r < rep; r++) {
        const bh = b * H + g * rep + r
        // a tidy per head: without keepProbs only one [T, S] score matrix is alive at a time
        const [o, p] = tf.tidy(() => {
          const p = tf.softmax(tf.add(tf.matMul(rows(qh, bh * T, T), kTg), mask)) as T2
          return [tf.matMul(p, vg), p] as T2[]
        })
        outs.push(o)
        if (keepProbs) probs.push(p)
        else p.dispose()
      }
      kTg.dispose()
      vg.dispose()
    }
  }
  const out = fromHeads(outs.length === 1 ? outs[0] : tf.concat(outs, 0), B, T, H, d)
  return { out, probs }
}

/**
 * The attention core as one differentiable op. Backward per head, with P its probabilities and
 * dO its output gradient (S = q·kᵀ + mask, P = softmax(S), O = P·v):
 *   dP = dO·vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq = dS·k,  dk = dSᵀ·q,  dv = Pᵀ·dO
 * (a kv head sums over the query heads that read it). q, dO, k = (kᵀ)ᵀ and vᵀ are laid out once per
 * call as per-head blocks, so each head's products are plain 2-D matmuls. dk and dv transpose the
 * [T, S] factor rather than multiply [d, T]·[T, S]: XNNPACK packs the right operand on every call,
 * and a wide fresh one with only d rows to multiply runs at half speed.
 */
function attendOp(sh: AttentionShape, mask: T2) {
  const { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: d } = sh
  const rep = H / Hkv
  return custom(3, ([q, kT, v], save) => {
    const { out, probs } = attendForward(q as T2, kT as tf.Tensor3D, v as tf.Tensor3D, sh, mask, true)
    save([q, kT, v, ...probs])
    return {
      value: out,
      gradFunc: (dy, [qs, kTs, vs, ...ps]) => {
        const S = kTs.shape[2] as number
        // per-head blocks: q and dO [B·H·T, d], k [B·Hkv·S, d], vᵀ [B·Hkv·d, S]
        const qh = toHeads(qs, B, T, H, d)
        const dO = toHeads(dy, B, T, H, d)
        const k = tf.transpose(kTs, [0, 2, 1]).reshape([B * Hkv * S, d]) as T2
        const vT = tf.transpose(vs, [0, 2, 1]).reshape([B * Hkv * d, S]) as T2
        const dq: T2[] = []
        const dk: T2[] = []
        const dv: T2[] = []
        for (let b = 0; b < B; b++) {
          for (let g = 0; g < Hkv; g++) {
            const bg = b * Hkv + g
            const grads = tf.tidy(() => {
              const kg = rows(k, bg * S, S)
              const vTg = rows(vT, bg * d, d)
              const dqs: T2[] = []
              let dkg: T2 | null = null
              let dvg: T2 | null = null
              for (let r = 0; r < rep; r++) {
                const bh = b * H + g * rep + r
                const p = ps[bh] as T2
                const dOh = rows(dO, bh * T, T)
                const dP = tf.matMul(dOh, vTg)
                const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), 1, true))) as T2
                dqs.push(tf.matMul(dS, kg))
                dkg = addTo(dkg, tf.matMul(tf.transpose(dS), rows(qh, bh * T, T)) as T2)
                dvg = addTo(dvg, tf.matMul(tf.transpose(p), dOh) as T2)
              }
              return [...dqs, dkg!, dvg!]
            })
            dq.push(...grads.slice(0, rep))
            dk.push(grads[rep])
            dv.push(grads[rep + 1])
          }
        }
        const dQ = fromHeads(dq.length === 1 ? dq[0] : tf.concat(dq, 0), B, T, H, d)
        const dK = (dk.length === 1 ? dk[0] : tf.concat(dk, 0)).reshape([B * Hkv, S, d])
        const dV = (dv.length === 1 ? dv[0] : tf.concat(dv, 0)).reshape([B * Hkv, S, d])
        return [dQ, tf.transpose(dK, [0, 2, 1]), dV]
      },
    }
  })
}
