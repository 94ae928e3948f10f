// Signals at the service level: the cached per-pair computation in a worker, invalidation on
// edit, statistics, filters, exclusions and saved selections.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport, PairPage, PairSignalView, Selection, SignalStats } from '../../src-main/api/types'
import { createServices, type Services } from '../../src-main/services'
import { selectionPairIds } from '../../src-main/store/signals'
import { tempDir, toJsonl } from '../helpers/temp'

const ctx = { host: 'cli' as const }
const tokenizer = 'builtin:byte'
const t = tempDir('figa-signals-')
let services: Services
let datasetId: number
let pairIds: number[]

const rows = [
  { instruction: 'Name a pet.', input: '', original_output: 'The cat sat.', revised_output: 'The dog sat.' }, // 3 substitutions
  { instruction: 'Count.', input: '', original_output: 'one two', revised_output: 'one two three' }, // 6 insertions
  { instruction: 'Same.', input: '', original_output: 'unchanged', revised_output: 'unchanged' }, // no-op
  { instruction: 'Rewrite.', input: '', original_output: 'abc', revised_output: 'xyz' }, // full rewrite
  { instruction: 'Trim.', input: '', original_output: 'keep this not', revised_output: 'keep this' }, // 4 deletions
]

beforeAll(async () => {
  services = await createServices({ dataDir: join(t.dir, 'data') })
  const path = join(t.dir, 'pairs.jsonl')
  writeFileSync(path, toJsonl(rows) + JSON.stringify({ instruction: 'An SFT row', input: '', output: 'ignored by signals' }) + '\n')
  const report = (await services.runJob('datasets.import', { fileId: services.files.registerPath(path).fileId, name: 'sig' }, ctx)) as ImportReport
  datasetId = report.datasetId!
  const page = (await services.call('pairs.list', { datasetId }, ctx)) as PairPage
  pairIds = page.rows.map((r) => r.id)
})
afterAll(async () => {
  await services?.close()
  t.cleanup()
})

const compute = () => services.runJob('signals.compute', { datasetId, tokenizer }, ctx) as Promise<{ total: number; computed: number; cached: number }>
const stats = (filters: Record<string, unknown> = {}) => services.call('signals.stats', { datasetId, tokenizer, filters }, ctx) as Promise<SignalStats>

describe('signals service', () => {
  it('computes every pair once in a worker and then serves them from the cache', async () => {
    expect((await stats()).computed).toBe(0)
    expect(await compute()).toEqual({ total: 5, computed: 5, cached: 0 })
    expect(await compute()).toEqual({ total: 5, computed: 0, cached: 5 })
    const s = await stats()
    expect(s).toMatchObject({ pairs: 5, computed: 5, noop: 1 })
    expect(s.totals).toMatchObject({ added: 6, deleted: 4 + 0, substituted: 3 + 3 })
    expect(s.histogram.counts.reduce((a, b) => a + b, 0)).toBe(5)
    expect(s.histogram.counts[19]).toBe(1) // the full rewrite, edit ratio 1
  })

  it('recomputes an edited pair at once and leaves the others cached', async () => {
    const before = services.db.prepare('SELECT count(*) FROM pair_signals').pluck().get()
    await services.call('pairs.update', { pairId: pairIds[0], revised: 'The dog sat down.' }, ctx)
    // The old entry no longer applies (new content hash); the new one was written with the edit.
    expect(await compute()).toEqual({ total: 5, computed: 0, cached: 5 })
    expect(services.db.prepare('SELECT count(*) FROM pair_signals').pluck().get()).toBe(before)
    const page = (await services.call('signals.pairs', { datasetId, tokenizer }, ctx)) as { rows: Array<{ pairId: number; counts: { added: number; substituted: number } }> }
    expect(page.rows.find((r) => r.pairId === pairIds[0])!.counts).toMatchObject({ substituted: 3, added: 5 })
    const view = (await services.call('signals.pair', { pairId: pairIds[0], tokenizer }, ctx)) as PairSignalView
    expect(view.counts).toMatchObject({ substituted: 3, added: 5 })
  })

  it('aligns a pair so that the rows replay the original into the revision', async () => {
    const view = (await services.call('signals.pair', { pairId: pairIds[4], tokenizer }, ctx)) as PairSignalView
    const text = (side: 'o' | 'r') => view.alignment.filter((r) => r[side] !== null).map((r) => (side === 'o' ? view.original[r.o!] : view.revised[r.r!]).text).join('')
    expect(text('o')).toBe('keep this not')
    expect(text('r')).toBe('keep this')
    expect(view.original.filter((tk) => tk.cls === 'deleted').map((tk) => tk.text).join('')).toBe(' not')
    expect(view.revised.at(-1)).toMatchObject({ eos: true })
    await expect(services.call('signals.pair', { pairId: pairIds[5], tokenizer }, ctx)).rejects.toThrow(/SFT/)
  })

  it('filters, excludes by hand and saves a frozen selection', async () => {
    expect((await stats()).kept).toBe(4) // no-op dropped by default
    expect((await stats({ dropNoop: false })).kept).toBe(5)
    expect((await stats({ dropFullRewrite: true })).kept).toBe(3)
    expect((await stats({ minChanged: 5 })).kept).toBe(2) // the 8-change edit and the 6 insertions
    expect((await stats({ maxEditRatio: 0.4 })).kept).toBe(1) // only the 4-token trim (0.31)

    await services.call('review.exclude', { pairId: pairIds[1], excluded: true }, ctx)
    const s = await stats()
    expect(s).toMatchObject({ excluded: 1, kept: 3 })
    expect((await stats({ dropExcluded: false })).kept).toBe(4)

    const page = (await services.call('signals.pairs', { datasetId, tokenizer, show: 'dropped' }, ctx)) as { rows: Array<{ pairId: number; excluded: boolean }> }
    expect(page.rows.map((r) => r.pairId).sort()).toEqual([pairIds[1], pairIds[2]].sort())
    const sorted = (await services.call('signals.pairs', { datasetId, tokenizer, sort: '-editRatio' }, ctx)) as { rows: Array<{ editRatio: number }> }
    expect(sorted.rows.map((r) => r.editRatio)).toEqual([...sorted.rows.map((r) => r.editRatio)].sort((a, b) => b - a))

    const selection = (await services.call('selections.save', { datasetId, name: 'clean', tokenizer, filters: { dropFullRewrite: true } }, ctx)) as Selection
    expect(selection.pairCount).toBe(2)
    expect(selectionPairIds(services.db, selection.id)).toEqual([pairIds[0], pairIds[4]])
    await expect(services.call('selections.save', { datasetId, name: 'CLEAN', tokenizer, filters: {} }, ctx)).rejects.toThrow(/already/)
    // The selection is frozen: later exclusions do not change it, and the dataset is untouched.
    await services.call('review.exclude', { pairId: pairIds[0], excluded: true }, ctx)
    expect(selectionPairIds(services.db, selection.id)).toHaveLength(2)
    expect(((await services.call('pairs.list', { datasetId }, ctx)) as PairPage).total).toBe(6)
    expect(await services.call('selections.delete', { selectionId: selection.id }, ctx)).toEqual({ deleted: true })
  })

  it('previews a live edit without storing anything', async () => {
    const view = (await services.call('signals.preview', { tokenizer, original: 'a b', revised: 'a c' }, ctx)) as PairSignalView
    expect(view.counts).toMatchObject({ substituted: 1, added: 0, deleted: 0 })
  })
})
