// FIGA's token weights, computed in the renderer from token classes and counts so that the
// α/β/γ sliders recolour the open pair and recount the dataset without a round trip.
// Pure: no I/O, no DOM (unit-tested in test/unit/renderer/figa-weights.test.ts).
//
//   a(ŷ_t) = α if ŷ_t is added or substituted, γ otherwise; the EOS closing ŷ gets α.
//   b(y_t) = β if y_t is deleted or substituted, 0 otherwise.
//
// A token is "weighted" when its weight is non-zero: the loss normaliser N counts them.
import type { AlignedRow, FigaParams, TokenClass, TokenView } from '../../src-main/api/types'

export { DEFAULT_FIGA as DEFAULT_PARAMS } from '../../src-main/signals/weighted-counts'
import { DEFAULT_FIGA as DEFAULT_PARAMS } from '../../src-main/signals/weighted-counts'

/** Slider ranges of the Review screen. */
export const PARAM_RANGES: Readonly<Record<keyof FigaParams, { min: number; max: number; step: number }>> = Object.freeze({
  alpha: { min: 0, max: 2, step: 0.05 },
  beta: { min: 0, max: 2, step: 0.05 },
  gamma: { min: 0, max: 1, step: 0.05 },
})

type TokenLike = Pick<TokenView, 'cls'> & { eos?: boolean }

/** Weight a(ŷ_t) of a token of the revised response. */
export function revisedWeight(token: TokenLike, p: FigaParams): number {
  if (token.eos) return p.alpha
  return token.cls === 'added' || token.cls === 'substituted' ? p.alpha : p.gamma
}

/** Weight b(y_t) of a token of the original response (the magnitude of its penalty). */
export function originalWeight(token: TokenLike, p: FigaParams): number {
  return token.cls === 'deleted' || token.cls === 'substituted' ? p.beta : 0
}

export function revisedWeights(tokens: readonly TokenLike[], p: FigaParams): number[] {
  return tokens.map((t) => revisedWeight(t, p))
}

export function originalWeights(tokens: readonly TokenLike[], p: FigaParams): number[] {
  return tokens.map((t) => originalWeight(t, p))
}

export interface WeightedCount {
  /** ŷ tokens (EOS included) with a non-zero weight. */
  revised: number
  /** y tokens with a non-zero weight. */
  original: number
  total: number
}

/** Weighted tokens of one pair, from its tokens. */
export function pairWeightedTokens(view: { original: readonly TokenLike[]; revised: readonly TokenLike[] }, p: FigaParams): WeightedCount {
  let revised = 0
  let original = 0
  for (const t of view.revised) if (revisedWeight(t, p) !== 0) revised++
  for (const t of view.original) if (originalWeight(t, p) !== 0) original++
  return { revised, original, total: revised + original }
}

/** Weighted tokens over many pairs from their summed counts: the same function the CLI uses. */
export { weightedTokens as countsWeightedTokens } from '../../src-main/signals/weighted-counts'

/**
 * Colour intensity in [0, 1] for a weight: proportional to |w| on a scale where 1 (or the
 * largest current parameter, if larger) is full colour; 0 stays neutral. Small non-zero weights
 * keep a visible floor so they never look like zero.
 */
export function weightIntensity(w: number, p: FigaParams): number {
  if (w === 0 || !Number.isFinite(w)) return 0
  const scale = Math.max(1, Math.abs(p.alpha), Math.abs(p.beta), Math.abs(p.gamma))
  const x = Math.min(1, Math.abs(w) / scale)
  return 0.12 + 0.88 * x
}

export function clampParam(name: keyof FigaParams, value: unknown): number {
  const r = PARAM_RANGES[name]
  const v = typeof value === 'number' ? value : Number(value)
  if (!Number.isFinite(v)) return DEFAULT_PARAMS[name]
  const snapped = Math.round(Math.round(v / r.step) * r.step * 100) / 100 // the slider grid, without float noise
  return Math.min(r.max, Math.max(r.min, snapped))
}

/** Parses stored parameters (e.g. from localStorage), falling back to the defaults. */
export function parseParams(raw: string | null): FigaParams {
  if (!raw) return { ...DEFAULT_PARAMS }
  try {
    const o = JSON.parse(raw) as Partial<Record<keyof FigaParams, unknown>>
    return {
      alpha: o.alpha === undefined ? DEFAULT_PARAMS.alpha : clampParam('alpha', o.alpha),
      beta: o.beta === undefined ? DEFAULT_PARAMS.beta : clampParam('beta', o.beta),
      gamma: o.gamma === undefined ? DEFAULT_PARAMS.gamma : clampParam('gamma', o.gamma),
    }
  } catch {
    return { ...DEFAULT_PARAMS }
  }
}

/** Formats a parameter for its readout (two decimals, no float noise). */
export function formatParam(v: number): string {
  return (Math.round(v * 100) / 100).toFixed(2)
}

// ── Layout of a pair for the two diff modes ───────────────────────────────────────────────

/** A row of the side-by-side view: the y tokens (left) and ŷ tokens (right) it shows, by index. */
export interface SideRow {
  kind: 'same' | 'change'
  left: number[]
  right: number[]
}

/**
 * Groups the alignment into rows for the side-by-side view: runs of unchanged tokens (cut
 * after each newline so lines stay aligned) and runs of changes (replace/insert/delete rows,
 * in order, so each replaced y token faces its ŷ token). A short unchanged run between two
 * change runs (at most `mergeChars` characters, no newline: a letter or two with a byte-level
 * tokenizer, a short word with BPE) joins them into one change row, so a rewritten phrase
 * reads as one hunk rather than a ladder of fragments. Revised tokens that the alignment does
 * not cover (the EOS) are appended in a last row.
 */
export function sideBySideRows(alignment: readonly AlignedRow[], original: readonly TokenView[], revised: readonly TokenView[], mergeChars = 4): SideRow[] {
  const rows: SideRow[] = []
  let cur: SideRow | null = null
  const seenR = new Set<number>()
  for (const a of alignment) {
    const kind = a.op === 'same' ? 'same' : 'change'
    if (!cur || cur.kind !== kind) {
      cur = { kind, left: [], right: [] }
      rows.push(cur)
    }
    if (a.o !== null) cur.left.push(a.o)
    if (a.r !== null) {
      cur.right.push(a.r)
      seenR.add(a.r)
    }
    // Cut unchanged runs at line ends so both columns break together.
    if (kind === 'same' && a.r !== null && revised[a.r]?.text.includes('\n')) cur = null
  }
  const merged: SideRow[] = []
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]
    const prev = merged[merged.length - 1]
    const next = rows[i + 1]
    if (row.kind === 'same' && prev?.kind === 'change' && next?.kind === 'change' && mergeChars > 0) {
      const text = row.right.map((r) => revised[r]?.text ?? '').join('')
      if (text.length <= mergeChars && !text.includes('\n')) {
        prev.left.push(...row.left, ...next.left)
        prev.right.push(...row.right, ...next.right)
        i++
        continue
      }
    }
    if (row.kind === 'change' && prev?.kind === 'change') {
      prev.left.push(...row.left)
      prev.right.push(...row.right)
      continue
    }
    merged.push({ kind: row.kind, left: [...row.left], right: [...row.right] })
  }
  const rest = revised.map((_, i) => i).filter((i) => !seenR.has(i))
  if (rest.length) merged.push({ kind: rest.every((i) => revised[i].eos || revised[i].cls === 'same') ? 'same' : 'change', left: [], right: rest })
  void original
  return merged
}

/** A piece of the inline view: one token of either side, or a substitution run old → new. */
export type InlinePiece =
  | { kind: 'token'; side: 'o' | 'r'; index: number }
  | { kind: 'sub'; olds: number[]; news: number[] }

/**
 * One stream: unchanged and inserted ŷ tokens, deleted y tokens (struck through) in place,
 * and consecutive replace rows grouped as old → new.
 */
export function inlinePieces(alignment: readonly AlignedRow[], revisedCount: number): InlinePiece[] {
  const out: InlinePiece[] = []
  const seenR = new Set<number>()
  let sub: { kind: 'sub'; olds: number[]; news: number[] } | null = null
  for (const a of alignment) {
    if (a.r !== null) seenR.add(a.r)
    if (a.op === 'replace') {
      if (!sub) {
        sub = { kind: 'sub', olds: [], news: [] }
        out.push(sub)
      }
      if (a.o !== null) sub.olds.push(a.o)
      if (a.r !== null) sub.news.push(a.r)
      continue
    }
    sub = null
    if (a.op === 'delete' && a.o !== null) out.push({ kind: 'token', side: 'o', index: a.o })
    else if (a.r !== null) out.push({ kind: 'token', side: 'r', index: a.r })
  }
  for (let i = 0; i < revisedCount; i++) if (!seenR.has(i)) out.push({ kind: 'token', side: 'r', index: i })
  return out
}

/** How a token's text is shown: control characters and (in changed tokens) spaces made visible. */
export function displayText(text: string, visibleSpaces: boolean): { text: string; breaks: boolean } {
  let s = text
    .replace(/\r\n/g, '\n')
    .replace(/\r/g, '␍')
    .replace(/\t/g, '→\t')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  if (visibleSpaces) s = s.replace(/ /g, '·')
  const breaks = s.includes('\n')
  s = s.replace(/\n/g, '↵\n')
  return { text: s, breaks }
}

export function classLabel(cls: TokenClass, side: 'o' | 'r'): string {
  if (cls === 'same') return 'unchanged'
  if (cls === 'substituted') return side === 'o' ? 'substituted (replaced)' : 'substituted (replacement)'
  return cls
}
