// @vitest-environment node
import { describe, expect, it } from 'vitest'
import {
  better, checkSampling, datasetNameProblem, DEFAULT_SAMPLING, displayText, formatMargin, formatPerplexity, parseSampling, rateWithInterval,
  relativeTime, samplingSummary, sideLabel, templatesFor, toSampling,
} from '../../../src-renderer/lib/chat-format'

describe('chat sampling form', () => {
  it('accepts the defaults and turns them into chat.send settings', () => {
    expect(checkSampling({ ...DEFAULT_SAMPLING })).toEqual({})
    const s = toSampling({ ...DEFAULT_SAMPLING, stops: '###, \\n\\n' })
    expect(s).toEqual({ maxNewTokens: 128, temperature: 0.7, topK: 0, topP: 0.95, repetitionPenalty: 1, stop: ['###', '\n\n'] })
    expect('seed' in s).toBe(false)
    expect(toSampling({ ...DEFAULT_SAMPLING, seed: 7 }).seed).toBe(7)
  })

  it('names every field the contract would refuse', () => {
    const e = checkSampling({ maxNewTokens: 0, temperature: 6, topK: 1.5, topP: 0, repetitionPenalty: 0.5, seed: -1, stops: Array.from({ length: 17 }, (_, i) => `s${i}`).join(',') })
    expect(Object.keys(e).sort()).toEqual(['maxNewTokens', 'repetitionPenalty', 'seed', 'stops', 'temperature', 'topK', 'topP'])
    expect(checkSampling({ ...DEFAULT_SAMPLING, maxNewTokens: null }).maxNewTokens).toMatch(/1 to 4096/)
  })

  it('restores a saved form field by field', () => {
    expect(parseSampling(null)).toEqual(DEFAULT_SAMPLING)
    expect(parseSampling({ maxNewTokens: 32, temperature: 'hot', seed: 3, stops: 5 })).toEqual({ ...DEFAULT_SAMPLING, maxNewTokens: 32, seed: 3 })
  })

  it('summarises the settings in one line', () => {
    expect(samplingSummary({ ...DEFAULT_SAMPLING })).toBe('128 tokens · T 0.7 · top-p 0.95')
    expect(samplingSummary({ ...DEFAULT_SAMPLING, temperature: 0, seed: 4, stops: 'a,b' })).toBe('128 tokens · greedy · seed 4 · 2 stops')
  })
})

describe('chat display', () => {
  it('makes control and bidi characters visible and keeps newlines, tabs and replacement characters', () => {
    expect(displayText('a\u0000b\u001bc\r\nd\te\u202Ef\uFFFD')).toBe('a\\x00b\\x1bc\nd\te\\u202ef\uFFFD')
    expect(displayText('\u0085')).toBe('\\x85')
  })

  it('labels blind sides until the names are known', () => {
    expect(sideLabel('left', null)).toBe('Answer 1')
    expect(sideLabel('right', null)).toBe('Answer 2')
    expect(sideLabel('right', 'tuned')).toBe('tuned')
  })

  it('formats a win rate with its interval', () => {
    expect(rateWithInterval(0.6234, 0.478, 0.744)).toBe('62% [48–74%]')
    expect(rateWithInterval(1, 0.2065, 1)).toBe('100% [21–100%]')
    expect(rateWithInterval(NaN, 0, 1)).toBe('—')
  })

  it('formats evaluation numbers', () => {
    expect(formatMargin(0.12345)).toBe('+0.123')
    expect(formatMargin(-0.045)).toBe('−0.045')
    expect(formatMargin(0)).toBe('0.000')
    expect(formatPerplexity(256.94)).toBe('256.9')
    expect(formatPerplexity(3.14159)).toBe('3.14')
    expect(formatPerplexity(123456)).toBe('1.23e5')
    expect(better(1, 2, true)).toBe('b')
    expect(better(1, 2, false)).toBe('a')
    expect(better(1, 1, true)).toBe(null)
    expect(better(null, 1, true)).toBe(null)
  })

  it('checks new dataset names like the contract', () => {
    expect(datasetNameProblem('from-chat')).toBe(null)
    expect(datasetNameProblem('  ')).toMatch(/name/)
    expect(datasetNameProblem('a/b')).toMatch(/slashes/)
    expect(datasetNameProblem('x'.repeat(121))).toMatch(/120/)
  })

  it('offers the chat template only when every chosen model has one', () => {
    expect(templatesFor([{ hasChatTemplate: true }, { hasChatTemplate: true }])).toEqual(['alpaca', 'chat', 'raw'])
    expect(templatesFor([{ hasChatTemplate: true }, { hasChatTemplate: false }])).toEqual(['alpaca', 'raw'])
    expect(templatesFor([{ hasChatTemplate: true }, null])).toEqual(['alpaca', 'chat', 'raw'])
  })

  it('says how long ago', () => {
    const now = Date.parse('2025-01-02T12:00:00Z')
    expect(relativeTime('2025-01-02T11:59:50Z', now)).toBe('just now')
    expect(relativeTime('2025-01-02T11:50:00Z', now)).toBe('10 min ago')
    expect(relativeTime('2025-01-01T12:00:00Z', now)).toBe('yesterday')
    expect(relativeTime('garbage', now)).toBe('garbage')
  })
})
