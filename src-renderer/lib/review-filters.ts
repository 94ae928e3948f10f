// What the Review filters keep, evaluated in the renderer for one pair summary. The services
// decide (SQL in src-main/store/signals.ts keptClause); this mirrors it so the open pair's
// kept/dropped state stays right when it is not in the list page (filtered out, other page).
import type { PairSignalSummary, ReviewFilters } from '../../src-main/api/types'

/** The contract's defaults (src-main/api/contract.ts reviewFilters). */
export const DEFAULT_FILTERS: Readonly<ReviewFilters> = Object.freeze({
  minEditRatio: 0,
  maxEditRatio: 1,
  dropNoop: true,
  dropFullRewrite: false,
  fullRewriteAt: 0.9,
  minChanged: 0,
  dropExcluded: true,
})

/** Whether a listed pair has signals for the tokenizer (signals.pairs lists the others too, with zero counts). */
export function isComputed(s: Pick<PairSignalSummary, 'computed'>): boolean {
  return s.computed
}

export function changedTokens(s: Pick<PairSignalSummary, 'counts'>): number {
  return s.counts.added + s.counts.deleted + s.counts.substituted
}

/** Why the filters drop a pair (empty when they keep it). */
export function dropReasons(s: Pick<PairSignalSummary, 'editRatio' | 'distance' | 'counts' | 'excluded' | 'computed'>, f: ReviewFilters): string[] {
  const reasons: string[] = []
  if (!isComputed(s)) return ['signals not computed']
  if (f.dropExcluded && s.excluded) reasons.push('excluded by hand')
  if (f.dropNoop && s.distance <= 0) reasons.push('no-op (ŷ = y)')
  if (s.editRatio < f.minEditRatio) reasons.push(`edit ratio ${s.editRatio.toFixed(3)} < min ${f.minEditRatio.toFixed(2)}`)
  if (s.editRatio > f.maxEditRatio) reasons.push(`edit ratio ${s.editRatio.toFixed(3)} > max ${f.maxEditRatio.toFixed(2)}`)
  if (f.dropFullRewrite && s.editRatio >= f.fullRewriteAt) reasons.push(`full rewrite (edit ratio ≥ ${f.fullRewriteAt.toFixed(2)})`)
  const changed = changedTokens(s)
  if (changed < f.minChanged) reasons.push(`${changed} changed tokens < ${f.minChanged}`)
  return reasons
}

export function passesFilters(s: Pick<PairSignalSummary, 'editRatio' | 'distance' | 'counts' | 'excluded' | 'computed'>, f: ReviewFilters): boolean {
  return dropReasons(s, f).length === 0
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? word : many}`
}
