import { describe, expect, it } from 'vitest'
import { computeSignals, DEFAULT_FIGA_PARAMS, editMasks, figaWeights, weightedTokenCount } from '../../../src-main/signals/weights'
import { mutate, randInt, rng } from './helpers'

const P = DEFAULT_FIGA_PARAMS

describe('computeSignals', () => {
  it('classifies a substitution and an addition', () => {
    const s = computeSignals([10, 11, 12, 13], [10, 20, 12, 13, 14])
    expect(s.ops).toEqual([
      { op: 'replace', src: 1, dst: 1 },
      { op: 'insert', src: 4, dst: 4 },
    ])
    expect(s.original.classes).toEqual(['same', 'substituted', 'same', 'same'])
    expect(s.revised.classes).toEqual(['same', 'substituted', 'same', 'same', 'added'])
    expect(s.counts).toEqual({ added: 1, deleted: 0, substituted: 1, same: 3 })
    expect(s.distance).toBe(2)
    expect(s.editRatio).toBeCloseTo(2 / 5)
    expect(s.original.ids).toEqual([10, 11, 12, 13])
  })

  it('classifies a deletion', () => {
    const s = computeSignals([1, 2, 3], [1, 3])
    expect(s.original.classes).toEqual(['same', 'deleted', 'same'])
    expect(s.revised.classes).toEqual(['same', 'same'])
    expect(s.counts).toEqual({ added: 0, deleted: 1, substituted: 0, same: 2 })
  })

  it('has editRatio 0 for empty or identical pairs and 1 for a complete rewrite', () => {
    expect(computeSignals([], []).editRatio).toBe(0)
    expect(computeSignals([1, 2], [1, 2]).editRatio).toBe(0)
    expect(computeSignals([1, 2], [3, 4, 5]).editRatio).toBe(1)
    expect(computeSignals([], [3]).counts).toEqual({ added: 1, deleted: 0, substituted: 0, same: 0 })
  })

  it('keeps the count identities on random pairs', () => {
    const r = rng(7)
    for (let t = 0; t < 300; t++) {
      const y = Array.from({ length: randInt(r, 40) }, () => randInt(r, 6))
      const yhat = mutate(r, y, r(), 6)
      const s = computeSignals(y, yhat)
      const c = s.counts
      expect(c.same + c.deleted + c.substituted).toBe(y.length)
      expect(c.same + c.added + c.substituted).toBe(yhat.length)
      expect(c.added + c.deleted + c.substituted).toBe(s.distance)
      const m = editMasks(s.ops, y.length, yhat.length)
      expect([...m.good].map((v) => v === 1)).toEqual(s.revised.classes.map((k) => k !== 'same'))
      expect([...m.bad].map((v) => v === 1)).toEqual(s.original.classes.map((k) => k !== 'same'))
    }
  })
})

describe('figaWeights', () => {
  it('gives α to added/substituted ŷ tokens, γ to the rest, β to deleted/substituted y tokens', () => {
    const s = computeSignals([10, 11, 12, 13, 15], [10, 20, 12, 13, 14])
    // y: same, substituted, same, same, substituted(15→14)
    const w = figaWeights(s, P)
    expect([...w.revised]).toEqual([0, 1, 0, 0, 1])
    expect([...w.original]).toEqual([0, 0.5, 0, 0, 0.5])
    const w2 = figaWeights(s, { alpha: 2, beta: 0.25, gamma: 0.1 })
    expect([...w2.revised].map((x) => +x.toFixed(6))).toEqual([0.1, 2, 0.1, 0.1, 2])
    expect([...w2.original]).toEqual([0, 0.25, 0, 0, 0.25])
    const d = figaWeights(computeSignals([1, 2, 3], [1, 3]), P)
    expect([...d.original]).toEqual([0, 0.5, 0])
    expect([...d.revised]).toEqual([0, 0])
  })

  it('gives α to the EOS that closes ŷ, and nothing extra to the EOS of y', () => {
    const EOS = 2
    const s = computeSignals([5, 6, EOS], [5, 7, EOS])
    expect(s.revised.classes[2]).toBe('same')
    expect([...figaWeights(s, P).revised]).toEqual([0, 1, 0])
    expect([...figaWeights(s, P, { revisedEos: true }).revised]).toEqual([0, 1, 1])
    expect([...figaWeights(s, P, { revisedEos: true }).original]).toEqual([0, 0.5, 0])
    expect([...figaWeights(s, { alpha: 1.5, beta: 0, gamma: 0.2 }, { revisedEos: true }).revised].map((x) => +x.toFixed(6))).toEqual([
      0.2, 1.5, 1.5,
    ])
    expect([...figaWeights(computeSignals([], []), P, { revisedEos: true }).revised]).toEqual([])
  })

  it('rejects non-finite parameters', () => {
    const s = computeSignals([1], [2])
    expect(() => figaWeights(s, { alpha: NaN, beta: 0.5, gamma: 0 })).toThrow(/alpha/)
    expect(() => weightedTokenCount(s, { alpha: 1, beta: Infinity, gamma: 0 })).toThrow(/beta/)
  })
})

describe('weightedTokenCount', () => {
  it('equals the number of non-zero weights', () => {
    const r = rng(11)
    const params = [P, { alpha: 1, beta: 0, gamma: 0 }, { alpha: 0, beta: 0.5, gamma: 0.3 }, { alpha: 1, beta: 0.5, gamma: 0.1 }]
    for (let t = 0; t < 200; t++) {
      const y = [...Array.from({ length: randInt(r, 30) }, () => randInt(r, 5)), 99]
      const yhat = [...mutate(r, y.slice(0, -1), r(), 5), 99]
      const s = computeSignals(y, yhat)
      for (const p of params) {
        for (const eos of [undefined, { revisedEos: true }]) {
          const w = figaWeights(s, p, eos)
          const nz = (a: Float32Array) => a.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0)
          expect(weightedTokenCount(s, p, eos)).toEqual({
            revised: nz(w.revised),
            original: nz(w.original),
            total: nz(w.revised) + nz(w.original),
          })
        }
      }
    }
  })
})
