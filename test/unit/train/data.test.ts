// Data preparation: the official formatting (prompt + ' ' + response + EOS), the response span,
// FIGA weights from the signals module with α on the closing EOS, SFT weights, truncation, the
// held-out split, the dataset hash and length bucketing.

import { beforeAll, describe, expect, it } from 'vitest'
import { alpacaPrompt } from '../../../src-main/model/prompt'
import { computeSignals, figaWeights } from '../../../src-main/signals/weights'
import { loadTokenizer, type TokenizerAdapter } from '../../../src-main/signals/tokenizer'
import { byteTokenizer } from '../../../src-main/signals/byte-tokenizer'
import { type TrainExample, canonicalExamples, datasetHash, microBatches, prepareExamples, splitExamples } from '../../../src-main/train/data'
import { withDefaults } from '../../../src-main/train/settings'
import { BYTE_TOKENIZER_DIR, syntheticExamples } from './helpers'

let tok: TokenizerAdapter
beforeAll(async () => {
  tok = await loadTokenizer(BYTE_TOKENIZER_DIR)
})

const prompt = alpacaPrompt({ instruction: 'Name a colour.' })
const ex: TrainExample = { id: 1, prompt, original: 'The sky is green.', revised: 'The sky is blue.' }

describe('prepareExamples', () => {
  it('formats prompt + " " + response + EOS and weights the response with FIGA signals', () => {
    const s = withDefaults({ alpha: 1, beta: 0.5, gamma: 0 })
    const { pairs, report } = prepareExamples([ex], { tokenizer: tok, settings: s, maxPositions: 512 })
    expect(report.used).toBe(1)
    const p = pairs[0]
    const full = tok.encode(`${prompt} The sky is blue.<|endoftext|>`)
    expect([...p.revised.ids]).toEqual(full)
    expect(p.revised.ids[p.revised.ids.length - 1]).toBe(tok.eosId)
    expect(p.revised.respStart).toBe(tok.encode(prompt).length)
    expect(tok.decode([...p.revised.ids.subarray(p.revised.respStart)])).toBe(' The sky is blue.<|endoftext|>')
    // weights = figaWeights of the signals on the response ids (EOS included), α on ŷ's EOS
    const rY = [...p.original!.ids.subarray(p.original!.respStart)]
    const rYh = [...p.revised.ids.subarray(p.revised.respStart)]
    const w = figaWeights(computeSignals(rY, rYh), { alpha: 1, beta: 0.5, gamma: 0 }, { revisedEos: true })
    expect([...p.revised.weights]).toEqual([...w.revised])
    expect([...p.original!.weights]).toEqual([...w.original])
    expect(p.revised.weights[p.revised.weights.length - 1]).toBe(1) // EOS of ŷ: α
    expect(p.original!.weights[p.original!.weights.length - 1]).toBe(0) // EOS of y: unchanged → 0
    expect([...p.revised.weights].filter((x) => x !== 0).length).toBeGreaterThan(1)
    expect([...p.original!.weights].filter((x) => x !== 0).every((x) => x === 0.5)).toBe(true)
    // the common prefix covers the prompt and "The sky is"
    expect(p.shared).toBeGreaterThan(p.revised.respStart)
    expect([...p.revised.ids.subarray(0, p.shared)]).toEqual([...p.original!.ids.subarray(0, p.shared)])
  })

  it('the EOS of ŷ gets α even when unchanged and γ is 0; γ weighs the unchanged tokens', () => {
    const s = withDefaults({ alpha: 2, beta: 0.5, gamma: 0.1 })
    const { pairs } = prepareExamples([ex], { tokenizer: tok, settings: s, maxPositions: 512 })
    const w = pairs[0].revised.weights
    expect(w[w.length - 1]).toBe(2)
    expect([...w].filter((x) => Math.abs(x - 0.1) < 1e-7).length).toBeGreaterThan(3)
  })

  it('SFT: weight 1 on every response token of ŷ, EOS included; SFT rows are kept', () => {
    const s = withDefaults({ method: 'sft' })
    const rows = [ex, { id: 2, prompt, original: null, revised: 'Blue.' }]
    const { pairs, report } = prepareExamples(rows, { tokenizer: tok, settings: s, maxPositions: 512 })
    expect(report.used).toBe(2)
    for (const p of pairs) expect([...p.revised.weights].every((x) => x === 1)).toBe(true)
    expect(pairs[1].original).toBeNull()
  })

  it('FIGA skips SFT rows (no original) and says so', () => {
    const { pairs, report } = prepareExamples([ex, { id: 2, prompt, original: null, revised: 'Blue.' }], { tokenizer: tok, settings: withDefaults({}), maxPositions: 512 })
    expect(pairs.map((p) => p.id)).toEqual([1])
    expect(report.skippedNoOriginal).toBe(1)
  })

  it('truncation: "truncate" cuts the sequences to the max length (weights follow), "drop" leaves the pair out', () => {
    const long: TrainExample = { id: 5, prompt: 'Q:', original: 'x ' + 'a '.repeat(100), revised: 'y ' + 'a '.repeat(100) }
    const t = prepareExamples([long], { tokenizer: tok, settings: withDefaults({ maxLength: 64 }), maxPositions: 512 })
    expect(t.report.truncated).toBe(1)
    const p = t.pairs[0]
    expect(p.truncated).toBe(true)
    expect(p.revised.ids.length).toBe(64)
    expect(p.revised.weights.length).toBe(64 - p.revised.respStart)
    expect(p.revised.ids[63]).not.toBe(tok.eosId) // the EOS was cut off, the edit at the start kept
    expect(p.revised.weights.some((w) => w !== 0)).toBe(true)
    // an edit past the cut leaves no weighted token: not a FIGA training pair
    const late: TrainExample = { id: 6, prompt: 'Q:', original: 'a '.repeat(100) + 'x', revised: 'a '.repeat(100) + 'y' }
    const none = prepareExamples([late], { tokenizer: tok, settings: withDefaults({ maxLength: 64 }), maxPositions: 512 })
    expect(none.pairs.length).toBe(0)
    expect(none.report.skippedNoSignal).toBe(1)
    const d = prepareExamples([long], { tokenizer: tok, settings: withDefaults({ maxLength: 64, truncation: 'drop' }), maxPositions: 512 })
    expect(d.pairs.length).toBe(0)
    expect(d.report.droppedTooLong).toBe(1)
    // the model's position limit caps the max length
    const capped = prepareExamples([long], { tokenizer: tok, settings: withDefaults({ maxLength: 512 }), maxPositions: 50 })
    expect(capped.pairs[0].revised.ids.length).toBe(50)
    // a prompt that leaves no room for the response
    const noRoom = prepareExamples([{ ...long, prompt: 'x'.repeat(80) }], { tokenizer: tok, settings: withDefaults({ maxLength: 64 }), maxPositions: 512 })
    expect(noRoom.report.droppedPromptTooLong).toBe(1)
  })

  it('works with a file-free tokenizer (byte-level, <eos> text)', () => {
    const { pairs } = prepareExamples([ex], { tokenizer: byteTokenizer(), settings: withDefaults({}), maxPositions: 512 })
    expect(pairs[0].revised.ids[pairs[0].revised.ids.length - 1]).toBe(256)
    expect(pairs[0].revised.respStart).toBe(new TextEncoder().encode(prompt).length)
  })
})

describe('split, hash, order', () => {
  const examples = syntheticExamples(40)

  it('held-out split is deterministic by seed and independent of the input order', () => {
    const a = splitExamples(examples, 0.1, 7)
    const b = splitExamples([...examples].reverse(), 0.1, 7)
    expect(a.eval.map((e) => e.id)).toEqual(b.eval.map((e) => e.id))
    expect(a.eval.length).toBe(4)
    expect(a.train.length).toBe(36)
    expect(splitExamples(examples, 0.1, 8).eval.map((e) => e.id)).not.toEqual(a.eval.map((e) => e.id))
    expect(splitExamples(examples, 0, 7).eval).toEqual([])
    expect(splitExamples(examples.slice(0, 3), 0.01, 7).eval.length).toBe(1)
  })

  it('dataset hash: same for the same examples in any order, different when a text changes', () => {
    const h = datasetHash(examples)
    expect(datasetHash([...examples].reverse())).toBe(h)
    const changed = examples.map((e, i) => (i === 5 ? { ...e, revised: e.revised + '!' } : e))
    expect(datasetHash(changed)).not.toBe(h)
    expect(() => canonicalExamples([examples[0], examples[0]])).toThrow(/duplicate example id/)
  })

  it('bucketing groups pairs of similar length; without it the data order is kept', () => {
    const { pairs } = prepareExamples(examples.slice(0, 12), { tokenizer: tok, settings: withDefaults({}), maxPositions: 512 })
    const flat = microBatches(pairs, 4, false, 'figa').flat()
    expect(flat.map((p) => p.id)).toEqual(pairs.map((p) => p.id))
    const b = microBatches(pairs, 4, true, 'figa')
    expect(b.length).toBe(3)
    const len = (p: (typeof pairs)[0]) => Math.max(p.revised.ids.length, p.original!.ids.length)
    const lens = b.flat().map(len)
    expect(lens).toEqual([...lens].sort((x, y) => y - x))
  })
})
