// One micro-batch through the model: the rows it runs, the positions the LM head scores, the
// shared prefix computed once, and the loss/gradient.
//
// Rows: per pair the ŷ sequence and (FIGA) the y sequence, inputs = ids[0 .. L-2] (the hidden
// state at position j predicts ids[j+1]). Sequences are right-padded to the longest row of the
// micro-batch; causal attention means no real position ever sees a pad, so no mask is needed.
//
// Shared prefix (efficiency.sharedPrefix): y and ŷ of a pair start with the same tokens (the
// prompt, then the response up to the first edit). The first p positions, p = the shortest common
// prefix in the micro-batch, are run once per pair ([B, p], filling a KV cache); both branches then
// continue from that cache ([R, T - p]). All of it happens inside the gradient computation, so the
// prefix receives the gradient of both branches.
//
// Sparse head (efficiency.sparseHead): the LM head and softmax run only at positions whose token
// carries a weight (for y: every bad token, since the τ filter needs its CE); without it, at every
// position of every row (pads included), as the official recipe does.

import * as tf from '@tensorflow/tfjs'
import type { CausalLM, KVCache } from '../model/base'
import type { LayerKV } from '../model/layers'
import type { PreparedPair } from './data'
import { type WeightedCEResult, weightedCrossEntropy } from './objectives'

export type SelectMode = 'sparse' | 'full' | 'eval'

export interface BatchPlan {
  /** pairs in the micro-batch */
  B: number
  /** rows run after the prefix (ŷ and, for FIGA, y per pair) */
  R: number
  /** shared prefix length (0: none) */
  p: number
  /** padded length of the rows after the prefix */
  T: number
  prefixIds: number[][] | null
  rowIds: number[][]
  /** pair index (within the micro-batch) of each row */
  rowPair: number[]
  /** selected positions: row of the stacked hidden states [B·p + R·T, D], token to predict */
  hRow: Int32Array
  target: Int32Array
  /** class weight of the selected token: a(ŷ_t) or b(y_t) (0 for unweighted positions) */
  weight: Float32Array
  /** 1 where the selected token belongs to y */
  isOriginal: Uint8Array
  /** 1 where the selected token is a response token (not prompt, not padding) */
  isResponse: Uint8Array
  /** pair index of each selected position */
  pairOf: Int32Array
  /** tokens the model runs (prefix + padded rows) */
  computedTokens: number
  /** tokens as the recipe counts them: Σ len(prompt+ŷ) (+ len(prompt+y)) */
  pairTokens: number
  /** response tokens (both branches) and weighted ones among them */
  responseTokens: number
}

export interface PlanOptions {
  method: 'figa' | 'sft'
  sharedPrefix: boolean
  select: SelectMode
  /** a valid token id used for padding (its outputs are never used) */
  padId: number
}

/** Lay out the rows and selected positions of a micro-batch. */
export function planBatch(pairs: PreparedPair[], o: PlanOptions): BatchPlan {
  const B = pairs.length
  if (!B) throw new Error('empty micro-batch')
  const branches = (pp: PreparedPair) => (o.method === 'figa' || o.select === 'eval') && pp.original ? [pp.revised, pp.original] : [pp.revised]
  const twoBranches = pairs.every((pp) => branches(pp).length === 2)
  let p = 0
  if (o.sharedPrefix && twoBranches) {
    p = Infinity
    for (const pp of pairs) p = Math.min(p, pp.shared, pp.revised.ids.length - 1, pp.original!.ids.length - 1)
  }
  const rowsOf: { pair: number; br: PreparedPair['revised']; orig: boolean }[] = []
  pairs.forEach((pp, i) => branches(pp).forEach((br, k) => rowsOf.push({ pair: i, br, orig: k === 1 })))
  const R = rowsOf.length
  let T = 0
  for (const r of rowsOf) T = Math.max(T, r.br.ids.length - 1 - p)
  const prefixIds = p > 0 ? pairs.map((pp) => Array.from(pp.revised.ids.subarray(0, p))) : null
  const rowIds = rowsOf.map((r) => {
    const a = Array.from(r.br.ids.subarray(p, r.br.ids.length - 1))
    while (a.length < T) a.push(o.padId)
    return a
  })
  const sel = { hRow: [] as number[], target: [] as number[], weight: [] as number[], orig: [] as number[], resp: [] as number[], pair: [] as number[] }
  let responseTokens = 0
  let pairTokens = 0
  for (const pp of pairs) pairTokens += pp.revised.ids.length + (o.method === 'figa' && pp.original ? pp.original.ids.length : 0)
  rowsOf.forEach((r, ri) => {
    const { ids, respStart, weights } = r.br
    const L = ids.length
    responseTokens += L - respStart
    const hIndex = (j: number) => (j < p ? r.pair * p + j : B * p + ri * T + (j - p))
    const add = (j: number, target: number, w: number, resp: boolean) => {
      sel.hRow.push(hIndex(j))
      sel.target.push(target)
      sel.weight.push(w)
      sel.orig.push(r.orig ? 1 : 0)
      sel.resp.push(resp ? 1 : 0)
      sel.pair.push(r.pair)
    }
    if (o.select === 'sparse') {
      for (let k = respStart; k < L; k++) if (weights[k - respStart] !== 0) add(k - 1, ids[k], weights[k - respStart], true)
    } else if (o.select === 'eval') {
      for (let k = respStart; k < L; k++) add(k - 1, ids[k], 1, true)
    } else {
      // every position the model runs for this row, pads included; prefix positions once per row
      for (let j = 0; j < p + T; j++) {
        const k = j + 1
        if (k < L) add(j, ids[k], k >= respStart ? weights[k - respStart] : 0, k >= respStart)
        else add(j, o.padId, 0, false)
      }
    }
  })
  return {
    B,
    R,
    p,
    T,
    prefixIds,
    rowIds,
    rowPair: rowsOf.map((r) => r.pair),
    hRow: Int32Array.from(sel.hRow),
    target: Int32Array.from(sel.target),
    weight: Float32Array.from(sel.weight),
    isOriginal: Uint8Array.from(sel.orig),
    isResponse: Uint8Array.from(sel.resp),
    pairOf: Int32Array.from(sel.pair),
    computedTokens: B * p + R * T,
    pairTokens,
    responseTokens,
  }
}

/** The LM head matrix [D, V] of a model (the tied embedding or lm_head.weight). */
export function headWeight(model: CausalLM): tf.Variable {
  const c = model.config
  const names = c.tieWordEmbeddings ? [c.family === 'gpt2' ? 'transformer.wte.weight' : 'model.embed_tokens.weight'] : ['lm_head.weight']
  for (const n of names) {
    const v = model.params.get(n)
    if (v && v.shape.length === 2 && v.shape[0] === c.hiddenSize && v.shape[1] === c.vocabSize) return v
  }
  throw new Error(`cannot find the LM head [${c.hiddenSize}, ${c.vocabSize}] among the model parameters (looked for ${names.join(', ')})`)
}

/** Rows of the batch dimension of a cached tensor [B·H, …] repeated for each row's pair → [R·H, …]. */
function expandRows(t: tf.Tensor3D, B: number, rowPair: number[]): tf.Tensor3D {
  const H = t.shape[0] / B
  const parts = rowPair.map((i) => (B === 1 ? t : (t.slice([i * H, 0, 0], [H, t.shape[1], t.shape[2]]) as tf.Tensor3D)))
  return tf.concat(parts, 0) as tf.Tensor3D
}

/**
 * Run the plan: hidden states of the prefix and the rows, stacked [B·p + R·T, D]. Must be called
 * inside a tidy / gradient scope; the KV caches it makes are disposed before it returns.
 */
export function hiddenStates(model: CausalLM, plan: BatchPlan): tf.Tensor2D {
  const D = model.config.hiddenSize
  const caches: KVCache[] = []
  try {
    const parts: tf.Tensor2D[] = []
    let cache: KVCache | undefined
    if (plan.p > 0 && plan.prefixIds) {
      const pc = model.newCache(plan.B)
      caches.push(pc)
      parts.push(model.hidden(plan.prefixIds, { cache: pc }).reshape([plan.B * plan.p, D]) as tf.Tensor2D)
      if (plan.T > 0) {
        cache = model.newCache(plan.R)
        caches.push(cache)
        cache.layers = pc.layers.map((l) => (l ? ({ kT: expandRows(l.kT, plan.B, plan.rowPair), v: expandRows(l.v, plan.B, plan.rowPair) } as LayerKV) : null))
        cache.length = plan.p
      }
    }
    if (plan.T > 0) parts.push(model.hidden(plan.rowIds, cache ? { cache } : {}).reshape([plan.R * plan.T, D]) as tf.Tensor2D)
    return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D)
  } finally {
    for (const c of caches) c.dispose()
  }
}

export interface BatchLossArgs {
  model: CausalLM
  head: tf.Tensor2D
  plan: BatchPlan
  /** signed weight per selected position, from its CE (the objective) */
  weigh: (ce: Float64Array) => Float64Array
  trainHead: boolean
}

/** Σ w·CE over the plan's selected positions (call inside tf.variableGrads or tf.tidy). */
export function batchLoss(a: BatchLossArgs): WeightedCEResult {
  const h = hiddenStates(a.model, a.plan)
  return weightedCrossEntropy({ hidden: h, head: a.head, rows: a.plan.hRow, targets: a.plan.target, weigh: a.weigh, trainHead: a.trainHead })
}
