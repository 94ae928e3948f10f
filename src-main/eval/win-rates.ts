// Win rates from pairwise votes, with a 95% Wilson score interval (ties count as half a win).
import type { WinRate } from '../api/types'

export interface Vote {
  a: { id: number; name: string }
  b: { id: number; name: string }
  winner: 'a' | 'b' | 'tie'
}

const Z95 = 1.959964

/** Wilson score interval for `successes` out of `n` (successes may be fractional: ties as ½). */
export function wilson(successes: number, n: number, z = Z95): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 }
  const p = successes / n
  const denominator = 1 + (z * z) / n
  const centre = (p + (z * z) / (2 * n)) / denominator
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

/** One row per unordered model pair; X is the model with the smaller id. */
export function winRates(votes: Vote[]): WinRate[] {
  const table = new Map<string, WinRate>()
  for (const v of votes) {
    const [x, y] = v.a.id <= v.b.id ? [v.a, v.b] : [v.b, v.a]
    const key = `${x.id}:${y.id}`
    const row = table.get(key) ?? { modelX: x, modelY: y, xWins: 0, yWins: 0, ties: 0, votes: 0, rate: 0, low: 0, high: 1 }
    const winnerId = v.winner === 'tie' ? null : v.winner === 'a' ? v.a.id : v.b.id
    if (winnerId === null) row.ties++
    else if (winnerId === x.id) row.xWins++
    else row.yWins++
    row.votes++
    table.set(key, row)
  }
  for (const row of table.values()) {
    const wins = row.xWins + row.ties / 2
    row.rate = wins / row.votes
    Object.assign(row, wilson(wins, row.votes))
  }
  return [...table.values()].sort((p, q) => q.votes - p.votes)
}
