// The import job end to end at the service level: worker, transaction, report, cancel.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ImportReport, PairPage, PairRow } from '../../src-main/api/types'
import { createServices, type Services } from '../../src-main/services'
import { spaRecords, tempDir, toJsonl } from '../helpers/temp'

const ctx = { host: 'cli' as const }
const t = tempDir('figa-import-')
let services: Services

beforeAll(async () => {
  services = await createServices({ dataDir: join(t.dir, 'data') })
})
afterAll(async () => {
  await services?.close()
  t.cleanup()
})

function stage(name: string, text: string) {
  const path = join(t.dir, name)
  writeFileSync(path, text)
  return services.files.registerPath(path).fileId
}

const importFile = (args: Record<string, unknown>) => services.runJob('datasets.import', args, ctx) as Promise<ImportReport>

describe('import job', () => {
  it('imports preference data with message lists into pairs (chosen → revised, rejected → original)', async () => {
    const rows = [
      { prompt: 'Say hi', chosen: [{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'Hello!' }], rejected: [{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'No.' }] },
      { prompt: 'Add 2+2', chosen: [{ role: 'user', content: 'Add 2+2' }, { role: 'assistant', content: '4' }], rejected: [{ role: 'user', content: 'Add 2+2' }, { role: 'assistant', content: '5' }] },
    ]
    const report = await importFile({ fileId: stage('uf.jsonl', toJsonl(rows)), name: 'uf' })
    expect(report).toMatchObject({ shape: 'preference', imported: 2, pairs: 2, rolledBack: false })
    const page = (await services.call('pairs.list', { datasetId: report.datasetId }, ctx)) as PairPage
    expect(page.rows.map((r) => [r.instruction, r.original, r.revised])).toEqual([['Say hi', 'No.', 'Hello!'], ['Add 2+2', '5', '4']])
  })

  it('applies a mapping override', async () => {
    const csv = 'question,bad,good\n"What is 2+2?","5","4"\n"Capital of France?","Lyon","Paris"\n'
    const fileId = stage('mapped.csv', csv)
    const report = await importFile({ fileId, name: 'mapped', mapping: { instruction: 'question', original_output: 'bad', revised_output: 'good' } })
    expect(report).toMatchObject({ format: 'csv', shape: 'spa', imported: 2 })
  })

  it('appends to an existing dataset only when asked, and reports duplicates against it', async () => {
    const text = toJsonl(spaRecords(10, 200, 3))
    const first = await importFile({ fileId: stage('a.jsonl', text), name: 'grow' })
    await expect(importFile({ fileId: stage('b.jsonl', text), name: 'grow' })).rejects.toThrow(/exists already/)
    const second = await importFile({ fileId: stage('c.jsonl', text), name: 'grow', append: true, dedupe: true })
    expect(second).toMatchObject({ datasetId: first.datasetId, imported: 0, duplicateCount: 10, duplicatesSkipped: 10 })
    expect(second.duplicates[0]).toEqual({ location: 'line 1', firstSeen: 'line 1' })
  })

  it('rolls back a cancelled import and leaves no dataset behind', async () => {
    const fileId = stage('cancel.jsonl', toJsonl(spaRecords(200_000, 300)))
    const progress: number[] = []
    let jobId = ''
    const off = services.events.on('job.progress', (p) => {
      jobId = p.jobId
      progress.push(p.done)
      if (progress.length === 2) services.jobs.cancel(p.jobId)
    })
    try {
      await expect(importFile({ fileId, name: 'cancelled' })).rejects.toMatchObject({ code: 'cancelled' })
    } finally {
      off()
    }
    expect(jobId).not.toBe('')
    expect(services.jobs.list().find((j) => j.jobId === jobId)?.state).toBe('cancelled')
    expect(services.db.prepare("SELECT count(*) FROM datasets WHERE name = 'cancelled'").pluck().get()).toBe(0)
  })

  it('turns file-level problems into clear invalid_argument errors', async () => {
    const latin1 = Buffer.concat([Buffer.from('{"instruction":"caf'), Buffer.from([0xe9]), Buffer.from('","original_output":"a","revised_output":"b"}\n')])
    const path = join(t.dir, 'latin1.jsonl')
    writeFileSync(path, latin1)
    const fileId = services.files.registerPath(path).fileId
    await expect(importFile({ fileId, name: 'latin1' })).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/UTF-8/) })
    await expect(services.call('datasets.preview', { fileId }, ctx)).rejects.toMatchObject({ code: 'invalid_argument' })
  })

  it('updates a revision and its content hash', async () => {
    const report = await importFile({ fileId: stage('edit.jsonl', toJsonl(spaRecords(3, 200, 9))), name: 'edit' })
    const page = (await services.call('pairs.list', { datasetId: report.datasetId }, ctx)) as PairPage
    const before = page.rows[1]
    const after = (await services.call('pairs.update', { pairId: before.id, revised: 'A new revision' }, ctx)) as PairRow
    expect(after.revised).toBe('A new revision')
    expect(after.contentHash).not.toBe(before.contentHash)
    expect(after.editedAt).not.toBeNull()
  })
})
