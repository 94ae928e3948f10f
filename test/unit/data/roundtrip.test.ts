import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { contentHash, toSpaRecord, type NormalizedRow } from '../../../src-main/data/index'
import { fixture, readAll, tempDir } from './helpers'

const temp = tempDir()
afterAll(temp.cleanup)

const FIXTURES = [
  'spa.jsonl', 'spa.json', 'spa.csv', 'spa.tsv', 'spa-history.csv', 'spa.parquet', 'ultrafeedback.jsonl', 'ultrafeedback.parquet',
  'preference.jsonl', 'hh.jsonl', 'alpaca.json', 'sharegpt.json', 'sharegpt-messages.jsonl',
]

async function goodRows(name: string): Promise<NormalizedRow[]> {
  return (await readAll(fixture(name))).flatMap((r) => (r.row ? [r.row] : []))
}

/** Writes rows as the SPA export does and reads them back. */
async function reimport(rows: NormalizedRow[], name: string): Promise<NormalizedRow[]> {
  const path = join(temp.dir, name)
  writeFileSync(path, rows.map((row) => JSON.stringify(toSpaRecord(row))).join('\n') + '\n')
  return (await readAll(path)).map((r) => r.row ?? r.problem) as NormalizedRow[]
}

describe('SPA export round trip', () => {
  it.each(FIXTURES)('%s: normalise → toSpaRecord → JSONL → import gives identical rows', async (name) => {
    const rows = await goodRows(name)
    expect(rows.length).toBeGreaterThan(0)
    expect(await reimport(rows, `${name}.export.jsonl`)).toEqual(rows)
  })

  it('round-trips an export that mixes pairs and SFT rows', async () => {
    const rows = [...(await goodRows('spa.jsonl')), ...(await goodRows('sharegpt.json')), ...(await goodRows('hh.jsonl'))]
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['pair', 'sft']))
    expect(await reimport(rows, 'mixed.export.jsonl')).toEqual(rows)
  })

  it('writes the SPA field names, optional keys only when set', () => {
    const sft: NormalizedRow = { kind: 'sft', system: null, instruction: 'Hi', input: '', history: null, original: null, revised: 'Hello', reference: null }
    expect(toSpaRecord(sft)).toEqual({ instruction: 'Hi', input: '', output: 'Hello' })
    const full: NormalizedRow = {
      kind: 'pair', system: 'Be brief.', instruction: 'Hi', input: 'ctx', history: [{ role: 'user', content: 'Hey' }, { role: 'assistant', content: 'Yo' }],
      original: 'hello', revised: 'Hello!', reference: 'Hi there',
    }
    expect(Object.keys(toSpaRecord(full))).toEqual(['instruction', 'input', 'original_output', 'revised_output', 'output', 'system', 'history'])
  })
})

describe('contentHash', () => {
  const row: NormalizedRow = {
    kind: 'pair', system: null, instruction: 'Say hi.', input: '', history: [{ role: 'user', content: 'Hey' }],
    original: 'hi', revised: 'Hello!', reference: null,
  }

  it('is a sha256 hex digest that ignores key order', () => {
    const reordered = JSON.parse(JSON.stringify({ reference: null, revised: 'Hello!', original: 'hi', history: [{ content: 'Hey', role: 'user' }], input: '', instruction: 'Say hi.', system: null, kind: 'pair' }))
    expect(contentHash(row)).toMatch(/^[0-9a-f]{64}$/)
    expect(contentHash(reordered)).toBe(contentHash(row))
  })

  it('changes with any field', () => {
    const hashes = new Set([
      row,
      { ...row, revised: 'Hello' },
      { ...row, original: null, kind: 'sft' as const },
      { ...row, system: '' },
      { ...row, history: null },
      { ...row, reference: 'x' },
      { ...row, input: ' ' },
    ].map(contentHash))
    expect(hashes.size).toBe(7)
  })

  it('is the same for a row read from JSONL and from Parquet', async () => {
    const fromJsonl = (await goodRows('spa.jsonl')).slice(0, 2).map(contentHash)
    const fromParquet = (await goodRows('spa.parquet')).slice(0, 2).map(contentHash)
    expect(fromParquet).toEqual(fromJsonl)
  })
})
