// How many tokens FIGA's loss actually trains on, from alignment counts alone. It is the `N`
// that normalises the loss (DESIGN.md §1): tokens with a non-zero weight.
import type { FigaParams, SignalCounts } from '../api/types'

export const DEFAULT_FIGA: Readonly<FigaParams> = Object.freeze({ alpha: 1, beta: 0.5, gamma: 0 })

export interface WeightedTokens {
  /** ŷ tokens with a(ŷ_t) ≠ 0, the EOS closing each ŷ included. */
  revised: number
  /** y tokens with b(y_t) ≠ 0. */
  original: number
  total: number
}

/** Over `pairs` pairs whose summed counts are `c`. Each replace op is one y and one ŷ token. */
export function weightedTokens(c: SignalCounts, pairs: number, p: FigaParams): WeightedTokens {
  const changedRevised = c.added + c.substituted // a = α
  const unchangedRevised = Math.max(0, c.revisedTokens - changedRevised) // a = γ
  const revised = (p.alpha !== 0 ? changedRevised + pairs : 0) + (p.gamma !== 0 ? unchangedRevised : 0)
  const original = p.beta !== 0 ? c.deleted + c.substituted : 0 // b = β
  return { revised, original, total: revised + original }
}
