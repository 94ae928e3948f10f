import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { editDistance, editops, editopsWith, type EditopsStrategy } from '../../../src-main/signals/editops'
import { editMasks } from '../../../src-main/signals/weights'
import { dpDistance, mutate, randInt, replay, rng } from './helpers'

const ENGINES: EditopsStrategy[] = [
  { engine: 'auto', maxTableBytes: 48 << 20 },
  { engine: 'table', maxTableBytes: 48 << 20 },
  { engine: 'matrix', maxTableBytes: 48 << 20 },
  { engine: 'checkpoint', maxTableBytes: 48 << 20 },
  { engine: 'auto', maxTableBytes: 4096 }, // forces the fallbacks on anything but tiny inputs
]

describe('editops: python-Levenshtein semantics', () => {
  it('handles empty and trivial inputs', () => {
    expect(editops([], [])).toEqual([])
    expect(editops([1, 2], [1, 2])).toEqual([])
    expect(editops([], [5, 6])).toEqual([
      { op: 'insert', src: 0, dst: 0 },
      { op: 'insert', src: 0, dst: 1 },
    ])
    expect(editops([5, 6], [])).toEqual([
      { op: 'delete', src: 0, dst: 0 },
      { op: 'delete', src: 1, dst: 0 },
    ])
    expect(editDistance([], [])).toBe(0)
    expect(editDistance([1, 2, 3], [])).toBe(3)
  })

  it('uses python-Levenshtein position conventions and tie preferences', () => {
    // Levenshtein.editops('abc', 'acd') == [('replace', 1, 1), ('replace', 2, 2)]
    expect(editops([97, 98, 99], [97, 99, 100])).toEqual([
      { op: 'replace', src: 1, dst: 1 },
      { op: 'replace', src: 2, dst: 2 },
    ])
    // Levenshtein.editops('ab', 'abc') == [('insert', 2, 2)]: insert at the end of the source
    expect(editops([1, 2], [1, 2, 3])).toEqual([{ op: 'insert', src: 2, dst: 2 }])
    // Levenshtein.editops('abc', 'ab') == [('delete', 2, 2)]: dst is the position in the target
    expect(editops([1, 2, 3], [1, 2])).toEqual([{ op: 'delete', src: 2, dst: 2 }])
    // Levenshtein.editops('aa', 'a') == [('delete', 1, 1)]: common prefix is kept
    expect(editops([1, 1], [1])).toEqual([{ op: 'delete', src: 1, dst: 1 }])
  })

  it('is optimal, valid and replays y into ŷ on random inputs (every engine)', () => {
    const r = rng(1)
    for (let t = 0; t < 1500; t++) {
      const alphabet = [1, 2, 3, 5, 20, 1000][t % 6]
      const y = Array.from({ length: randInt(r, 25) }, () => randInt(r, alphabet))
      const yhat = t % 4 === 0 ? Array.from({ length: randInt(r, 25) }, () => randInt(r, alphabet)) : mutate(r, y, r(), alphabet)
      const d = dpDistance(y, yhat)
      expect(editDistance(y, yhat)).toBe(d)
      const reference = editops(y, yhat)
      expect(reference.length).toBe(d)
      expect(replay(y, yhat, reference)).toEqual(yhat)
      for (const s of ENGINES) expect(editopsWith(y, yhat, s)).toEqual(reference)
    }
  })

  it('stays exact on longer inputs through the matrix and checkpoint engines', () => {
    const r = rng(2)
    for (let t = 0; t < 20; t++) {
      const alphabet = t % 2 ? 3 : 500
      const y = Array.from({ length: 150 + randInt(r, 150) }, () => randInt(r, alphabet))
      const yhat = mutate(r, y, 0.1 + r() * 0.8, alphabet)
      const reference = editopsWith(y, yhat, ENGINES[2])
      expect(reference.length).toBe(dpDistance(y, yhat))
      expect(replay(y, yhat, reference)).toEqual(yhat)
      for (const s of ENGINES) expect(editopsWith(y, yhat, s)).toEqual(reference)
    }
  })

  it('accepts typed arrays', () => {
    expect(editops(Int32Array.of(1, 2, 3), Uint16Array.of(1, 3))).toEqual([{ op: 'delete', src: 1, dst: 1 }])
  })

  it('handles a 5000-token pair with few edits quickly and without a quadratic table', () => {
    const r = rng(3)
    const y = Array.from({ length: 5000 }, () => randInt(r, 32000))
    const yhat = mutate(r, y, 0.02, 32000)
    const stats: EditopsStrategy['stats'] = {}
    const t0 = performance.now()
    const ops = editopsWith(y, yhat, { engine: 'auto', maxTableBytes: 48 << 20, stats })
    const ms = performance.now() - t0
    expect(ops).toEqual(editops(y, yhat))
    expect(replay(y, yhat, ops)).toEqual(yhat)
    expect(ops.length).toBe(editDistance(y, yhat))
    // memory: the furthest-reaching table is O(d²) (d ≈ 70 here), not the 50 MB matrix
    expect(stats.engine).toBe('table')
    expect(stats.tableBytes).toBeLessThan(256 * 1024)
    // generous sanity bound (a quadratic algorithm needs 25M cells; this needs ~d² ≈ 10⁴)
    expect(ms).toBeLessThan(2000)
    // a long heavy rewrite goes through the checkpointed matrix within the memory ceiling
    const z = Array.from({ length: 3000 }, () => randInt(r, 32000))
    const zStats: EditopsStrategy['stats'] = {}
    const zOps = editopsWith(y.slice(0, 3000), z, { engine: 'auto', maxTableBytes: 1 << 20, stats: zStats })
    expect(zStats.engine).toBe('checkpoint')
    expect(zStats.tableBytes).toBeLessThan(1 << 20)
    expect(replay(y.slice(0, 3000), z, zOps)).toEqual(z)
    expect(zOps.length).toBe(editDistance(y.slice(0, 3000), z))
  })
})

interface ParityCase {
  name: string
  y: number[]
  yhat: number[]
  distance: number
  ops: [string, number, number][]
  good: number[]
  bad: number[]
  unique: boolean
}

describe('parity with python-Levenshtein and the official FIGA collator', () => {
  const file = fileURLToPath(new URL('../../fixtures/signals/editops-parity.json', import.meta.url))
  const fixture = JSON.parse(readFileSync(file, 'utf8')) as { pythonLevenshtein: string; cases: ParityCase[] }

  it('has a fixture from tools/make-editops-fixture.py', () => {
    expect(fixture.cases.length).toBeGreaterThan(300)
    expect(fixture.cases.some((c) => !c.unique)).toBe(true)
  })

  it('matches distance on every case, masks wherever unique, and reports exact matches', () => {
    let exactOps = 0
    let tieCases = 0
    let tieMasksMatch = 0
    const failures: string[] = []
    for (const c of fixture.cases) {
      const ops = editops(c.y, c.yhat)
      if (ops.length !== c.distance) failures.push(`${c.name}: distance ${ops.length} != ${c.distance}`)
      const m = editMasks(ops, c.y.length, c.yhat.length)
      const good = [...m.good].flatMap((v, i) => (v ? [i] : []))
      const bad = [...m.bad].flatMap((v, i) => (v ? [i] : []))
      const masksMatch = JSON.stringify(good) === JSON.stringify(c.good) && JSON.stringify(bad) === JSON.stringify(c.bad)
      if (c.unique && !masksMatch) failures.push(`${c.name}: masks differ on a case with unique masks`)
      if (!c.unique) {
        tieCases++
        if (masksMatch) tieMasksMatch++
      }
      if (JSON.stringify(ops.map((o) => [o.op, o.src, o.dst])) === JSON.stringify(c.ops)) exactOps++
    }
    console.info(
      `editops parity (python-Levenshtein ${fixture.pythonLevenshtein}): ${exactOps}/${fixture.cases.length} identical op lists; ` +
        `${tieMasksMatch}/${tieCases} cases with several optimal masks also match exactly`,
    )
    expect(failures).toEqual([])
    // Our walk reproduces python-Levenshtein's, so every case should match exactly.
    expect(exactOps).toBe(fixture.cases.length)
  })
})
