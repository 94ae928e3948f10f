// A pair as the Review screen shows it: both responses in the model's tokens, classified by
// the alignment, plus the row-by-row alignment for the side-by-side view.
import type { AlignedRow, PairSignalView, SignalCounts, TokenView } from '../api/types'
import type { EditOp } from './editops'
import type { TokenizerAdapter } from './tokenizer'
import { computeSignals, type PairSignals } from './weights'

/** Response text → token ids exactly as alignment (and training) sees them: no special tokens. */
export function responseIds(tokenizer: TokenizerAdapter, text: string): number[] {
  return tokenizer.encode(text, { addSpecialTokens: false })
}

export function signalCounts(s: PairSignals): SignalCounts {
  return { ...s.counts, originalTokens: s.original.ids.length, revisedTokens: s.revised.ids.length }
}

export function pairSignals(tokenizer: TokenizerAdapter, original: string, revised: string): PairSignals {
  return computeSignals(responseIds(tokenizer, original), responseIds(tokenizer, revised))
}

export function pairView(tokenizer: TokenizerAdapter, tokenizerKey: string, original: string, revised: string): PairSignalView {
  const s = pairSignals(tokenizer, original, revised)
  const originalTexts = tokenizer.tokenTexts(s.original.ids)
  const revisedTexts = tokenizer.tokenTexts(s.revised.ids)
  const originalTokens: TokenView[] = s.original.ids.map((id, i) => ({ id, text: originalTexts[i], cls: s.original.classes[i] }))
  const revisedTokens: TokenView[] = s.revised.ids.map((id, i) => ({ id, text: revisedTexts[i], cls: s.revised.classes[i] }))
  // Training closes ŷ with EOS, and FIGA rewards it with α.
  if (tokenizer.eosId !== null) revisedTokens.push({ id: tokenizer.eosId, text: tokenizer.eosToken ?? '</s>', cls: 'same', eos: true })
  return {
    tokenizer: tokenizerKey,
    original: originalTokens,
    revised: revisedTokens,
    alignment: alignmentRows(s.ops, s.original.ids.length, s.revised.ids.length),
    distance: s.distance,
    editRatio: s.editRatio,
    counts: signalCounts(s),
  }
}

/** Expands edit operations (matches implicit) into one row per aligned position. */
export function alignmentRows(ops: EditOp[], originalLength: number, revisedLength: number): AlignedRow[] {
  const rows: AlignedRow[] = []
  let o = 0
  let r = 0
  const matchUntil = (src: number, dst: number) => {
    while (o < src && r < dst) rows.push({ op: 'same', o: o++, r: r++ })
  }
  for (const op of ops) {
    matchUntil(op.src, op.dst)
    if (op.op === 'insert') rows.push({ op: 'insert', o: null, r: r++ })
    else if (op.op === 'delete') rows.push({ op: 'delete', o: o++, r: null })
    else rows.push({ op: 'replace', o: o++, r: r++ })
  }
  matchUntil(originalLength, revisedLength)
  return rows
}
