// A seedable PRNG whose state can be saved and restored (for exact resume): xoshiro128**.

export class TrainRng {
  private s: Uint32Array

  constructor(seed: number) {
    this.s = new Uint32Array(4)
    let x = seed >>> 0
    for (let i = 0; i < 4; i++) {
      // splitmix32 spreads the seed over the state
      x = (x + 0x9e3779b9) >>> 0
      let z = x
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
      this.s[i] = (z ^ (z >>> 16)) >>> 0
    }
    if (!this.s.some((v) => v !== 0)) this.s[0] = 1
  }

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

  nextU32(): number {
    const s = this.s
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0
    const t = (s[1] << 9) >>> 0
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = rotl(s[3], 11)
    return result
  }

  private nextU32Pair(): number {
    const hi = this.nextU32() >>> 5
    const lo = this.nextU32() >>> 6
    return hi * 67108864 + lo
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.uniform() * n)
  }

  /** uniform in [0, 1) with 53 random bits */
  uniform(): number {
    return this.nextU32Pair() / 9007199254740992
  }

  /** standard normal (Box-Muller, no cached spare so that the state is the whole story) */
  normal(): number {
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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}
