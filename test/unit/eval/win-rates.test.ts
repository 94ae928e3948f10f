import { describe, expect, it } from 'vitest'
import { wilson, winRates } from '../../../src-main/eval/win-rates'

describe('win rates', () => {
  it('computes the Wilson score interval', () => {
    // Reference values: 5 of 10 → [0.2366, 0.7634]; 9 of 10 → [0.5958, 0.9821].
    expect(wilson(5, 10).low).toBeCloseTo(0.2366, 4)
    expect(wilson(5, 10).high).toBeCloseTo(0.7634, 4)
    expect(wilson(9, 10).low).toBeCloseTo(0.5958, 4)
    expect(wilson(9, 10).high).toBeCloseTo(0.9821, 4)
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 })
  })

  it('pools votes per model pair whichever side each model was on, ties as half a win', () => {
    const base = { id: 1, name: 'base' }
    const tuned = { id: 2, name: 'tuned' }
    const rows = winRates([
      { a: base, b: tuned, winner: 'b' },
      { a: tuned, b: base, winner: 'a' },
      { a: base, b: tuned, winner: 'tie' },
      { a: base, b: tuned, winner: 'a' },
    ])
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ modelX: base, modelY: tuned, xWins: 1, yWins: 2, ties: 1, votes: 4 })
    expect(rows[0].rate).toBeCloseTo(1.5 / 4, 10)
    expect(rows[0].low).toBeLessThan(rows[0].rate)
    expect(rows[0].high).toBeGreaterThan(rows[0].rate)
  })
})
