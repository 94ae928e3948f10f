// Data preparation: (prompt, y, ŷ) text → token ids and per-token weights, the held-out split,
// the dataset hash, and the grouping of an optimizer step's pairs into micro-batches.
//
// Formatting follows the official FIGA code (DESIGN §1): each response is tokenized as part of
//     prompt + ' ' + response + eos_token
// with the tokenizer's special tokens (BOS where the model uses one); the response tokens are the
// ones after the tokenized prompt (the official code masks the first len(tokenize(prompt)) labels).
// FIGA weights come from signals/computeSignals on the two responses' ids (EOS included, as the
// official collator aligns label sequences that end in EOS) and figaWeights with revisedEos, so the
// closing EOS of ŷ gets α.

import { createHash } from 'node:crypto'
import { computeSignals, figaWeights } from '../signals/weights'
import type { TokenizerAdapter } from '../signals/tokenizer'
import { TrainRng } from './rng'
import type { TrainSettings } from './settings'

export interface TrainExample {
  /** unique id (the app's pair id); examples are put in id order before anything else */
  id: number
  /** the formatted prompt text, e.g. alpacaPrompt({ instruction, input }) (ends with "### Response:") */
  prompt: string
  /** y, the original response; null for an SFT row */
  original: string | null
  /** ŷ, the revised response (the SFT target) */
  revised: string
}

export interface PreparedBranch {
  /** prompt + separator + response + EOS, truncated to the max length when needed */
  ids: Int32Array
  /** index in `ids` of the first response token */
  respStart: number
  /** one weight per response token (ids.length − respStart): a(ŷ_t) for ŷ, b(y_t) for y */
  weights: Float32Array
}

export interface PreparedPair {
  id: number
  revised: PreparedBranch
  /** null for SFT rows; present for pairs even when training SFT (evaluation uses it) */
  original: PreparedBranch | null
  /** length of the common prefix of revised.ids and original.ids (0 without original) */
  shared: number
  truncated: boolean
}

export interface PrepareReport {
  examples: number
  used: number
  truncated: number
  /** pairs longer than the max length with truncation 'drop' */
  droppedTooLong: number
  /** prompts that leave no room for a response token within the max length */
  droppedPromptTooLong: number
  /** SFT rows (no original) left out of FIGA training */
  skippedNoOriginal: number
  /** FIGA pairs without a single weighted token after truncation */
  skippedNoSignal: number
}

export interface PrepareOptions {
  tokenizer: TokenizerAdapter
  settings: Pick<TrainSettings, 'method' | 'alpha' | 'beta' | 'gamma' | 'maxLength' | 'truncation' | 'separator'>
  /** the model's position limit (caps maxLength) */
  maxPositions: number
  /** keep SFT rows and weightless pairs (for evaluation sets) */
  keepAll?: boolean
}

/** Examples in canonical (id) order; throws on duplicate ids or bad fields. */
export function canonicalExamples(examples: TrainExample[]): TrainExample[] {
  const seen = new Set<number>()
  for (const e of examples) {
    if (!e || typeof e !== 'object') throw new Error('an example is not an object')
    if (!Number.isInteger(e.id)) throw new Error(`example id ${String(e.id)} is not an integer`)
    if (seen.has(e.id)) throw new Error(`duplicate example id ${e.id}`)
    seen.add(e.id)
    if (typeof e.prompt !== 'string' || typeof e.revised !== 'string' || (e.original !== null && typeof e.original !== 'string')) {
      throw new Error(`example ${e.id}: prompt and revised must be strings, original a string or null`)
    }
  }
  return [...examples].sort((a, b) => a.id - b.id)
}

/** sha256 over the examples' ids and texts in id order: a checkpoint refuses to resume on other data. */
export function datasetHash(examples: TrainExample[]): string {
  const h = createHash('sha256')
  for (const e of canonicalExamples(examples)) {
    h.update(JSON.stringify([e.id, e.prompt, e.original, e.revised]))
    h.update('\n')
  }
  return h.digest('hex')
}

/** Deterministic split of the canonical examples: held-out fraction by seed. */
export function splitExamples(examples: TrainExample[], heldOut: number, seed: number): { train: TrainExample[]; eval: TrainExample[] } {
  const ex = canonicalExamples(examples)
  let k = heldOut > 0 && ex.length >= 2 ? Math.max(1, Math.round(heldOut * ex.length)) : 0
  k = Math.min(k, ex.length - 1)
  if (k <= 0) return { train: ex, eval: [] }
  const perm = new TrainRng((seed ^ 0x5eed5eed) >>> 0).permutation(ex.length)
  const held = new Set(perm.slice(0, k))
  return { train: ex.filter((_, i) => !held.has(i)), eval: ex.filter((_, i) => held.has(i)) }
}

function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a[i] === b[i]) i++
  return i
}

/** Token ids of prompt + separator + response + EOS and where the response starts. */
export function tokenizeBranch(tok: TokenizerAdapter, promptIds: number[], prompt: string, response: string, separator: string): { ids: number[]; respStart: number } {
  if (tok.eosId === null || tok.eosToken === null) throw new Error(`the tokenizer ${tok.name} has no EOS token; training needs one to close responses`)
  const ids = tok.encode(prompt + separator + response + tok.eosToken, { addSpecialTokens: true })
  if (ids[ids.length - 1] !== tok.eosId) ids.push(tok.eosId)
  // the response starts after the tokenized prompt (its own special suffix, if any, excluded)
  let respStart = commonPrefix(promptIds, ids)
  if (respStart === 0) respStart = 1 // the first token cannot be predicted from nothing
  return { ids, respStart }
}

/** Prepare examples for training or evaluation. */
export function prepareExamples(examples: TrainExample[], opts: PrepareOptions): { pairs: PreparedPair[]; report: PrepareReport } {
  const { tokenizer: tok, settings: s } = opts
  const maxLen = Math.min(s.maxLength, opts.maxPositions)
  const report: PrepareReport = { examples: examples.length, used: 0, truncated: 0, droppedTooLong: 0, droppedPromptTooLong: 0, skippedNoOriginal: 0, skippedNoSignal: 0 }
  const pairs: PreparedPair[] = []
  const figa = s.method === 'figa'
  for (const e of canonicalExamples(examples)) {
    if (figa && e.original === null && !opts.keepAll) {
      report.skippedNoOriginal++
      continue
    }
    const promptIds = tok.encode(e.prompt, { addSpecialTokens: true })
    const rev = tokenizeBranch(tok, promptIds, e.prompt, e.revised, s.separator)
    const org = e.original !== null ? tokenizeBranch(tok, promptIds, e.prompt, e.original, s.separator) : null
    // weights on the full (untruncated) responses
    let wRev: Float32Array
    let wOrg: Float32Array | null = null
    if (figa && org) {
      const sig = computeSignals(org.ids.slice(org.respStart), rev.ids.slice(rev.respStart))
      const w = figaWeights(sig, { alpha: s.alpha, beta: s.beta, gamma: s.gamma }, { revisedEos: true })
      wRev = w.revised.slice()
      wOrg = w.original.slice()
    } else {
      wRev = new Float32Array(rev.ids.length - rev.respStart).fill(1)
      if (org) wOrg = new Float32Array(org.ids.length - org.respStart)
    }
    const tooLong = rev.ids.length > maxLen || (org !== null && org.ids.length > maxLen)
    if (tooLong && s.truncation === 'drop') {
      report.droppedTooLong++
      continue
    }
    const cut = (b: { ids: number[]; respStart: number }, w: Float32Array): PreparedBranch | null => {
      const len = Math.min(b.ids.length, maxLen)
      if (len - b.respStart < 1) return null
      return { ids: Int32Array.from(b.ids.slice(0, len)), respStart: b.respStart, weights: w.slice(0, len - b.respStart) }
    }
    const revised = cut(rev, wRev)
    const original = org ? cut(org, wOrg!) : null
    if (!revised || (org && !original)) {
      report.droppedPromptTooLong++
      continue
    }
    if (figa && !opts.keepAll) {
      const any = revised.weights.some((w) => w !== 0) || (original?.weights.some((w) => w !== 0) ?? false)
      if (!any) {
        report.skippedNoSignal++
        continue
      }
    }
    if (tooLong) report.truncated++
    pairs.push({ id: e.id, revised, original, shared: original ? commonPrefix(revised.ids, original.ids) : 0, truncated: tooLong })
    report.used++
  }
  return { pairs, report }
}

/** Tokens of a pair as the official recipe feeds them: prompt + ŷ, plus prompt + y for FIGA. */
export function pairTokens(p: PreparedPair, method: 'figa' | 'sft'): number {
  return p.revised.ids.length + (method === 'figa' && p.original ? p.original.ids.length : 0)
}

/** Bucketing key: the longest sequence of the pair. */
function lengthKey(p: PreparedPair, method: 'figa' | 'sft'): number {
  return Math.max(p.revised.ids.length, method === 'figa' && p.original ? p.original.ids.length : 0)
}

/** The pairs sorted by their longest sequence, longest first (ties by id). */
export function byLength(pairs: PreparedPair[], method: 'figa' | 'sft'): PreparedPair[] {
  return [...pairs].sort((a, b) => lengthKey(b, method) - lengthKey(a, method) || a.id - b.id)
}

/**
 * Split the pairs of one optimizer step into micro-batches. With bucketing, pairs of similar
 * length go together (sorted by their longest sequence, ties by id), so each micro-batch pads
 * little; without, micro-batches follow the data order. The gradient of the step is the same
 * either way (the loss is normalised over the whole step).
 */
export function microBatches(step: PreparedPair[], microBatch: number, bucketing: boolean, method: 'figa' | 'sft'): PreparedPair[][] {
  const list = bucketing ? byLength(step, method) : step
  const out: PreparedPair[][] = []
  for (let i = 0; i < list.length; i += microBatch) out.push(list.slice(i, i + microBatch))
  return out
}
