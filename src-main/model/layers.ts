// Shared building blocks, written for the WASM backend's fast paths (DESIGN §4):
// - every matmul is a plain 2-D [N, K] @ [K, M] product (XNNPACK), with a customGrad whose backward
//   transposes explicitly, so the gradients also take the fast path (stock gradients use
//   transposeA/B flags, which fall to a ~9x slower scalar loop);
// - the bias rides in the matmul kernel (tf.fused.matMul) and its gradient is a ones-vector matmul
//   (Sum over axis 0 is slow);
// - embeddings are a gather with a scatterND backward (WASM has no UnsortedSegmentSum);
// - gelu_new is x·sigmoid(2·√(2/π)·(x + 0.044715x³)) (Tanh is ~10x slower than Sigmoid);
// - attention is in attention.ts.
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
    value: tf.gather(transposedTable(tableT), ids),
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
 * A [V, D] copy of the head [D, V], kept while the head's values stay the same (a training step
 * reads it in every micro-batch; a new value — the next optimizer step — replaces it). The tied
 * embedding lookup gathers contiguous rows of it, far cheaper than strided columns of [D, V] plus a
 * transpose (measured: ~25 ms per 1000 tokens on the 15M bench model); the trainer's head gradient
 * multiplies by blocks of it. Do not dispose it.
 */
let headRows: { dataId: object; rows: T2 } | null = null
export function transposedTable(tableT: tf.Tensor): T2 {
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
