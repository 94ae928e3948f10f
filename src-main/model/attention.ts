// Causal multi-head attention with grouped kv heads (query head h reads kv head h // (H / Hkv)),
// on WASM's fast path: 2-D matmuls per (sequence, head) on a per-head block layout, one custom
// gradient for the whole core under a tape.
//
// The core works on packed sequences: several sequences of different lengths as the rows of one
// call, without padding. Every per-token op (norms, projections, MLP) runs once over all rows;
// only attention looks at the sequence boundaries. A sequence may continue a prefix computed by an
// earlier packed call (`past`): it attends to all of the prefix's rows, then causally to its own.
// The training step uses this to run the shared prefix of y and ŷ once and both branches from it,
// with no padding anywhere. A prefix row's key/value gradient sums the contributions of every
// sequence that continues it.
//
// `attention()` is the batched entry (equal-length sequences with a KV cache, as generation and
// `forward` use): several queries per sequence are packed segments of the same core; a single
// query per sequence (decoding) is one small batched matmul over all heads (few ops matter more
// than FLOPs there).

import * as tf from '@tensorflow/tfjs'
import { custom, taping, tidy } from './layers'

type T2 = tf.Tensor2D

/** One sequence of a packed call: rows start..start+length-1, at positions past.length + t. */
export interface PackedSegment {
  start: number
  length: number
  /** the rows of the earlier call's keys/values this sequence continues (its prefix), if any */
  past?: { start: number; length: number } | null
}

/** Keys and values of one layer of a packed call, as per-head blocks: k, v [Hkv·rows, d]. */
export interface PackedKV {
  k: T2
  v: T2
  rows: number
}

export interface HeadShape {
  heads: number
  kvHeads: number
  headDim: number
}

/** Positions of the rows of a packed call (each sequence continues after its prefix). */
export function packedPositions(segments: PackedSegment[]): number[] {
  const pos: number[] = []
  for (const s of segments) for (let t = 0; t < s.length; t++) pos.push((s.past?.length ?? 0) + t)
  return pos
}

/**
 * Check that the segments tile rows 0..n-1 in order and that their prefixes lie within the past
 * call's rows; returns n. (Internal contract between the training planner and the model.)
 */
export function checkSegments(segments: PackedSegment[], pastRows: number | null): number {
  let n = 0
  for (const s of segments) {
    if (s.start !== n || !(s.length > 0)) throw new Error(`packed segments must tile the rows in order (segment at ${s.start}, length ${s.length}, expected start ${n})`)
    if (s.past) {
      if (pastRows === null) throw new Error('a packed segment continues a prefix, but no past keys/values were given')
      if (s.past.start < 0 || s.past.length <= 0 || s.past.start + s.past.length > pastRows) throw new Error(`packed segment prefix rows ${s.past.start}+${s.past.length} are outside the past call's ${pastRows} rows`)
    }
    n += s.length
  }
  return n
}

/**
 * Causal attention over packed sequences: q [N, H·d] (rotated, scaled), k, v [N, Hkv·d]; `past`
 * holds the prefix call's keys/values. Returns the output [N, H·d] and this call's keys/values.
 */
export function packedAttention(q: T2, k: T2, v: T2, segments: PackedSegment[], past: PackedKV | null, sh: HeadShape): { out: T2; kv: PackedKV } {
  const { heads: H, kvHeads: Hkv, headDim: d } = sh
  const N = q.shape[0]
  const qh = toHeads(q, 1, N, H, d)
  const kh = toHeads(k, 1, N, Hkv, d)
  const vh = toHeads(v, 1, N, Hkv, d)
  const masks = new Map<string, T2>()
  const maskOf = (t: number, p: number): T2 => {
    const key = `${t},${p}`
    let m = masks.get(key)
    // kept: first made inside a per-segment tidy, reused by later segments, disposed below
    if (!m) masks.set(key, (m = tf.keep(causalMask(t, p))))
    return m
  }
  const ctx: Ctx = { segments, N, Np: past?.rows ?? 0, sh, maskOf }
  let outH: T2
  if (taping()) {
    const inputs = past ? [qh, kh, vh, past.k, past.v] : [qh, kh, vh]
    outH = packedAttendOp(ctx, past ? 5 : 3)(...inputs) as T2
  } else outH = packedForward(ctx, qh, kh, vh, past?.k ?? null, past?.v ?? null, false).out
  for (const m of masks.values()) m.dispose()
  return { out: fromHeads(outH, 1, N, H, d), kv: { k: kh, v: vh, rows: N } }
}

interface Ctx {
  segments: PackedSegment[]
  /** rows of this call and of the past call */
  N: number
  Np: number
  sh: HeadShape
  maskOf: (t: number, past: number) => T2
}

/** Keys (or values) a segment attends to for kv head g: [its prefix rows; its own rows] → [S, d]. */
function segmentRows(own: T2, pastT: T2 | null, g: number, s: PackedSegment, c: Ctx): T2 {
  const mine = rows(own, g * c.N + s.start, s.length)
  if (!s.past || !pastT) return mine
  return tf.concat([rows(pastT, g * c.Np + s.past.start, s.past.length), mine], 0) as T2
}

/**
 * Forward: per (segment, head) softmax(q·kᵀ + mask)·v; the output in head-major rows [H·N, d].
 * With `keep` (under a tape) also what the backward pass reads, per (kv head, segment): the
 * probabilities of its query heads, its keys [S, d] and its values transposed [d, S].
 */
function packedForward(c: Ctx, qh: T2, kh: T2, vh: T2, pk: T2 | null, pv: T2 | null, keep: boolean): { out: T2; saved: T2[] } {
  const { heads: H, kvHeads: Hkv } = c.sh
  const rep = H / Hkv
  const outs: T2[][] = Array.from({ length: H }, () => [])
  const saved: T2[] = []
  for (let g = 0; g < Hkv; g++) {
    for (const s of c.segments) {
      const pl = s.past?.length ?? 0
      const r = tidy(() => {
        const K = segmentRows(kh, pk, g, s, c)
        const V = segmentRows(vh, pv, g, s, c)
        const kT = tf.transpose(K) as T2
        const os: T2[] = []
        const ps: T2[] = []
        for (let r = 0; r < rep; r++) {
          const h = g * rep + r
          const p = tf.softmax(tf.add(tf.matMul(rows(qh, h * c.N + s.start, s.length), kT), c.maskOf(s.length, pl))) as T2
          os.push(tf.matMul(p, V) as T2)
          if (keep) ps.push(p)
        }
        return { os, keep: keep ? [...ps, K, tf.transpose(V) as T2] : [] }
      })
      r.os.forEach((o, i) => outs[g * rep + i].push(o))
      saved.push(...r.keep)
    }
  }
  const flat = outs.flat()
  return { out: flat.length === 1 ? flat[0] : (tf.concat(flat, 0) as T2), saved }
}

/**
 * Σ of row blocks that may overlap, as one [n, d] tensor: `parts` are (first row, block) pairs;
 * rows no block covers are zeros. Used for the prefix rows' key/value gradients.
 */
function sumBlocks(n: number, d: number, parts: { start: number; t: T2 }[]): T2 {
  const cuts = new Set<number>([0, n])
  for (const p of parts) cuts.add(p.start).add(p.start + p.t.shape[0])
  const bounds = [...cuts].sort((a, b) => a - b)
  const pieces: T2[] = []
  for (let i = 0; i + 1 < bounds.length; i++) {
    const [a, b] = [bounds[i], bounds[i + 1]]
    let acc: T2 | null = null
    for (const p of parts) if (p.start <= a && p.start + p.t.shape[0] >= b) acc = addTo(acc, rows(p.t, a - p.start, b - a))
    pieces.push(acc ?? (tf.zeros([b - a, d]) as T2))
  }
  return pieces.length === 1 ? pieces[0] : (tf.concat(pieces, 0) as T2)
}

/**
 * The packed attention core as one differentiable op over qh [H·N, d], kh, vh [Hkv·N, d] and,
 * with a prefix call, its pk, pv [Hkv·Np, d]. Backward per (segment, head), P its probabilities:
 *   dP = dO·vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dq = dS·k,  dk = dSᵀ·q,  dv = Pᵀ·dO
 * (a kv head sums over the query heads that read it); a segment's dk, dv split into its prefix
 * rows and its own rows. The forward's probabilities and per-segment keys and transposed values
 * are saved, so the backward does not gather them again. dk and dv transpose the [T, S] factor
 * rather than multiply [d, T]·[T, S]: XNNPACK packs the right operand on every call, and a wide
 * fresh one with only d rows to multiply runs at half speed.
 */
function packedAttendOp(c: Ctx, arity: 3 | 5) {
  const { heads: H, kvHeads: Hkv, headDim: d } = c.sh
  const rep = H / Hkv
  return custom(arity, ([qh, kh, vh, pk, pv], save) => {
    // the past keys/values are read only through the saved per-segment K and Vᵀ
    const { out, saved: forBackward } = packedForward(c, qh as T2, kh as T2, vh as T2, (pk as T2) ?? null, (pv as T2) ?? null, true)
    save([qh, ...forBackward])
    return {
      value: out,
      gradFunc: (dy, saved) => {
        const [qS] = saved as T2[]
        // per (kv head, segment): rep probabilities, K, Vᵀ
        const perSegment = saved.slice(1) as T2[]
        const dO = dy as T2
        const dq: T2[][] = Array.from({ length: H }, () => [])
        const dkOwn: T2[] = []
        const dvOwn: T2[] = []
        const dkPast: { start: number; t: T2 }[][] = Array.from({ length: Hkv }, () => [])
        const dvPast: { start: number; t: T2 }[][] = Array.from({ length: Hkv }, () => [])
        let si = 0
        for (let g = 0; g < Hkv; g++) {
          for (const s of c.segments) {
            const pl = s.past?.length ?? 0
            const T = s.length
            const ps = perSegment.slice(si, si + rep)
            const K = perSegment[si + rep]
            const vT = perSegment[si + rep + 1]
            si += rep + 2
            const grads = tidy(() => {
              const dqs: T2[] = []
              let dk: T2 | null = null
              let dv: T2 | null = null
              for (let r = 0; r < rep; r++) {
                const h = g * rep + r
                const p = ps[r]
                const dOh = rows(dO, h * c.N + s.start, T)
                const dP = tf.matMul(dOh, vT)
                const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), 1, true))) as T2
                dqs.push(tf.matMul(dS, K) as T2)
                dk = addTo(dk, tf.matMul(tf.transpose(dS), rows(qS, h * c.N + s.start, T)) as T2)
                dv = addTo(dv, tf.matMul(tf.transpose(p), dOh) as T2)
              }
              const split = (x: T2) => (pl ? { past: rows(x, 0, pl), own: rows(x, pl, T) } : { past: null, own: x })
              return { dqs, k: split(dk!), v: split(dv!) }
            })
            grads.dqs.forEach((x, r) => dq[g * rep + r].push(x))
            dkOwn.push(grads.k.own)
            dvOwn.push(grads.v.own)
            if (grads.k.past && s.past) dkPast[g].push({ start: s.past.start, t: grads.k.past })
            if (grads.v.past && s.past) dvPast[g].push({ start: s.past.start, t: grads.v.past })
          }
        }
        const join = (xs: T2[]) => (xs.length === 1 ? xs[0] : (tf.concat(xs, 0) as T2))
        const result = [join(dq.flat()), join(dkOwn), join(dvOwn)]
        if (arity === 5) {
          result.push(join(dkPast.map((parts) => sumBlocks(c.Np, d, parts))))
          result.push(join(dvPast.map((parts) => sumBlocks(c.Np, d, parts))))
        }
        return result
      },
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Layout helpers.

/** Causal mask [T, S] for T new queries after `past` earlier positions: 0 or -1e9. */
export function causalMask(t: number, past: number): T2 {
  const s = past + t
  const m = new Float32Array(t * s)
  for (let i = 0; i < t; i++) for (let j = past + i + 1; j < s; j++) m[i * s + j] = -1e9
  return tf.tensor2d(m, [t, s])
}

/** [B·T, H·d] → [B·H·T, d]: each (sequence, head) a contiguous block of T rows */
export function toHeads(x: tf.Tensor, B: number, T: number, H: number, d: number): T2 {
  return tf.transpose(x.reshape([B, T, H, d]), [0, 2, 1, 3]).reshape([B * H * T, d]) as T2
}

/** [B·H·T, d] → [B·T, H·d] (inverse of toHeads) */
export function fromHeads(x: tf.Tensor, B: number, T: number, H: number, d: number): T2 {
  return tf.transpose(x.reshape([B, H, T, d]), [0, 2, 1, 3]).reshape([B * T, H * d]) as T2
}

/** acc + x, or x when there is no acc yet */
function addTo(acc: T2 | null, x: T2): T2 {
  return acc ? (tf.add(acc, x) as T2) : x
}

/** rows r0..r0+n-1 of a 2-D tensor (a contiguous slice) */
function rows(x: T2, r0: number, n: number): T2 {
  return x.slice([r0, 0], [n, x.shape[1]])
}

// ---------------------------------------------------------------------------------------------
// The batched entry, with an optional KV cache.

/** Keys and values of one layer for a batch: kT [B·Hkv, d, S] (keys transposed), v [B·Hkv, S, d]. */
export interface LayerKV {
  kT: tf.Tensor3D
  v: tf.Tensor3D
}

export interface AttentionShape extends HeadShape {
  batch: number
  /** new positions per sequence in this call */
  seq: number
}

/**
 * Causal attention for a batch of B sequences of T new positions each: q [B·T, H·d] (already
 * rotated and scaled), k, v [B·T, Hkv·d]; `past` holds earlier keys/values of the same sequences
 * (or null). Returns the output [B·T, H·d] and the keys/values to cache (past ones included).
 */
export function attention(q: T2, k: T2, v: T2, past: LayerKV | null, sh: AttentionShape): { out: T2; kv: LayerKV } {
  const { batch: B, seq: T, heads: H, kvHeads: Hkv, headDim: d } = sh
  let kT: tf.Tensor3D
  let vv: tf.Tensor3D
  let out: T2
  if (T === 1) {
    // one query per sequence: q [B·Hkv, rep, d] @ kT [B·Hkv, d, S] → [B·Hkv, rep, S]; small batched matmuls
    kT = past ? (tf.concat([past.kT, k.reshape([B * Hkv, d, 1])], 2) as tf.Tensor3D) : k.reshape([B * Hkv, d, 1])
    vv = past ? (tf.concat([past.v, v.reshape([B * Hkv, 1, d])], 1) as tf.Tensor3D) : v.reshape([B * Hkv, 1, d])
    const p = tf.softmax(tf.matMul(q.reshape([B * Hkv, H / Hkv, d]), kT))
    out = tf.matMul(p, vv).reshape([B, H * d])
  } else {
    // several queries: sequence b is packed segment b, continuing rows b·P.. of the past
    const P = past ? past.kT.shape[2] : 0
    const segments = Array.from({ length: B }, (_, b) => ({ start: b * T, length: T, past: P ? { start: b * P, length: P } : null }))
    const r = packedAttention(q, k, v, segments, past ? packedPast(past, B, Hkv, d) : null, sh)
    out = r.out
    // the cache layout from the call's per-head keys/values ([Hkv·B·T, d]): kT [B·Hkv, d, T], v [B·Hkv, T, d]
    kT = tf.transpose(r.kv.k.reshape([Hkv, B, T, d]), [1, 0, 3, 2]).reshape([B * Hkv, d, T])
    vv = (B === 1 ? r.kv.v : tf.transpose(r.kv.v.reshape([Hkv, B, T, d]), [1, 0, 2, 3])).reshape([B * Hkv, T, d])
    if (past) {
      kT = tf.concat([past.kT, kT], 2) as tf.Tensor3D
      vv = tf.concat([past.v, vv], 1) as tf.Tensor3D
    }
  }
  return { out, kv: { kT, v: vv } }
}

/** A batch's cached keys/values in the packed layout: [Hkv·B·P, d] each (per kv head, sequence after sequence). */
function packedPast(past: LayerKV, B: number, Hkv: number, d: number): PackedKV {
  const P = past.kT.shape[2]
  const k = tf.transpose(past.kT.reshape([B, Hkv, d, P]), [1, 0, 3, 2]).reshape([Hkv * B * P, d]) as T2
  const v = tf.transpose(past.v.reshape([B, Hkv, P, d]), [1, 0, 2, 3]).reshape([Hkv * B * P, d]) as T2
  return { k, v, rows: B * P }
}
