// Plain data types that cross the contract (renderer ⇄ services). No runtime code here:
// the renderer imports these as types only.
import type { Message, NormalizedRow, RowProblem, Shape, SourceFormat } from '../data/types'

export type { Message, NormalizedRow, RowProblem, Shape, SourceFormat }

export interface AppInfo {
  name: string
  version: string
  dataDir: string
  host: 'electron' | 'web' | 'cli'
  node: string
}

/** A file the user handed to the app (dialog, drop, upload or CLI path), known by an opaque id. */
export interface FileRef {
  fileId: string
  name: string
  size: number
}

export interface DatasetSummary {
  id: number
  name: string
  createdAt: string
  updatedAt: string
  sourceName: string | null
  sourceFormat: SourceFormat | null
  shape: Shape | null
  pairCount: number
  sftCount: number
}

export interface PairRow extends NormalizedRow {
  id: number
  datasetId: number
  position: number
  sourceLocation: string | null
  contentHash: string
  editedAt: string | null
}

export interface PairPage {
  total: number
  offset: number
  rows: PairRow[]
}

export interface ImportPreview {
  file: FileRef
  format: SourceFormat
  shape: Shape
  columns: string[]
  /** Effective mapping canonical field → source column. */
  mapping: Record<string, string>
  rows: Array<{ location: string; row?: NormalizedRow; problem?: RowProblem; raw: Record<string, unknown> }>
}

export interface DuplicateRow {
  location: string
  /** Where the same content was seen first: a location in this file, or "already in dataset". */
  firstSeen: string
}

export interface ImportReport {
  datasetId: number | null
  datasetName: string
  file: string
  format: SourceFormat
  shape: Shape
  mapping: Record<string, string>
  rowsRead: number
  imported: number
  pairs: number
  sft: number
  /** True when nothing was written (bad rows without skipBad). */
  rolledBack: boolean
  badCount: number
  /** The first bad rows (capped at 10 000; badCount has the total). */
  bad: RowProblem[]
  duplicateCount: number
  duplicates: DuplicateRow[]
  /** Duplicates that were dropped because `dedupe` was asked for. */
  duplicatesSkipped: number
  durationMs: number
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled'

export interface JobInfo {
  jobId: string
  method: string
  label: string
  state: JobState
  startedAt: string
  progress: JobProgress | null
}

export interface JobProgress {
  jobId: string
  /** Units done and total (bytes for imports); total 0 when unknown. */
  done: number
  total: number
  unit: string
  message: string
}

export interface JobFinished {
  jobId: string
  state: Exclude<JobState, 'running'>
  result?: unknown
  error?: ApiErrorData
}

export type ApiErrorCode = 'invalid_argument' | 'not_found' | 'conflict' | 'failed' | 'cancelled' | 'unauthorized'

export interface ApiErrorData {
  code: ApiErrorCode
  message: string
  details?: unknown
}

/** Events pushed from services to every connected UI. */
export interface EventMap {
  'job.progress': JobProgress
  'job.finished': JobFinished
  'datasets.changed': { datasetId: number | null }
}
export type EventName = keyof EventMap
