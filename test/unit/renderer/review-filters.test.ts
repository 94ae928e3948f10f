// @vitest-environment node
import { describe, expect, it } from 'vitest'
import type { PairSignalSummary, ReviewFilters } from '../../../src-main/api/types'
import { changedTokens, DEFAULT_FILTERS, dropReasons, isComputed, passesFilters, plural } from '../../../src-renderer/lib/review-filters'

const pair = (over: Partial<PairSignalSummary> = {}): PairSignalSummary => ({
  pairId: 1, position: 0, instruction: 'q', distance: 3, editRatio: 0.3, excluded: false, computed: true, kept: true,
  counts: { added: 1, deleted: 1, substituted: 1, same: 7, originalTokens: 9, revisedTokens: 9 },
  ...over,
})
const f = (over: Partial<ReviewFilters> = {}): ReviewFilters => ({ ...DEFAULT_FILTERS, ...over })

describe('passesFilters (mirrors the services)', () => {
  it('defaults to the contract\'s defaults', async () => {
    const { reviewFilters } = await import('../../../src-main/api/contract')
    expect(DEFAULT_FILTERS).toEqual(reviewFilters.parse({}))
  })

  it('keeps a normal pair with the default filters', () => {
    expect(changedTokens(pair())).toBe(3)
    expect(passesFilters(pair(), f())).toBe(true)
  })

  it('applies the edit-ratio band inclusively', () => {
    expect(passesFilters(pair(), f({ minEditRatio: 0.3, maxEditRatio: 0.3 }))).toBe(true)
    expect(passesFilters(pair(), f({ minEditRatio: 0.31 }))).toBe(false)
    expect(passesFilters(pair(), f({ maxEditRatio: 0.29 }))).toBe(false)
  })

  it('drops no-ops, full rewrites, small edits and hand exclusions only when asked', () => {
    const noop = pair({ distance: 0, editRatio: 0, counts: { added: 0, deleted: 0, substituted: 0, same: 9, originalTokens: 9, revisedTokens: 9 } })
    expect(passesFilters(noop, f())).toBe(false)
    expect(passesFilters(noop, f({ dropNoop: false }))).toBe(true)
    const rewrite = pair({ editRatio: 0.95 })
    expect(passesFilters(rewrite, f())).toBe(true)
    expect(passesFilters(rewrite, f({ dropFullRewrite: true }))).toBe(false)
    expect(passesFilters(pair({ editRatio: 0.9 }), f({ dropFullRewrite: true, fullRewriteAt: 0.9 }))).toBe(false)
    expect(passesFilters(pair(), f({ minChanged: 3 }))).toBe(true)
    expect(passesFilters(pair(), f({ minChanged: 4 }))).toBe(false)
    expect(passesFilters(pair({ excluded: true }), f())).toBe(false)
    expect(passesFilters(pair({ excluded: true }), f({ dropExcluded: false }))).toBe(true)
  })

  it('says why a pair is dropped', () => {
    expect(dropReasons(pair(), f())).toEqual([])
    expect(dropReasons(pair({ excluded: true, editRatio: 0.05 }), f({ minEditRatio: 0.1, minChanged: 5 }))).toEqual([
      'excluded by hand', 'edit ratio 0.050 < min 0.10', '3 changed tokens < 5',
    ])
  })

  it('tells pairs without signals (listed with zero counts) from computed ones', () => {
    const none = pair({ computed: false, distance: 0, editRatio: 0, kept: false, counts: { added: 0, deleted: 0, substituted: 0, same: 0, originalTokens: 0, revisedTokens: 0 } })
    expect(isComputed(pair())).toBe(true)
    expect(isComputed(none)).toBe(false)
    expect(passesFilters(none, f({ dropNoop: false }))).toBe(false)
    expect(dropReasons(none, f())).toEqual(['signals not computed'])
  })

  it('pluralises counts', () => {
    expect(plural(1, 'pair')).toBe('1 pair')
    expect(plural(2, 'pair')).toBe('2 pairs')
    expect(plural(1200, 'pair')).toBe((1200).toLocaleString() + ' pairs')
  })
})
