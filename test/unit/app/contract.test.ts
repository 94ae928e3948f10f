import { describe, expect, it } from 'vitest'
import { contract, isMethodName, methodNames } from '../../../src-main/api/contract'
import { ApiError } from '../../../src-main/api/errors'
import { parseCall } from '../../../src-main/api/validate'

describe('contract', () => {
  it('names every method with a kind, a summary and an argument schema', () => {
    expect(methodNames.length).toBeGreaterThan(5)
    for (const name of methodNames) {
      expect(['call', 'job', 'download']).toContain(contract[name].kind)
      expect(contract[name].summary.length).toBeGreaterThan(5)
      expect(typeof contract[name].args.safeParse).toBe('function')
    }
  })

  it('refuses unknown methods, including prototype names', () => {
    expect(isMethodName('datasets.list')).toBe(true)
    expect(isMethodName('toString')).toBe(false)
    expect(isMethodName('__proto__')).toBe(false)
    expect(() => parseCall('nope.nothing', {})).toThrow(/unknown method/)
  })

  it('validates arguments and names the offending field', () => {
    const bad = () => parseCall('pairs.list', { datasetId: -3 })
    expect(bad).toThrow(ApiError)
    expect(bad).toThrow(/datasetId/)
    expect(() => parseCall('pairs.list', { datasetId: 1, extra: true })).toThrow(/extra|unrecognized/i)
    expect(() => parseCall('datasets.import', { fileId: '../../etc/passwd', name: 'x' })).toThrow(/fileId/)
    expect(() => parseCall('datasets.import', { fileId: 'a'.repeat(32), name: 'a/b' })).toThrow(/slashes/)
    expect(() => parseCall('pairs.update', { pairId: 1 })).toThrow(/nothing to update/)
  })

  it('fills defaults', () => {
    const { args } = parseCall<'pairs.list'>('pairs.list', { datasetId: 4 })
    expect(args).toEqual({ datasetId: 4, offset: 0, limit: 50 })
    const imp = parseCall<'datasets.import'>('datasets.import', { fileId: 'f'.repeat(32), name: ' demo ' })
    expect(imp.args).toMatchObject({ name: 'demo', skipBad: false, dedupe: false, append: false })
  })
})
