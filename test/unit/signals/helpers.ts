import type { EditOp } from '../../../src-main/signals/editops'

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n)
}

/** y with each token deleted / replaced / followed by an insert with total probability `rate`. */
export function mutate(r: () => number, y: number[], rate: number, alphabet: number): number[] {
  const out: number[] = []
  for (const x of y) {
    const u = r()
    if (u < rate / 3) continue
    else if (u < (2 * rate) / 3) out.push(randInt(r, alphabet))
    else if (u < rate) out.push(x, randInt(r, alphabet))
    else out.push(x)
  }
  return out
}

/** Textbook O(n·m) Levenshtein distance. */
export function dpDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]
}

/** Applies python-Levenshtein-style ops to `source`; throws on an invalid list. */
export function replay(source: number[], target: number[], ops: EditOp[]): number[] {
  const out: number[] = []
  let i = 0
  let lastSrc = -1
  let lastDst = -1
  for (const o of ops) {
    if (o.src < lastSrc || (o.src === lastSrc && o.dst < lastDst)) throw new Error(`ops not sorted at ${JSON.stringify(o)}`)
    lastSrc = o.src
    lastDst = o.dst
    if (o.src < i && o.op !== 'insert') throw new Error(`source position ${o.src} used twice`)
    if (o.src > source.length || o.dst > target.length) throw new Error(`position out of range ${JSON.stringify(o)}`)
    while (i < o.src) out.push(source[i++])
    // matched tokens keep their target position: out.length must equal dst for insert/replace
    if (o.op === 'insert') {
      if (out.length !== o.dst) throw new Error(`insert dst ${o.dst} != ${out.length}`)
      out.push(target[o.dst])
    } else if (o.op === 'replace') {
      if (out.length !== o.dst) throw new Error(`replace dst ${o.dst} != ${out.length}`)
      if (source[o.src] === target[o.dst]) throw new Error('replace of equal tokens')
      out.push(target[o.dst])
      i++
    } else {
      if (out.length !== o.dst) throw new Error(`delete dst ${o.dst} != ${out.length}`)
      i++
    }
  }
  while (i < source.length) out.push(source[i++])
  return out
}
