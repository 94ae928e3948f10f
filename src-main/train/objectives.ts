// The objectives (DESIGN §1) and the fused weighted cross-entropy they share.
//
//   FIGA:  L = ( Σ_t a(ŷ_t)·CE(ŷ_t)  −  Σ_t b(y_t)·CE(y_t) ) / N
//          a(ŷ_t) = α for added/substituted tokens of ŷ and for its closing EOS, γ otherwise
//          b(y_t) = β for deleted/substituted tokens of y, 0 otherwise, and 0 when the τ filter
//                   says the model no longer likes the token (CE > τ, or CE outside the band)
//          N      = response tokens with a non-zero weight (after the filter)
//   SFT:   the same with a ≡ 1 on every response token of ŷ (EOS included) and no y term.
//
// The weights a and b come from data.ts (FIGA token classes of signals/); figaLoss() applies the
// τ filter and forms the loss from per-token CE values. weightedCrossEntropy() is the tensor side:
// the LM head at the selected positions, CE by log-sum-exp, and a custom gradient
// w·(softmax − onehot) with the signed weights figaLoss decided.

import * as tf from '@tensorflow/tfjs'
import { tidy, transposedTable } from '../model/layers'
import { HEAD_CHUNK_ELEMENTS } from './settings'

export interface TauFilter {
  /** penalise a bad token only while CE ≤ τ (null: no threshold) */
  tau: number | null
  /** penalise only while lo ≤ CE ≤ hi; wins over tau */
  tauBand: [number, number] | null
}

/** The τ filter: is a bad token with this cross-entropy still penalised? */
export function penalised(ce: number, f: TauFilter): boolean {
  if (f.tauBand) return ce >= f.tauBand[0] && ce <= f.tauBand[1]
  if (f.tau !== null) return ce <= f.tau
  return true
}

/** Per-token cross-entropies and class weights of one side (ŷ: a, y: b), over a whole batch. */
export interface TokenTerms {
  ce: ArrayLike<number>
  weight: ArrayLike<number>
}

export interface LossParts {
  /** (positive − negative) / n, 0 when n = 0 */
  loss: number
  /** Σ a(ŷ_t)·CE(ŷ_t) (not normalised) */
  positive: number
  /** Σ b(y_t)·CE(y_t) after the τ filter (not normalised; enters the loss with a minus) */
  negative: number
  /** N: tokens with a non-zero weight */
  n: number
  /** the weights used: a per ŷ token, b per y token (0 where the τ filter dropped it) */
  a: Float64Array
  b: Float64Array
}

/** The FIGA loss of a batch from per-token CE values: L = (Σ a·CE(ŷ) − Σ b·CE(y)) / N. */
export function figaLoss(revised: TokenTerms, original: TokenTerms, filter: TauFilter): LossParts {
  const a = Float64Array.from(revised.weight)
  const b = Float64Array.from(original.weight, (w, t) => (w !== 0 && penalised(original.ce[t], filter) ? w : 0))
  const positive = dot(a, revised.ce)
  const negative = dot(b, original.ce)
  const n = nonZero(a) + nonZero(b)
  return { loss: n > 0 ? (positive - negative) / n : 0, positive, negative, n, a, b }
}

function dot(w: Float64Array, ce: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) s += w[i] * ce[i]
  return s
}

function nonZero(w: Float64Array): number {
  let n = 0
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) n++
  return n
}

// ---------------------------------------------------------------------------------------------
// The fused weighted cross-entropy over selected rows of the hidden states.

export interface WeightedCEArgs {
  /** final-normed hidden states [M, D] */
  hidden: tf.Tensor2D
  /** the LM head [D, V] (trained when `trainHead`) */
  head: tf.Tensor2D
  /** rows of `hidden` to score (repeats allowed), and the token each row must predict */
  rows: Int32Array
  targets: Int32Array
  /**
   * Given the CE of every selected row (float64), return the signed weight of each row: the
   * value is Σ w·CE and the gradient w·(softmax − onehot) at the logits.
   */
  weigh: (ce: Float64Array) => Float64Array<ArrayBufferLike>
  /** compute the head's gradient (false: the head is a constant here) */
  trainHead: boolean
  /**
   * The head transposed, [V, D], in row blocks (`transposedHead`), when the caller keeps one for
   * the optimizer step: the backward's dh = G·Wᵀ = Σ G[:, block]·Wᵀ[block] then multiplies by
   * matrices XNNPACK packs once for the whole step, instead of transposing G [m, V] and packing
   * it on every call; blocks of HEAD_T_BLOCK rows keep each product's packed panel in cache
   * (measured: 52 vs 39 GFLOP/s for one [V, D] product).
   */
  headT?: tf.Tensor2D[]
  /** rows per block of logits (default: HEAD_CHUNK_ELEMENTS / V) */
  chunkRows?: number
}

export interface WeightedCEResult {
  /** Σ w·CE as a scalar tensor (differentiable w.r.t. hidden and, when trained, head) */
  value: tf.Scalar
  /** CE of every selected row */
  ce: Float64Array
  /** the signed weights `weigh` returned */
  weights: Float64Array<ArrayBufferLike>
}

/**
 * Σ_r w_r · CE_r with CE_r = logsumexp(h_r·W) − (h_r·W)[target_r], on WASM's fast paths:
 * plain 2-D matmuls only (dh = G·Wᵀ with the caller's transposed copy of the head, else (W·Gᵀ)ᵀ),
 * the row gather's gradient as a scatterND (WASM has no UnsortedSegmentSum), the logits in blocks
 * of at most HEAD_CHUNK_ELEMENTS floats. With one block the factor G = w·(softmax − onehot) is kept
 * from the forward pass; with several, each block is recomputed in the backward pass (memory stays
 * at one block).
 */
/** rows per block of the transposed head (see WeightedCEArgs.headT) */
export const HEAD_T_BLOCK = 8192

/**
 * The head [D, V] transposed, in blocks of HEAD_T_BLOCK rows (the caller disposes them), cut from
 * the [V, D] copy the tied embedding lookup also reads (one transpose per optimizer step).
 */
export function transposedHead(head: tf.Tensor2D): tf.Tensor2D[] {
  const t = transposedTable(head)
  const [V, D] = t.shape
  const blocks: tf.Tensor2D[] = []
  for (let v0 = 0; v0 < V; v0 += HEAD_T_BLOCK) blocks.push(t.slice([v0, 0], [Math.min(HEAD_T_BLOCK, V - v0), D]))
  return blocks
}

export function weightedCrossEntropy(args: WeightedCEArgs): WeightedCEResult {
  const { hidden, head, headT, rows, targets, weigh, trainHead } = args
  const n = rows.length
  if (targets.length !== n) throw new Error('rows and targets differ in length')
  const [M, D] = hidden.shape
  const V = head.shape[1]
  if (head.shape[0] !== D) throw new Error(`head is [${head.shape}], hidden states have ${D} columns`)
  if (headT && (headT.reduce((r, b) => r + b.shape[0], 0) !== V || headT.some((b) => b.shape[1] !== D))) throw new Error(`headT does not hold the [${V}, ${D}] transposed head`)
  const chunk = Math.max(1, args.chunkRows ?? Math.floor(HEAD_CHUNK_ELEMENTS / V))
  const ce = new Float64Array(n)
  let weights: Float64Array<ArrayBufferLike> = new Float64Array(n)
  if (n === 0) return { value: tf.scalar(0), ce, weights }

  // outside the op: inside a customGrad forward the tape is always paused
  const taping = (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn()
  const blocks: [number, number][] = []
  for (let c0 = 0; c0 < n; c0 += chunk) blocks.push([c0, Math.min(chunk, n - c0)])

  // G = w·(softmax(logits) − onehot(target)) for rows c0..c0+m-1, from probs = softmax(logits)
  const gradFactor = (probs: tf.Tensor2D, c0: number, m: number): tf.Tensor2D => {
    const w = Float32Array.from(weights.subarray(c0, c0 + m))
    const onehotIdx = new Int32Array(2 * m)
    for (let r = 0; r < m; r++) {
      onehotIdx[2 * r] = r
      onehotIdx[2 * r + 1] = targets[c0 + r]
    }
    const hot = tf.scatterND(tf.tensor2d(onehotIdx, [m, 2], 'int32'), tf.tensor1d(w), [m, V])
    return tf.sub(tf.mul(probs, tf.tensor2d(w, [m, 1])), hot) as tf.Tensor2D
  }
  // logits, their softmax and log-sum-exp. The Softmax kernel is ~10x faster than Exp on WASM, and
  // the log-sum-exp follows from it without underflow: the largest probability is
  // 1 / Σ exp(l − max l) ≥ 1/V, so lse = max l − log(max p)
  const logitsOf = (hs: tf.Tensor2D, w: tf.Tensor2D) => {
    const logits = tf.matMul(hs, w) as tf.Tensor2D
    const probs = tf.softmax(logits) as tf.Tensor2D
    const lse = () => tf.sub(tf.max(logits, 1, true), tf.log(tf.max(probs, 1, true))) as tf.Tensor2D
    return { logits, lse, probs: () => probs }
  }

  // dh = G·Wᵀ: with the caller's transposed blocks a sum of plain products; otherwise (W·Gᵀ)ᵀ,
  // which transposes G
  const headGrad = (g: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D => {
    if (!headT) return tf.transpose(tf.matMul(w, tf.transpose(g))) as tf.Tensor2D
    if (headT.length === 1) return tf.matMul(g, headT[0]) as tf.Tensor2D
    let dh: tf.Tensor2D | null = null
    let c0 = 0
    for (const block of headT) {
      const part = tf.matMul(g.slice([0, c0], [g.shape[0], block.shape[0]]), block) as tf.Tensor2D
      dh = dh ? (tf.add(dh, part) as tf.Tensor2D) : part
      c0 += block.shape[0]
    }
    return dh!
  }

  const op = (h: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
    const idx = tf.tensor1d(rows, 'int32')
    const hs = tf.gather(h, idx) as tf.Tensor2D
    let kept: tf.Tensor2D | null = null
    for (const [c0, m] of blocks) {
      let c: Float32Array<ArrayBufferLike> = new Float32Array(0)
      const probsKept = tidy((): tf.Tensor2D | null => {
        const hc = blocks.length === 1 ? hs : (hs.slice([c0, 0], [m, D]) as tf.Tensor2D)
        const { logits, lse, probs } = logitsOf(hc, w as tf.Tensor2D)
        const flat = new Int32Array(m)
        for (let r = 0; r < m; r++) flat[r] = r * V + targets[c0 + r]
        const tl = tf.gather(logits.reshape([m * V]), tf.tensor1d(flat, 'int32'))
        c = tf.sub(lse().reshape([m]), tl).dataSync() as Float32Array
        return taping && blocks.length === 1 ? probs() : null
      })
      ce.set(c, c0)
      if (blocks.length === 1) {
        weights = weigh(ce)
        if (weights.length !== n) throw new Error('weigh() must return one weight per row')
        if (probsKept) kept = tf.tidy(() => gradFactor(probsKept, c0, m))
      }
      probsKept?.dispose()
    }
    if (blocks.length > 1) {
      weights = weigh(ce)
      if (weights.length !== n) throw new Error('weigh() must return one weight per row')
    }
    let value = 0
    for (let i = 0; i < n; i++) if (weights[i] !== 0) value += weights[i] * ce[i]
    save(kept ? [hs, w, idx, kept] : [hs, w, idx])
    kept?.dispose()
    return {
      value: tf.scalar(value),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [hsS, wS, idxS, gS] = saved as tf.Tensor2D[]
        const scale = dy as tf.Tensor
        let dHs: tf.Tensor2D
        let dW: tf.Tensor2D | null = null
        if (gS) {
          const g = tf.mul(gS, scale) as tf.Tensor2D
          dHs = headGrad(g, wS)
          if (trainHead) dW = tf.matMul(tf.transpose(hsS), g) as tf.Tensor2D
        } else {
          const parts: tf.Tensor2D[] = []
          for (const [c0, m] of blocks) {
            const r = tf.tidy((): tf.TensorContainer => {
              const hc = hsS.slice([c0, 0], [m, D]) as tf.Tensor2D
              const g = tf.mul(gradFactor(logitsOf(hc, wS).probs(), c0, m), scale) as tf.Tensor2D
              const dh = headGrad(g, wS)
              const dw = trainHead ? (tf.matMul(tf.transpose(hc), g) as tf.Tensor2D) : null
              return dw ? { dh, dw } : { dh }
            }) as { dh: tf.Tensor2D; dw?: tf.Tensor2D }
            parts.push(r.dh)
            if (r.dw) {
              if (dW) {
                const s = tf.add(dW, r.dw) as tf.Tensor2D
                dW.dispose()
                r.dw.dispose()
                dW = s
              } else dW = r.dw
            }
          }
          dHs = tf.concat(parts, 0) as tf.Tensor2D
        }
        const dH = tf.scatterND(idxS.reshape([n, 1]), dHs, [M, D])
        return trainHead ? [dH, dW as tf.Tensor2D] : [dH]
      },
    }
  }

  let value: tf.Scalar
  if (trainHead) {
    const f = tf.customGrad(((h: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => op(h, w, save)) as unknown as Parameters<typeof tf.customGrad>[0])
    value = f(hidden, head) as tf.Scalar
  } else {
    const f = tf.customGrad(((h: tf.Tensor, save: tf.GradSaveFunc) => op(h, head, save)) as unknown as Parameters<typeof tf.customGrad>[0])
    value = f(hidden) as tf.Scalar
  }
  return { value, ce, weights }
}
