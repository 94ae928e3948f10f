// One micro-batch through the model: the rows it runs, the positions the LM head scores, the
// shared prefix computed once, and the loss/gradient.
//
// Rows: per pair the ŷ sequence and (FIGA) the y sequence, inputs = ids[0 .. L-2] (the hidden
// state at position j predicts ids[j+1]). The rows of a call are packed one after another without
// padding (model/attention.ts): every per-token op runs over exactly the tokens needed, and attention
// keeps each sequence to itself. With `pad` (bucketing off, the official recipe's layout) each row
// is instead padded to the longest row of its group; causal attention means no real position ever
// sees a pad.
//
// Shared prefix (efficiency.sharedPrefix): y and ŷ of a pair start with the same tokens (the
// prompt, then the response up to the first edit). Each pair's common prefix is run once, in a
// prefix call; its branches continue from the prefix's keys/values in the next call. (Padded: one
// prefix length for the micro-batch, the shortest.) All of it happens inside the gradient
// computation, so the prefix receives the gradient of both branches.
//
// Sparse head (efficiency.sparseHead): the LM head and softmax run only at positions whose token
// carries a weight (for y: every bad token, since the τ filter needs its CE), and each row ends at
// its last weighted token (nothing after it can change the loss); without it, the head runs at
// every position of every row, as the official recipe does.
//
// Filtered branches (efficiency.pruneFiltered): the y rows run in their own call, scored first;
// when the τ filter drops every bad token of the micro-batch, their loss term is left out of the
// scalar that is differentiated, so their backward pass never runs (tf.grad only walks the tape
// from the variables to the loss). The official recipe backpropagates through them with zero weights.

import * as tf from '@tensorflow/tfjs'
import type { CausalLM } from '../model/base'
import type { PackedKV, PackedSegment } from '../model/attention'
import type { PreparedBranch, PreparedPair } from './data'
import { weightedCrossEntropy } from './objectives'

export type SelectMode = 'sparse' | 'full' | 'eval'

/** Positions the LM head scores, for one group of rows. */
export interface Selection {
  /** row of the stacked hidden states [prefix rows; this group's rows] */
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

/** The rows of one packed model call: token ids one sequence after another, and the sequences. */
export interface PackedCall {
  ids: Int32Array
  segments: PackedSegment[]
}

/** Rows run in one model call after the prefix call. */
export interface RowGroup {
  /** the rows after each pair's prefix (null: every selected position lies in the prefixes) */
  call: PackedCall | null
  /** true for the group of y rows that may be left out of the backward pass */
  prunable: boolean
  sel: Selection
}

export interface BatchPlan {
  /** pairs in the micro-batch */
  B: number
  /** the shared prefixes, one sequence per pair that has one (null: none) */
  prefix: PackedCall | null
  /** one group (every row), or two: ŷ rows, then y rows (prunable) */
  groups: RowGroup[]
  /** tokens the model runs (prefixes + rows, with any padding) */
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
  /** pad rows to the longest of their group instead of packing them (efficiency.bucketing off) */
  pad?: boolean
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
  // prefix length per pair: its common prefix (bounded by its rows' inputs); padded, the shortest
  const pre = new Array<number>(B).fill(0)
  if (o.sharedPrefix && pairs.some((pp) => branches(pp).length === 2)) {
    pairs.forEach((pp, i) => {
      const rows = rowsOf.filter((r) => r.pair === i)
      pre[i] = Math.min(rows.length === 2 ? pp.shared : Infinity, ...rows.map((r) => r.br.ids.length - 1))
    })
    if (o.pad) pre.fill(Math.min(...pre))
    for (let i = 0; i < B; i++) if (!Number.isFinite(pre[i])) pre[i] = 0
  }
  const prefixStart: number[] = []
  let prefixRows = 0
  for (let i = 0; i < B; i++) {
    prefixStart.push(prefixRows)
    prefixRows += pre[i]
  }
  const prefix: PackedCall | null = prefixRows
    ? {
        ids: Int32Array.from(pairs.flatMap((pp, i) => Array.from(pp.revised.ids.subarray(0, pre[i])))),
        segments: pairs.flatMap((_, i) => (pre[i] ? [{ start: prefixStart[i], length: pre[i] }] : [])),
      }
    : null

  const split = !!o.splitBranches && o.select !== 'eval' && rowsOf.some((r) => r.orig)
  const groupsOf = split ? [rowsOf.map((r, ri) => ({ r, ri })).filter(({ r }) => !r.orig), rowsOf.map((r, ri) => ({ r, ri })).filter(({ r }) => r.orig)] : [rowsOf.map((r, ri) => ({ r, ri }))]
  let pairTokens = 0
  for (const pp of pairs) pairTokens += pp.revised.ids.length + (o.method === 'figa' && pp.original ? pp.original.ids.length : 0)
  let responseTokens = 0
  for (const r of rowsOf) responseTokens += r.br.ids.length - r.br.respStart
  let computedTokens = prefixRows
  const groups: RowGroup[] = groupsOf.map((members, gi) => {
    // each row's segment: its inputs after the prefix (padded: all as long as the longest)
    const own = members.map(({ r, ri }) => Math.max(0, need[ri] - pre[r.pair]))
    const padTo = o.pad ? Math.max(0, ...own) : 0
    const ids: number[] = []
    const segments: PackedSegment[] = []
    const segStart: number[] = []
    members.forEach(({ r }, k) => {
      const length = o.pad ? padTo : own[k]
      segStart.push(ids.length)
      if (!length) return
      const p = pre[r.pair]
      segments.push({ start: ids.length, length, past: p ? { start: prefixStart[r.pair], length: p } : null })
      for (let t = 0; t < length; t++) ids.push(t < own[k] ? r.br.ids[p + t] : o.padId)
    })
    computedTokens += ids.length
    const sel = { hRow: [] as number[], target: [] as number[], weight: [] as number[], orig: [] as number[], resp: [] as number[], pair: [] as number[] }
    members.forEach(({ r }, k) => {
      const { ids: rowIds, respStart, weights } = r.br
      const L = rowIds.length
      const p = pre[r.pair]
      const hIndex = (j: number) => (j < p ? prefixStart[r.pair] + j : prefixRows + segStart[k] + (j - p))
      const add = (j: number, target: number, w: number, resp: boolean) => {
        sel.hRow.push(hIndex(j))
        sel.target.push(target)
        sel.weight.push(w)
        sel.orig.push(r.orig ? 1 : 0)
        sel.resp.push(resp ? 1 : 0)
        sel.pair.push(r.pair)
      }
      if (o.select === 'sparse') {
        for (let kk = respStart; kk < L; kk++) if (weights[kk - respStart] !== 0) add(kk - 1, rowIds[kk], weights[kk - respStart], true)
      } else if (o.select === 'eval') {
        for (let kk = respStart; kk < L; kk++) add(kk - 1, rowIds[kk], 1, true)
      } else {
        // every position the model runs for this row, pads included; prefix positions once per row
        const end = p + (o.pad ? padTo : own[k])
        for (let j = 0; j < end; j++) {
          const kk = j + 1
          if (kk < L) add(j, rowIds[kk], kk >= respStart ? weights[kk - respStart] : 0, kk >= respStart)
          else add(j, o.padId, 0, false)
        }
      }
    })
    return {
      call: ids.length ? { ids: Int32Array.from(ids), segments } : null,
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
  return { B, prefix, groups, computedTokens, pairTokens, responseTokens }
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
 * Run the plan (call inside tf.variableGrads or tf.tidy): the prefix call once, each group's call
 * continuing it, the fused weighted CE per group. A prunable group whose weights all come out 0 is
 * not added to the value, so no gradient flows through it. The prefix's keys/values are disposed
 * before returning.
 */
export function batchLoss(a: BatchLossArgs): BatchLossResult {
  const { model, plan } = a
  let past: PackedKV[] | null = null
  try {
    let prefix: tf.Tensor2D | null = null
    if (plan.prefix) {
      const r = model.hiddenPacked(plan.prefix.ids, plan.prefix.segments, { keepKV: plan.groups.some((g) => g.call) })
      prefix = r.hidden
      past = r.kv
    }
    // prunable groups first: whether they take part is known once they are scored
    const order = plan.groups.map((g, i) => i).sort((x, y) => Number(plan.groups[y].prunable) - Number(plan.groups[x].prunable))
    const ce: Float64Array[] = new Array(plan.groups.length)
    const terms: tf.Scalar[] = []
    let pruned = 0
    let anyHidden: tf.Tensor2D | null = prefix
    for (const gi of order) {
      const g = plan.groups[gi]
      if (g.sel.hRow.length === 0) {
        ce[gi] = new Float64Array(0)
        if (g.prunable) pruned++
        continue
      }
      const parts: tf.Tensor2D[] = prefix ? [prefix] : []
      if (g.call) parts.push(model.hiddenPacked(g.call.ids, g.call.segments, { past }).hidden)
      const h = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D)
      anyHidden = h
      const r = weightedCrossEntropy({ hidden: h, head: a.head, headT: a.headT, rows: g.sel.hRow, targets: g.sel.target, weigh: (c) => a.weigh(g, c), trainHead: a.trainHead })
      ce[gi] = r.ce
      if (g.prunable && !r.weights.some((w) => w !== 0)) pruned++
      else terms.push(r.value)
    }
    // nothing weighted at all: a zero that is still connected to the weights (zero gradient)
    if (!terms.length) {
      if (!anyHidden) anyHidden = model.hiddenPacked(Int32Array.of(0), [{ start: 0, length: 1 }]).hidden
      terms.push(tf.mul(tf.sum(anyHidden), 0) as tf.Scalar)
    }
    const value = terms.length === 1 ? terms[0] : (tf.addN(terms) as tf.Scalar)
    return { value, ce, pruned }
  } finally {
    for (const l of past ?? []) tf.dispose([l.k, l.v])
  }
}
