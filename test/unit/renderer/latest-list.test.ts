// The reload helper of the Chat and Models lists: a slow older response never wins.
import { describe, expect, it } from 'vitest'
import { keptSelection, latestList } from '../../../src-renderer/lib/latest-list'

function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

describe('latestList', () => {
  it('applies only the latest reload, even when an older one answers last', async () => {
    const answers = [deferred<number[]>(), deferred<number[]>()]
    let call = 0
    const seen: string[] = []
    const reload = latestList(() => answers[call++].promise, { loaded: (l) => seen.push(`loaded ${l}`), failed: (e) => seen.push(`failed ${e}`), settled: () => seen.push('settled') })
    const first = reload()
    const second = reload()
    answers[1].resolve([2])
    await second
    answers[0].resolve([1])
    await first
    expect(seen).toEqual(['loaded 2', 'settled'])
  })

  it('reports a failure of the latest reload with its message', async () => {
    const seen: string[] = []
    const reload = latestList(() => Promise.reject(new Error('the store is closed')), { loaded: () => seen.push('loaded'), failed: (e) => seen.push((e as Error).message), settled: () => seen.push('settled') })
    await reload()
    expect(seen).toEqual(['the store is closed', 'settled'])
  })
})

describe('keptSelection', () => {
  const list = [{ id: 3 }, { id: 5 }]
  it('keeps a listed selection, else moves to the first item, else none', () => {
    expect(keptSelection(list, 5)).toBe(5)
    expect(keptSelection(list, 4)).toBe(3)
    expect(keptSelection(list, null)).toBe(3)
    expect(keptSelection([], 5)).toBe(null)
  })
})
