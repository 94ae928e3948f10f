// @vitest-environment node
import { describe, expect, it } from 'vitest'
import type { AlignedRow, PairSignalView, SignalCounts, TokenView } from '../../../src-main/api/types'
import {
  clampParam, countsWeightedTokens, DEFAULT_PARAMS, displayText, inlinePieces, originalWeight, originalWeights, pairWeightedTokens,
  parseParams, revisedWeight, revisedWeights, sideBySideRows, weightIntensity,
} from '../../../src-renderer/lib/figa-weights'

const tok = (text: string, cls: TokenView['cls'], eos?: boolean): TokenView => ({ id: text.charCodeAt(0) || 0, text, cls, ...(eos ? { eos } : {}) })

// y  = "the cat sat on mat"      ŷ = "the dog sat on the mat </s>"
// ops: cat→dog (replace), insert "the" before mat; and delete nothing. Add a deleted token too:
// y  = "the cat sat down on mat" (down deleted)
const original: TokenView[] = [tok('the', 'same'), tok(' cat', 'substituted'), tok(' sat', 'same'), tok(' down', 'deleted'), tok(' on', 'same'), tok(' mat', 'same')]
const revised: TokenView[] = [tok('the', 'same'), tok(' dog', 'substituted'), tok(' sat', 'same'), tok(' on', 'same'), tok(' the', 'added'), tok(' mat', 'same'), tok('</s>', 'same', true)]
const alignment: AlignedRow[] = [
  { op: 'same', o: 0, r: 0 },
  { op: 'replace', o: 1, r: 1 },
  { op: 'same', o: 2, r: 2 },
  { op: 'delete', o: 3, r: null },
  { op: 'same', o: 4, r: 3 },
  { op: 'insert', o: null, r: 4 },
  { op: 'same', o: 5, r: 5 },
]
const counts: SignalCounts = { added: 1, deleted: 1, substituted: 1, same: 4, originalTokens: 6, revisedTokens: 6 }
const view: PairSignalView = { tokenizer: 'builtin:byte', original, revised, alignment, distance: 3, editRatio: 0.5, counts }

describe('FIGA token weights', () => {
  it('gives α to added/substituted ŷ tokens and the EOS, γ to the rest', () => {
    const p = { alpha: 1, beta: 0.5, gamma: 0.25 }
    expect(revisedWeights(revised, p)).toEqual([0.25, 1, 0.25, 0.25, 1, 0.25, 1])
    expect(revisedWeight(tok('x', 'added'), { alpha: 2, beta: 0, gamma: 0 })).toBe(2)
    // The EOS gets α whatever its class.
    expect(revisedWeight(tok('</s>', 'same', true), { alpha: 0.7, beta: 0, gamma: 0.1 })).toBe(0.7)
  })

  it('gives β to deleted/substituted y tokens and 0 to the rest', () => {
    const p = { alpha: 1, beta: 0.5, gamma: 0.25 }
    expect(originalWeights(original, p)).toEqual([0, 0.5, 0, 0.5, 0, 0])
    expect(originalWeight(tok('x', 'same'), { alpha: 1, beta: 2, gamma: 1 })).toBe(0)
  })

  it('uses the paper defaults α=1, β=0.5, γ=0', () => {
    expect(DEFAULT_PARAMS).toEqual({ alpha: 1, beta: 0.5, gamma: 0 })
    expect(revisedWeights(revised, DEFAULT_PARAMS)).toEqual([0, 1, 0, 0, 1, 0, 1])
  })
})

describe('weighted-token counts', () => {
  const cases = [
    { p: { alpha: 1, beta: 0.5, gamma: 0 }, revised: 3, original: 2 },
    { p: { alpha: 1, beta: 0, gamma: 0 }, revised: 3, original: 0 },
    { p: { alpha: 0, beta: 0.5, gamma: 0 }, revised: 0, original: 2 },
    { p: { alpha: 1, beta: 0.5, gamma: 0.1 }, revised: 7, original: 2 },
    { p: { alpha: 0, beta: 0, gamma: 0.1 }, revised: 4, original: 0 },
    { p: { alpha: 0, beta: 0, gamma: 0 }, revised: 0, original: 0 },
  ]

  it('counts non-zero weights of one pair from its tokens', () => {
    for (const c of cases) expect(pairWeightedTokens(view, c.p), JSON.stringify(c.p)).toEqual({ revised: c.revised, original: c.original, total: c.revised + c.original })
  })

  it('counts the same from class counts (EOS added once per pair), so dataset totals agree with pairs', () => {
    for (const c of cases) expect(countsWeightedTokens(counts, 1, c.p), JSON.stringify(c.p)).toEqual({ revised: c.revised, original: c.original, total: c.revised + c.original })
  })

  it('adds up over pairs: totals of N pairs = the sum of their counts', () => {
    const other: SignalCounts = { added: 0, deleted: 3, substituted: 2, same: 10, originalTokens: 15, revisedTokens: 12 }
    const sum: SignalCounts = {
      added: counts.added + other.added, deleted: counts.deleted + other.deleted, substituted: counts.substituted + other.substituted,
      same: counts.same + other.same, originalTokens: counts.originalTokens + other.originalTokens, revisedTokens: counts.revisedTokens + other.revisedTokens,
    }
    for (const c of cases) {
      const a = countsWeightedTokens(counts, 1, c.p)
      const b = countsWeightedTokens(other, 1, c.p)
      expect(countsWeightedTokens(sum, 2, c.p).total).toBe(a.total + b.total)
    }
    // Defaults over the two pairs: ŷ = (1+1) + (0+2) + 2 EOS = 6, y = (1+1) + (3+2) = 7.
    expect(countsWeightedTokens(sum, 2, DEFAULT_PARAMS)).toEqual({ revised: 6, original: 7, total: 13 })
  })

  it('drops when β goes to 0 and comes back', () => {
    const before = countsWeightedTokens(counts, 1, DEFAULT_PARAMS).total
    expect(countsWeightedTokens(counts, 1, { ...DEFAULT_PARAMS, beta: 0 }).total).toBe(before - 2)
    expect(countsWeightedTokens(counts, 1, { ...DEFAULT_PARAMS, beta: 0.05 }).total).toBe(before)
  })

  it('is zero over no pairs', () => {
    const zero: SignalCounts = { added: 0, deleted: 0, substituted: 0, same: 0, originalTokens: 0, revisedTokens: 0 }
    expect(countsWeightedTokens(zero, 0, { alpha: 1, beta: 1, gamma: 1 }).total).toBe(0)
  })
})

describe('colour intensity', () => {
  it('is 0 for weight 0 and grows with the weight', () => {
    const p = DEFAULT_PARAMS
    expect(weightIntensity(0, p)).toBe(0)
    const small = weightIntensity(0.05, p)
    const half = weightIntensity(0.5, p)
    const one = weightIntensity(1, p)
    expect(small).toBeGreaterThan(0)
    expect(half).toBeGreaterThan(small)
    expect(one).toBeGreaterThan(half)
    expect(one).toBe(1)
    // A parameter above 1 becomes full colour and the rest scale with it.
    expect(weightIntensity(2, { alpha: 2, beta: 0.5, gamma: 0 })).toBe(1)
    expect(weightIntensity(1, { alpha: 2, beta: 0.5, gamma: 0 })).toBeLessThan(1)
  })
})

describe('parameters', () => {
  it('snaps to the slider grid and clamps to its range', () => {
    expect(clampParam('alpha', 0.149)).toBe(0.15)
    expect(clampParam('beta', 7)).toBe(2)
    expect(clampParam('gamma', 1.5)).toBe(1)
    expect(clampParam('gamma', -1)).toBe(0)
    expect(clampParam('alpha', 'nope')).toBe(1)
  })

  it('parses stored parameters and falls back to the defaults', () => {
    expect(parseParams(null)).toEqual(DEFAULT_PARAMS)
    expect(parseParams('{')).toEqual(DEFAULT_PARAMS)
    expect(parseParams('{"alpha":1.5,"beta":0,"gamma":0.3}')).toEqual({ alpha: 1.5, beta: 0, gamma: 0.3 })
    expect(parseParams('{"beta":9}')).toEqual({ alpha: 1, beta: 2, gamma: 0 })
  })
})

describe('diff layouts', () => {
  it('side by side: unchanged runs and change runs, replaced tokens facing each other, EOS last', () => {
    const rows = sideBySideRows(alignment, original, revised, 0)
    expect(rows).toEqual([
      { kind: 'same', left: [0], right: [0] },
      { kind: 'change', left: [1], right: [1] },
      { kind: 'same', left: [2], right: [2] },
      { kind: 'change', left: [3], right: [] },
      { kind: 'same', left: [4], right: [3] },
      { kind: 'change', left: [], right: [4] },
      { kind: 'same', left: [5], right: [5] },
      { kind: 'same', left: [], right: [6] },
    ])
  })

  it('side by side: joins change runs separated by a short unchanged run into one hunk', () => {
    // ' sat' (4 characters) and ' on' sit between changes: the whole middle becomes one row.
    expect(sideBySideRows(alignment, original, revised)).toEqual([
      { kind: 'same', left: [0], right: [0] },
      { kind: 'change', left: [1, 2, 3, 4], right: [1, 2, 3, 4] },
      { kind: 'same', left: [5], right: [5] },
      { kind: 'same', left: [], right: [6] },
    ])
    // Longer unchanged runs stay rows of their own.
    expect(sideBySideRows(alignment, original, revised, 2).map((r) => r.kind)).toEqual(['same', 'change', 'same', 'change', 'same', 'change', 'same', 'same'])
    // Every token appears exactly once per side.
    for (const m of [0, 2, 4, 100]) {
      const rows = sideBySideRows(alignment, original, revised, m)
      expect(rows.flatMap((r) => r.left)).toEqual([0, 1, 2, 3, 4, 5])
      expect(rows.flatMap((r) => r.right)).toEqual([0, 1, 2, 3, 4, 5, 6])
    }
  })

  it('side by side: never joins across a newline', () => {
    const o = [tok('a', 'substituted'), tok('\n', 'same'), tok('b', 'substituted')]
    const r = [tok('x', 'substituted'), tok('\n', 'same'), tok('y', 'substituted')]
    const a: AlignedRow[] = [{ op: 'replace', o: 0, r: 0 }, { op: 'same', o: 1, r: 1 }, { op: 'replace', o: 2, r: 2 }]
    expect(sideBySideRows(a, o, r).map((x) => x.kind)).toEqual(['change', 'same', 'change'])
  })

  it('side by side: cuts unchanged runs after a newline', () => {
    const o = [tok('a', 'same'), tok('\n', 'same'), tok('b', 'same')]
    const a: AlignedRow[] = [{ op: 'same', o: 0, r: 0 }, { op: 'same', o: 1, r: 1 }, { op: 'same', o: 2, r: 2 }]
    expect(sideBySideRows(a, o, o).map((r) => r.right)).toEqual([[0, 1], [2]])
  })

  it('inline: one stream with deletions in place and replace runs grouped old → new', () => {
    const a: AlignedRow[] = [...alignment.slice(0, 1), { op: 'replace', o: 1, r: 1 }, { op: 'replace', o: 2, r: 2 }, ...alignment.slice(3)]
    expect(inlinePieces(a, revised.length)).toEqual([
      { kind: 'token', side: 'r', index: 0 },
      { kind: 'sub', olds: [1, 2], news: [1, 2] },
      { kind: 'token', side: 'o', index: 3 },
      { kind: 'token', side: 'r', index: 3 },
      { kind: 'token', side: 'r', index: 4 },
      { kind: 'token', side: 'r', index: 5 },
      { kind: 'token', side: 'r', index: 6 },
    ])
  })

  it('makes whitespace and control characters visible', () => {
    expect(displayText('a\nb', false)).toEqual({ text: 'a↵\nb', breaks: true })
    expect(displayText(' x ', true).text).toBe('·x·')
    expect(displayText(' x ', false).text).toBe(' x ')
    expect(displayText('\u0001', false).text).toBe('\\x01')
    expect(displayText('\t', false).text).toBe('→\t')
  })
})
