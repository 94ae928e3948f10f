import { afterEach, describe, expect, it } from 'vitest'
import { openDb, schemaVersion } from '../../../src-main/store/db'
import { createDataset, deleteDataset, findDatasetByName, listDatasets } from '../../../src-main/store/datasets'
import { listPairs, pairInserter, pairsAfter } from '../../../src-main/store/pairs'
import { migrations } from '../../../src-main/store/migrations'
import { tempDir } from '../../helpers/temp'

const cleanups: Array<() => void> = []
afterEach(() => cleanups.splice(0).forEach((c) => c()))

function freshDb() {
  const t = tempDir()
  cleanups.push(t.cleanup)
  const db = openDb(t.dir)
  cleanups.unshift(() => db.close())
  return { db, dir: t.dir }
}

const row = (i: number, kind: 'pair' | 'sft' = 'pair') => ({
  kind, system: null, instruction: `instruction ${i}`, input: '', history: null,
  original: kind === 'pair' ? `original ${i}` : null, revised: `Revised ${i}`, reference: null,
})

describe('store', () => {
  it('opens in WAL mode with foreign keys on and every migration applied', () => {
    const { db } = freshDb()
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(schemaVersion(db)).toBe(migrations[migrations.length - 1].version)
  })

  it('re-opens an existing database without re-running migrations', () => {
    const { db, dir } = freshDb()
    createDataset(db, { name: 'kept', sourceName: null, sourceFormat: null, shape: null, mapping: null })
    db.close()
    const again = openDb(dir)
    cleanups.unshift(() => again.close())
    expect(listDatasets(again).map((d) => d.name)).toEqual(['kept'])
  })

  it('refuses a database from a newer app', () => {
    const { db, dir } = freshDb()
    db.pragma('user_version = 999')
    db.close()
    expect(() => openDb(dir)).toThrow(/newer than this app/)
  })

  it('stores pairs in order, pages, searches and cascades deletes', () => {
    const { db } = freshDb()
    const id = createDataset(db, { name: 'Set', sourceName: 'a.jsonl', sourceFormat: 'jsonl', shape: 'spa', mapping: {} })
    const ins = pairInserter(db, id)
    for (let i = 0; i < 30; i++) ins.insert(row(i, i % 10 === 9 ? 'sft' : 'pair'), `h${i}`, `line ${i + 1}`)
    expect(findDatasetByName(db, 'set')?.pairCount).toBe(27)
    expect(findDatasetByName(db, 'SET')?.sftCount).toBe(3)

    const page = listPairs(db, { datasetId: id, offset: 10, limit: 5 })
    expect(page.total).toBe(30)
    expect(page.rows.map((r) => r.position)).toEqual([10, 11, 12, 13, 14])
    expect(listPairs(db, { datasetId: id, offset: 0, limit: 50, search: 'REVISED 2' }).total).toBe(11) // 2, 20..29
    expect(listPairs(db, { datasetId: id, offset: 0, limit: 50, search: '50%_' }).total).toBe(0) // no wildcards
    expect(pairsAfter(db, id, 27, 10).map((r) => r.position)).toEqual([28, 29])
    expect(ins.findDuplicate('h3')).toBe('line 4')
    expect(ins.findDuplicate('nope')).toBeUndefined()

    expect(deleteDataset(db, id)).toBe(30)
    expect(db.prepare('SELECT count(*) FROM pairs').pluck().get()).toBe(0)
  })

  it('enforces that SFT rows have no original and pairs have one', () => {
    const { db } = freshDb()
    const id = createDataset(db, { name: 'x', sourceName: null, sourceFormat: null, shape: null, mapping: null })
    const ins = pairInserter(db, id)
    expect(() => ins.insert({ ...row(1), original: null }, 'h', 'line 1')).toThrow(/CHECK/)
  })
})
