// The gradient of one optimizer step: every micro-batch forward/backward, the objective applied to
// the CE of the selected positions, gradients summed (not yet divided by N) into JS arrays.

import * as tf from '@tensorflow/tfjs'
import type { CausalLM } from '../model/base'
import { type BatchPlan, type Selection, batchLoss, headWeight, planBatch } from './batch'
import { type PreparedPair, microBatches } from './data'
import { figaLoss, transposedHead } from './objectives'
import { type Trainable, addInto } from './params'
import type { TrainSettings } from './settings'

export interface StepObjective {
  positive: number
  negative: number
  n: number
  /** bad tokens seen / kept by the τ filter */
  bad: number
  badKept: number
  /** the weight of each selected position in the gradient: +a(ŷ_t), −b(y_t) */
  signed: Float64Array
}

/** The objective on a group's selected positions: FIGA (SFT: a ≡ 1, no y rows). */
export function stepObjective(plan: Selection, ce: Float64Array, filter: Pick<TrainSettings, 'tau' | 'tauBand'>): StepObjective {
  const rev: number[] = []
  const org: number[] = []
  for (let i = 0; i < ce.length; i++) (plan.isOriginal[i] ? org : rev).push(i)
  const pick = (idx: number[], src: ArrayLike<number>) => Float64Array.from(idx, (i) => src[i])
  const parts = figaLoss({ ce: pick(rev, ce), weight: pick(rev, plan.weight) }, { ce: pick(org, ce), weight: pick(org, plan.weight) }, filter)
  const signed = new Float64Array(ce.length)
  rev.forEach((i, k) => (signed[i] = parts.a[k]))
  org.forEach((i, k) => (signed[i] = -parts.b[k]))
  let bad = 0
  let badKept = 0
  org.forEach((i, k) => {
    if (plan.weight[i] !== 0) {
      bad++
      if (parts.b[k] !== 0) badKept++
    }
  })
  return { positive: parts.positive, negative: parts.negative, n: parts.n, bad, badKept, signed }
}

export interface StepGradients {
  /** Σ over the step of the gradient of Σ w·CE, per parameter slot (divide by n for the loss's) */
  acc: Map<string, Float32Array>
  positive: number
  negative: number
  n: number
  bad: number
  badKept: number
  responseTokens: number
  pairTokens: number
  computedTokens: number
  microBatches: number
  /** micro-batches whose y rows were left out of the backward pass (τ filter dropped every bad token) */
  prunedBranches: number
}

export interface AccumulateArgs {
  model: CausalLM
  trainable: Trainable
  pairs: PreparedPair[]
  settings: TrainSettings
  padId: number
  signal?: AbortSignal
}

function emptyGradients(): StepGradients {
  return { acc: new Map(), positive: 0, negative: 0, n: 0, bad: 0, badKept: 0, responseTokens: 0, pairTokens: 0, computedTokens: 0, microBatches: 0, prunedBranches: 0 }
}

/** Add `from` (another worker's share of the step) into `into`. */
export function mergeGradients(into: StepGradients, from: StepGradients): void {
  for (const [name, g] of from.acc) addInto(into.acc, name, g)
  for (const k of ['positive', 'negative', 'n', 'bad', 'badKept', 'responseTokens', 'pairTokens', 'computedTokens', 'microBatches', 'prunedBranches'] as const) into[k] += from[k]
}

/** Forward/backward over the step's micro-batches; null when cancelled between them. */
export async function accumulateStep(a: AccumulateArgs): Promise<StepGradients | null> {
  const s = a.settings
  const head = headWeight(a.model) as unknown as tf.Tensor2D
  const batches = microBatches(a.pairs, s.microBatch, s.efficiency.bucketing, s.method)
  // one transposed copy of the head for the whole step: its backward products reuse it (and
  // XNNPACK's packing of it) in every micro-batch
  const headT = transposedHead(head)
  try {
    return await accumulateBatches(a, batches, head, headT)
  } finally {
    for (const b of headT) b.dispose()
  }
}

async function accumulateBatches(a: AccumulateArgs, batches: PreparedPair[][], head: tf.Tensor2D, headT: tf.Tensor2D[]): Promise<StepGradients | null> {
  const s = a.settings
  const out = emptyGradients()
  for (let bi = 0; bi < batches.length; bi++) {
    if (bi > 0) await new Promise((r) => setImmediate(r))
    if (a.signal?.aborted) return null
    const plan = planBatch(batches[bi], {
      method: s.method,
      sharedPrefix: s.efficiency.sharedPrefix,
      select: s.efficiency.sparseHead ? 'sparse' : 'full',
      splitBranches: s.efficiency.pruneFiltered && (s.tau !== null || s.tauBand !== null),
      pad: !s.efficiency.bucketing,
      padId: a.padId,
    })
    const weigh = (g: { sel: Selection }, ce: Float64Array): Float64Array => {
      const r = stepObjective(g.sel, ce, s)
      out.positive += r.positive
      out.negative += r.negative
      out.n += r.n
      out.bad += r.bad
      out.badKept += r.badKept
      return r.signed
    }
    if (plan.groups.every((g) => g.sel.hRow.length === 0)) {
      // nothing weighted in this micro-batch: no loss term, no gradient
      out.responseTokens += plan.responseTokens
      out.pairTokens += plan.pairTokens
      out.microBatches++
      continue
    }
    try {
      let pruned = 0
      const { value, grads } = tf.variableGrads(() => {
        const r = batchLoss({ model: a.model, head, headT, plan, weigh, trainHead: a.trainable.trainHead })
        pruned = r.pruned
        return r.value
      }, a.trainable.vars)
      out.prunedBranches += pruned
      value.dispose()
      try {
        a.trainable.accumulate(grads, out.acc)
      } finally {
        for (const g of Object.values(grads)) g.dispose()
      }
    } catch (e) {
      throw memoryError(e, plan)
    }
    out.responseTokens += plan.responseTokens
    out.pairTokens += plan.pairTokens
    out.computedTokens += plan.computedTokens
    out.microBatches++
  }
  return out
}

function memoryError(e: unknown, plan: BatchPlan): Error {
  const rows = plan.groups.reduce((n, g) => n + (g.call?.segments.length ?? 0), 0)
  const msg = (e as Error)?.message ?? String(e)
  if (/out of memory|OOM|Aborted|Cannot enlarge memory|memory access out of bounds|allocation failed/i.test(msg)) {
    return new Error(
      `out of WASM memory on a micro-batch of ${plan.B} pairs (${rows} rows, ${plan.computedTokens} tokens through the model): ` +
        `lower the micro-batch or the max length, or train LoRA adapters (${msg})`,
    )
  }
  return e instanceof Error ? e : new Error(msg)
}
