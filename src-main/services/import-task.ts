// The import job: streams a file through the data readers into one SQLite transaction.
// Default policy: any bad row → nothing is written and every bad row is reported.
// With skipBad the good rows land. Duplicates (same content hash) are reported; with
// dedupe they are dropped instead of imported. Cancel or a crash rolls everything back.
import { basename } from 'node:path'
import { ApiError } from '../api/errors'
import type { DuplicateRow, ImportReport, RowProblem } from '../api/types'
import { contentHash, openDataset, type SourceFormat } from '../data'
import { openDb } from '../store/db'
import { namingFile } from './file-errors'
import { createDataset, findDatasetByName, touchDataset } from '../store/datasets'
import { pairInserter } from '../store/pairs'
import type { TaskContext } from './tasks'

export interface ImportTaskArgs {
  dataDir: string
  path: string
  fileName?: string
  name: string
  format?: SourceFormat
  mapping?: Record<string, string>
  skipBad: boolean
  dedupe: boolean
  append: boolean
}

const MAX_LISTED = 10_000

export function runImport(args: ImportTaskArgs, ctx: TaskContext): Promise<ImportReport> {
  return namingFile(args.path, args.fileName ?? basename(args.path), () => importRows(args, ctx))
}

async function importRows(args: ImportTaskArgs, ctx: TaskContext): Promise<ImportReport> {
  const started = Date.now()
  const fileName = args.fileName ?? basename(args.path)
  const { info, rows } = await openDataset(args.path, {
    format: args.format,
    mapping: args.mapping,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress(done, total, 'bytes', `reading ${fileName}`),
  })

  const db = openDb(args.dataDir)
  const report: ImportReport = {
    datasetId: null, datasetName: args.name, file: fileName, format: info.format, shape: info.shape, mapping: info.mapping,
    rowsRead: 0, imported: 0, pairs: 0, sft: 0, rolledBack: false,
    badCount: 0, bad: [], duplicateCount: 0, duplicates: [], duplicatesSkipped: 0, durationMs: 0,
  }
  try {
    db.exec('BEGIN IMMEDIATE')
    const datasetId = resolveDataset(db, args, info)
    report.datasetId = datasetId
    const inserter = pairInserter(db, datasetId)
    const noteBad = (p: RowProblem) => {
      report.badCount++
      if (report.bad.length < MAX_LISTED) report.bad.push(p)
    }
    const noteDuplicate = (d: DuplicateRow) => {
      report.duplicateCount++
      if (report.duplicates.length < MAX_LISTED) report.duplicates.push(d)
    }

    for await (const item of rows) {
      if (ctx.signal.aborted) throw new ApiError('cancelled', 'import cancelled')
      report.rowsRead++
      if (item.problem) {
        noteBad(item.problem)
        continue
      }
      const row = item.row!
      const hash = contentHash(row)
      const firstSeen = inserter.findDuplicate(hash)
      if (firstSeen !== undefined) {
        noteDuplicate({ location: item.location, firstSeen: firstSeen ?? 'already in dataset' })
        if (args.dedupe) {
          report.duplicatesSkipped++
          continue
        }
      }
      // Once a row is bad without skipBad, nothing will be written: keep scanning only to report.
      if (report.badCount > 0 && !args.skipBad) continue
      inserter.insert(row, hash, item.location)
      report.imported++
      if (row.kind === 'pair') report.pairs++
      else report.sft++
    }
    if (ctx.signal.aborted) throw new ApiError('cancelled', 'import cancelled')

    if (report.badCount > 0 && !args.skipBad) {
      db.exec('ROLLBACK')
      report.rolledBack = true
      report.imported = report.pairs = report.sft = 0
      report.datasetId = args.append ? report.datasetId : null
    } else {
      touchDataset(db, datasetId)
      db.exec('COMMIT')
    }
    report.durationMs = Date.now() - started
    return report
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw error
  } finally {
    db.close()
  }
}

function resolveDataset(db: ReturnType<typeof openDb>, args: ImportTaskArgs, info: { format: SourceFormat; shape: ImportReport['shape']; mapping: Record<string, string> }): number {
  const existing = findDatasetByName(db, args.name)
  if (existing && !args.append) {
    throw new ApiError('conflict', `a dataset named "${existing.name}" exists already: choose another name or append to it`)
  }
  if (!existing && args.append) throw new ApiError('not_found', `no dataset named "${args.name}" to append to`)
  if (existing) return existing.id
  return createDataset(db, {
    name: args.name, sourceName: args.fileName ?? basename(args.path), sourceFormat: info.format, shape: info.shape, mapping: info.mapping,
  })
}
