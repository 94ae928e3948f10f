// A seedable PRNG whose state can be saved and restored (for exact resume).
import { Rng } from '../model/rng'

/**
 * The engine's xoshiro128** generator with its state exposed, so that a checkpoint can save it
 * and a resume continue the exact same sequence.
 */
export class TrainRng extends Rng {
  static fromState(state: number[]): TrainRng {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new Error('bad RNG state')
    }
    const r = new TrainRng(0)
    r.s.set(state)
    return r
  }

  state(): number[] {
    return [...this.s]
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.uniform() * n)
  }

  /** uniform in [0, 1) with 53 random bits */
  uniform(): number {
    return this.next()
  }

  /** standard normal (Box-Muller, no cached spare so that the state is the whole story) */
  override normal(): number {
    let u = 0
    while (u === 0) u = this.uniform()
    const v = this.uniform()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** a random permutation of 0..n-1 (Fisher-Yates) */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = p[i]
      p[i] = p[j]
      p[j] = t
    }
    return p
  }
}
