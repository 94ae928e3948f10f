/**
 * FIGA fine-grained quality signals (Guo et al., ICLR 2024, arXiv 2311.04072, §3).
 *
 * Given the token ids of the original response y and of the revised response ŷ, the edit
 * operations from y (source) to ŷ (target) classify every token:
 *   - ŷ tokens that are inserted → 'added', targets of a replace → 'substituted' (good);
 *   - y tokens that are deleted → 'deleted', sources of a replace → 'substituted' (bad);
 *   - everything else → 'same'.
 * The per-token weights of the loss
 *       L = ( Σ_t a(ŷ_t)·CE(ŷ_t) − Σ_t b(y_t)·CE(y_t) ) / N
 * are  a(ŷ_t) = α for added/substituted tokens of ŷ, γ otherwise, and α for the EOS that
 * closes ŷ;  b(y_t) = β for deleted/substituted tokens of y, 0 otherwise.
 * (The τ filter on bad tokens depends on the model's CE, so it belongs to training.)
 */
import { editops, type EditOp } from './editops'

export interface FigaParams {
  /** weight of added/substituted tokens of ŷ (and of the EOS closing ŷ) */
  alpha: number
  /** weight of the penalty on deleted/substituted tokens of y (enters the loss with a minus) */
  beta: number
  /** weight of unchanged tokens of ŷ */
  gamma: number
}

export const DEFAULT_FIGA_PARAMS: Readonly<FigaParams> = Object.freeze({ alpha: 1, beta: 0.5, gamma: 0 })

export type TokenClass = 'same' | 'added' | 'substituted' | 'deleted'

export interface PairSignals {
  /** y: its tokens are 'same', 'deleted' or 'substituted' (the last two are "bad") */
  original: { ids: number[]; classes: TokenClass[] }
  /** ŷ: its tokens are 'same', 'added' or 'substituted' (the last two are "good") */
  revised: { ids: number[]; classes: TokenClass[] }
  /** edit operations y → ŷ, python-Levenshtein semantics (see editops.ts) */
  ops: EditOp[]
  /** Levenshtein distance = ops.length */
  distance: number
  /**
   * added = inserts, deleted = deletes, substituted = replaces, same = aligned equal pairs
   * (so len(y) = same + deleted + substituted and len(ŷ) = same + added + substituted).
   */
  counts: { added: number; deleted: number; substituted: number; same: number }
  /**
   * distance / max(len(y), len(ŷ)), in [0, 1]: the share of the longer response that had to
   * change (0 for two identical or two empty responses, 1 for a complete rewrite).
   */
  editRatio: number
}

/** Which EOS conventions the ids follow. */
export interface EosOptions {
  /**
   * true when the last id of `revised.ids` is the EOS that closes ŷ (as in the official code,
   * which appends `eos_token` to both responses before tokenizing). That position gets α
   * whatever its class. The EOS closing y keeps its class weight (normally 'same' → 0).
   */
  revisedEos: boolean
}

/**
 * The official collator's masks: good = positions of ŷ that are targets of insert/replace,
 * bad = positions of y that are sources of delete/replace (1 = marked).
 */
export function editMasks(ops: readonly EditOp[], originalLength: number, revisedLength: number): { good: Uint8Array; bad: Uint8Array } {
  const good = new Uint8Array(revisedLength)
  const bad = new Uint8Array(originalLength)
  for (const o of ops) {
    if (o.op !== 'delete') good[o.dst] = 1
    if (o.op !== 'insert') bad[o.src] = 1
  }
  return { good, bad }
}

/** Token classes and statistics of one (y, ŷ) pair of token id sequences. */
export function computeSignals(originalIds: number[], revisedIds: number[]): PairSignals {
  const ops = editops(originalIds, revisedIds)
  const n = originalIds.length
  const m = revisedIds.length
  const oc: TokenClass[] = new Array(n).fill('same')
  const rc: TokenClass[] = new Array(m).fill('same')
  let added = 0
  let deleted = 0
  let substituted = 0
  for (const o of ops) {
    if (o.op === 'replace') {
      oc[o.src] = 'substituted'
      rc[o.dst] = 'substituted'
      substituted++
    } else if (o.op === 'insert') {
      rc[o.dst] = 'added'
      added++
    } else {
      oc[o.src] = 'deleted'
      deleted++
    }
  }
  const distance = ops.length
  const longer = Math.max(n, m)
  return {
    original: { ids: originalIds, classes: oc },
    revised: { ids: revisedIds, classes: rc },
    ops,
    distance,
    counts: { added, deleted, substituted, same: n - deleted - substituted },
    editRatio: longer === 0 ? 0 : distance / longer,
  }
}

const PARAM_KEYS = ['alpha', 'beta', 'gamma'] as const

function checkParams(p: FigaParams): void {
  for (const key of PARAM_KEYS) {
    if (typeof p[key] !== 'number' || !Number.isFinite(p[key])) {
      throw new RangeError(`FIGA parameter ${key} must be a finite number (got ${String(p[key])})`)
    }
  }
}

/**
 * Per-token weights, aligned with `s.revised.ids` and `s.original.ids`:
 * revised[t] = a(ŷ_t), original[t] = b(y_t) (a positive number; the loss subtracts it).
 */
export function figaWeights(s: PairSignals, p: FigaParams, eos?: EosOptions): { revised: Float32Array; original: Float32Array } {
  checkParams(p)
  const rc = s.revised.classes
  const oc = s.original.classes
  const revised = new Float32Array(rc.length)
  const original = new Float32Array(oc.length)
  const { alpha, beta, gamma } = p
  for (let t = 0; t < rc.length; t++) revised[t] = rc[t] === 'same' ? gamma : alpha
  for (let t = 0; t < oc.length; t++) if (oc[t] !== 'same') original[t] = beta
  if (eos?.revisedEos && rc.length > 0) revised[rc.length - 1] = p.alpha
  return { revised, original }
}

/**
 * Number of tokens with a non-zero weight (the pair's contribution to N in the loss), without
 * allocating the weight arrays: for the live count in the UI.
 */
export function weightedTokenCount(s: PairSignals, p: FigaParams, eos?: EosOptions): { revised: number; original: number; total: number } {
  checkParams(p)
  const rc = s.revised.classes
  const m = rc.length
  let revised = 0
  if (p.alpha !== 0) revised += s.counts.added + s.counts.substituted
  if (p.gamma !== 0) revised += m - s.counts.added - s.counts.substituted
  if (eos?.revisedEos && m > 0) {
    const last = rc[m - 1] === 'same' ? p.gamma : p.alpha
    revised += (p.alpha !== 0 ? 1 : 0) - (last !== 0 ? 1 : 0)
  }
  const original = p.beta !== 0 ? s.counts.deleted + s.counts.substituted : 0
  return { revised, original, total: revised + original }
}
