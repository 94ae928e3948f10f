// One micro-batch through the model: the rows it runs, the positions the LM head scores, the
// shared prefix computed once, and the loss/gradient.
//
// Rows: per pair the ŷ sequence and (FIGA) the y sequence, inputs = ids[0 .. L-2] (the hidden
// state at position j predicts ids[j+1]). Sequences are right-padded to the longest row of their
// group; causal attention means no real position ever sees a pad, so no mask is needed.
//
// Shared prefix (efficiency.sharedPrefix): y and ŷ of a pair start with the same tokens (the
// prompt, then the response up to the first edit). The first p positions, p = the shortest common
// prefix in the micro-batch, are run once per pair ([B, p], filling a KV cache); the branches then
// continue from that cache ([R, T - p]). All of it happens inside the gradient computation, so the
// prefix receives the gradient of both branches.
//
// Sparse head (efficiency.sparseHead): the LM head and softmax run only at positions whose token
// carries a weight (for y: every bad token, since the τ filter needs its CE), and each row ends at
// its last weighted token (nothing after it can change the loss); without it, the head runs at
// every position of every padded row, as the official recipe does.
//
// Filtered branches (efficiency.pruneFiltered): the y rows run in their own call, scored first;
// when the τ filter drops every bad token of the micro-batch, their loss term is left out of the
// scalar that is differentiated, so their backward pass never runs (tf.grad only walks the tape
// from the variables to the loss). The official recipe backpropagates through them with zero weights.

import * as tf from '@tensorflow/tfjs'
import type { CausalLM, KVCache } from '../model/base'
import type { LayerKV } from '../model/layers'
import type { PreparedBranch, PreparedPair } from './data'
import { weightedCrossEntropy } from './objectives'

export type SelectMode = 'sparse' | 'full' | 'eval'

/** Positions the LM head scores, for one group of rows. */
export interface Selection {
  /** row of the stacked hidden states [B·p + R·T, D] (prefix rows first, then this group's rows) */
  hRow: Int32Array
  /** token to predict */
  target: Int32Array
  /** class weight of the token: a(ŷ_t) or b(y_t) (0 for unweighted positions) */
  weight: Float32Array
  /** 1 where the token belongs to y */
  isOriginal: Uint8Array
  /** 1 where the token is a response token (not prompt, not padding) */
  isResponse: Uint8Array
  /** pair index (within the micro-batch) */
  pairOf: Int32Array
}

/** Rows run in one model call after the prefix. */
export interface RowGroup {
  rowIds: number[][]
  /** pair index of each row */
  rowPair: number[]
  /** padded length */
  T: number
  /** true for the group of y rows that may be left out of the backward pass */
  prunable: boolean
  sel: Selection
}

export interface BatchPlan {
  /** pairs in the micro-batch */
  B: number
  /** shared prefix length (0: none) */
  p: number
  prefixIds: number[][] | null
  /** one group (every row), or two: ŷ rows, then y rows (prunable) */
  groups: RowGroup[]
  /** tokens the model runs (prefix + padded rows) */
  computedTokens: number
  /** tokens as the recipe counts them: Σ len(prompt+ŷ) (+ len(prompt+y)) */
  pairTokens: number
  /** response tokens (both branches) */
  responseTokens: number
}

export interface PlanOptions {
  method: 'figa' | 'sft'
  sharedPrefix: boolean
  select: SelectMode
  /** run y rows in their own, prunable call (only meaningful with a τ filter) */
  splitBranches?: boolean
  /** a valid token id used for padding (its outputs are never used) */
  padId: number
}

/** Lay out the rows and selected positions of a micro-batch. */
export function planBatch(pairs: PreparedPair[], o: PlanOptions): BatchPlan {
  const B = pairs.length
  if (!B) throw new Error('empty micro-batch')
  const branches = (pp: PreparedPair) => ((o.method === 'figa' || o.select === 'eval') && pp.original ? [pp.revised, pp.original] : [pp.revised])
  const rowsOf: { pair: number; br: PreparedBranch; orig: boolean }[] = []
  pairs.forEach((pp, i) => branches(pp).forEach((br, k) => rowsOf.push({ pair: i, br, orig: k === 1 })))
  // inputs each row needs: ids[0 .. L-2]; with a sparse head only up to its last weighted token
  // (later positions cannot influence earlier ones under causal attention)
  const need = rowsOf.map(({ br }) => {
    if (o.select !== 'sparse') return br.ids.length - 1
    let last = 0
    for (let k = br.respStart; k < br.ids.length; k++) if (br.weights[k - br.respStart] !== 0) last = k
    return last
  })
  let p = 0
  if (o.sharedPrefix && pairs.some((pp) => branches(pp).length === 2)) {
    p = Infinity
    pairs.forEach((pp, i) => {
      const rows = rowsOf.map((r, ri) => ({ r, ri })).filter(({ r }) => r.pair === i)
      const common = rows.length === 2 ? pp.shared : Infinity
      p = Math.min(p, common, ...rows.map(({ r }) => r.br.ids.length - 1))
    })
    if (!Number.isFinite(p)) p = 0
  }
  const split = !!o.splitBranches && o.select !== 'eval' && rowsOf.some((r) => r.orig)
  const groupsOf = split ? [rowsOf.map((r, ri) => ({ r, ri })).filter(({ r }) => !r.orig), rowsOf.map((r, ri) => ({ r, ri })).filter(({ r }) => r.orig)] : [rowsOf.map((r, ri) => ({ r, ri }))]
  let pairTokens = 0
  for (const pp of pairs) pairTokens += pp.revised.ids.length + (o.method === 'figa' && pp.original ? pp.original.ids.length : 0)
  let responseTokens = 0
  for (const r of rowsOf) responseTokens += r.br.ids.length - r.br.respStart
  let computedTokens = B * p
  const groups: RowGroup[] = groupsOf.map((members, gi) => {
    let T = 0
    for (const { ri } of members) T = Math.max(T, need[ri] - p)
    const rowIds = members.map(({ r, ri }) => {
      const a = Array.from(r.br.ids.subarray(p, Math.max(p, need[ri])))
      while (a.length < T) a.push(o.padId)
      return a
    })
    computedTokens += members.length * T
    const sel = { hRow: [] as number[], target: [] as number[], weight: [] as number[], orig: [] as number[], resp: [] as number[], pair: [] as number[] }
    members.forEach(({ r }, gr) => {
      const { ids, respStart, weights } = r.br
      const L = ids.length
      const hIndex = (j: number) => (j < p ? r.pair * p + j : B * p + gr * T + (j - p))
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
      rowIds,
      rowPair: members.map(({ r }) => r.pair),
      T,
      prunable: split && gi === 1,
      sel: {
        hRow: Int32Array.from(sel.hRow),
        target: Int32Array.from(sel.target),
        weight: Float32Array.from(sel.weight),
        isOriginal: Uint8Array.from(sel.orig),
        isResponse: Uint8Array.from(sel.resp),
        pairOf: Int32Array.from(sel.pair),
      },
    }
  })
  return { B, p, prefixIds: p > 0 ? pairs.map((pp) => Array.from(pp.revised.ids.subarray(0, p))) : null, groups, computedTokens, pairTokens, responseTokens }
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
  // a clone when it is the cache's own tensor: the row call's cache update disposes what it gets
  return parts.length === 1 ? (parts[0] === t ? (tf.clone(t) as tf.Tensor3D) : parts[0]) : (tf.concat(parts, 0) as tf.Tensor3D)
}

export interface BatchLossArgs {
  model: CausalLM
  head: tf.Tensor2D
  /** the head transposed [V, D] in row blocks, kept for the step (see weightedCrossEntropy); optional */
  headT?: tf.Tensor2D[]
  plan: BatchPlan
  /** signed weight per selected position of a group, from its CE (the objective) */
  weigh: (group: RowGroup, ce: Float64Array) => Float64Array
  trainHead: boolean
}

export interface BatchLossResult {
  /** Σ w·CE over the groups that take part in the gradient */
  value: tf.Scalar
  /** CE per group, per selected position */
  ce: Float64Array[]
  /** groups left out of the backward pass (all their weights were 0) */
  pruned: number
}

/**
 * Run the plan (call inside tf.variableGrads or tf.tidy): the prefix once, each group of rows from
 * its cache, the fused weighted CE per group. A prunable group whose weights all come out 0 is not
 * added to the value, so no gradient flows through it. The KV caches are disposed before returning.
 */
export function batchLoss(a: BatchLossArgs): BatchLossResult {
  const { model, plan } = a
  const D = model.config.hiddenSize
  const caches: KVCache[] = []
  try {
    let prefix: tf.Tensor2D | null = null
    let pc: KVCache | null = null
    if (plan.p > 0 && plan.prefixIds) {
      pc = model.newCache(plan.B)
      caches.push(pc)
      prefix = model.hidden(plan.prefixIds, { cache: pc }).reshape([plan.B * plan.p, D]) as tf.Tensor2D
    }
    // prunable groups first: whether they take part is known once they are scored
    const order = plan.groups.map((g, i) => i).sort((x, y) => Number(plan.groups[y].prunable) - Number(plan.groups[x].prunable))
    const ce: Float64Array[] = new Array(plan.groups.length)
    const terms: tf.Scalar[] = []
    let pruned = 0
    let anyHidden: tf.Tensor2D | null = null
    for (const gi of order) {
      const g = plan.groups[gi]
      if (g.sel.hRow.length === 0 && (!g.prunable || g.T === 0)) {
        ce[gi] = new Float64Array(0)
        if (g.prunable) pruned++
        continue
      }
      const parts: tf.Tensor2D[] = prefix ? [prefix] : []
      if (g.T > 0) {
        let cache: KVCache | undefined
        if (pc) {
          cache = model.newCache(g.rowIds.length)
          caches.push(cache)
          const layers = pc.layers
          cache.layers = layers.map((l) => (l ? ({ kT: expandRows(l.kT, plan.B, g.rowPair), v: expandRows(l.v, plan.B, g.rowPair) } as LayerKV) : null))
          cache.length = plan.p
        }
        parts.push(model.hidden(g.rowIds, cache ? { cache } : {}).reshape([g.rowIds.length * g.T, D]) as tf.Tensor2D)
      }
      const h = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D)
      anyHidden = h
      const r = weightedCrossEntropy({ hidden: h, head: a.head, headT: a.headT, rows: g.sel.hRow, targets: g.sel.target, weigh: (c) => a.weigh(g, c), trainHead: a.trainHead })
      ce[gi] = r.ce
      if (g.prunable && !r.weights.some((w) => w !== 0)) pruned++
      else terms.push(r.value)
    }
    // nothing weighted at all: a zero that is still connected to the weights (zero gradient)
    if (!terms.length) {
      if (!anyHidden) anyHidden = prefix ?? (model.hidden([plan.groups[0].rowIds[0]?.length ? plan.groups[0].rowIds[0] : [0]]).reshape([-1, D]) as tf.Tensor2D)
      terms.push(tf.mul(tf.sum(anyHidden), 0) as tf.Scalar)
    }
    const value = terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar)
    return { value, ce, pruned }
  } finally {
    for (const c of caches) c.dispose()
  }
}
