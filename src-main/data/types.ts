// Types shared by the dataset reading layer and its consumers (the import job, the export).

export type SourceFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet'
export type Shape = 'spa' | 'preference' | 'hh' | 'alpaca' | 'sharegpt'

export interface Message { role: 'system' | 'user' | 'assistant'; content: string }

export interface NormalizedRow {
  kind: 'pair' | 'sft'        // sft rows have original === null
  system: string | null
  instruction: string         // the (last) user turn / instruction; non-empty
  input: string               // Alpaca input, '' when none
  history: Message[] | null   // earlier turns for multi-turn sources, else null
  original: string | null     // y, the subpar response
  revised: string             // ŷ, the revised response (or the SFT target); non-empty
  reference: string | null    // SPA `output` when present
}

/** A record that could not be turned into a row. `index` is the 0-based record number. */
export interface RowProblem { index: number; location: string; field?: string; reason: string }

export interface ReadOptions {
  /** Overrides format detection. */
  format?: SourceFormat
  /** canonical field → source column, applied before shape detection. */
  mapping?: Record<string, string>
  signal?: AbortSignal
  onProgress?: (bytesRead: number, totalBytes: number) => void
}

export interface SourceInfo {
  format: SourceFormat
  shape: Shape
  /** Effective canonical field → source column, for the fields the shape uses and the file has. */
  mapping: Record<string, string>
  /** Source column names seen in the sampled records, in first-seen order. */
  columns: string[]
  totalBytes: number
}

/**
 * One record as a reader produced it, before normalisation: either the source object or the
 * reason it could not be read (invalid JSON line, wrong CSV field count, ...).
 * `index` is the 0-based record number; `location` is what a user can find in the file
 * ("line 12", "item 3", "row 7").
 */
export interface SourceRecord {
  index: number
  location: string
  value?: Record<string, unknown>
  problem?: RowProblem
}

/** One element of `openDataset(...).rows`: exactly one of `row` and `problem` is set. */
export interface DatasetRow {
  index: number
  location: string
  row?: NormalizedRow
  problem?: RowProblem
}

export interface PreviewRow {
  location: string
  row?: NormalizedRow
  problem?: RowProblem
  /** The source record as read (before the mapping); {} when it could not be read. */
  raw: Record<string, unknown>
}
