// Shape detection from the first records' keys, and the column mapping applied before it.

import { FileFormatError } from './errors'
import type { SourceObject } from './fields'
import { asMessageList } from './messages'
import type { Shape } from './types'

export const CANONICAL_FIELDS = [
  'instruction', 'input', 'original_output', 'revised_output', 'output', 'system', 'history',
  'prompt', 'chosen', 'rejected', 'conversations', 'messages',
] as const
export type CanonicalField = (typeof CANONICAL_FIELDS)[number]

/** The canonical fields each shape reads (drives the effective mapping shown to the user). */
export const SHAPE_FIELDS: Record<Shape, CanonicalField[]> = {
  spa: ['instruction', 'input', 'original_output', 'revised_output', 'output', 'system', 'history'],
  preference: ['prompt', 'chosen', 'rejected', 'system'],
  hh: ['chosen', 'rejected'],
  alpaca: ['instruction', 'input', 'output', 'system', 'history'],
  sharegpt: ['conversations', 'messages', 'system'],
}

const EXPECTED_SHAPES = [
  'SPA pairs (instruction, input, original_output, revised_output[, output])',
  'preference pairs (prompt, chosen, rejected; chosen/rejected as text or {role, content} message lists)',
  'Anthropic-HH (chosen, rejected as "\\n\\nHuman: ... \\n\\nAssistant: ..." transcripts)',
  'Alpaca SFT (instruction, input, output)',
  'ShareGPT SFT (conversations or messages)',
]

/** Throws unless every key is a canonical field and every value a non-empty column name. */
export function validateMapping(mapping: Record<string, string>): void {
  for (const [field, column] of Object.entries(mapping)) {
    if (!(CANONICAL_FIELDS as readonly string[]).includes(field)) {
      throw new RangeError(`cannot map to "${field}": the fields are ${CANONICAL_FIELDS.join(', ')}`)
    }
    if (typeof column !== 'string' || column === '') throw new RangeError(`the mapping for "${field}" must name a source column`)
  }
}

/** Renames source columns to canonical fields (mapping: canonical → source). Unmapped columns stay. */
export function applyMapping(record: SourceObject, mapping: Record<string, string>): SourceObject {
  const entries = Object.entries(mapping)
  if (entries.length === 0) return record
  const sources = new Set(Object.values(mapping))
  const mapped: SourceObject = {}
  for (const [key, value] of Object.entries(record)) if (!sources.has(key)) mapped[key] = value
  for (const [field, column] of entries) if (column in record) mapped[field] = record[column]
  return mapped
}

/** Decides the shape from the (mapped) sample records; null when nothing fits. */
export function detectShape(records: SourceObject[]): Shape | null {
  const keys = new Set(records.flatMap((record) => Object.keys(record)))
  if (keys.has('original_output') || keys.has('revised_output')) return 'spa'
  if (keys.has('chosen') && keys.has('rejected')) {
    if (keys.has('prompt') || records.some((r) => asMessageList(r.chosen))) return 'preference'
    if (records.some((r) => typeof r.chosen === 'string' && r.chosen.includes('Assistant:'))) return 'hh'
    return null
  }
  if (keys.has('conversations') || keys.has('messages')) return 'sharegpt'
  if (keys.has('instruction') && keys.has('output')) return 'alpaca'
  return null
}

/** canonical → source column for the fields `shape` reads that the file has. */
export function effectiveMapping(shape: Shape, mapping: Record<string, string>, columns: string[]): Record<string, string> {
  const sources = new Set(Object.values(mapping))
  const effective: Record<string, string> = {}
  for (const field of SHAPE_FIELDS[shape]) {
    const mapped = mapping[field]
    // An unmapped field whose column was mapped to another field no longer exists under its name.
    if (mapped !== undefined ? columns.includes(mapped) : columns.includes(field) && !sources.has(field)) {
      effective[field] = mapped ?? field
    }
  }
  return effective
}

export function unknownShapeError(file: string, columns: string[]): FileFormatError {
  return new FileFormatError(
    `cannot tell what kind of dataset this is. Columns found: ${columns.join(', ') || '(none)'}. ` +
      `Expected one of: ${EXPECTED_SHAPES.join('; ')}. ` +
      'If your columns have other names, map them (e.g. --map revised_output=good_answer).',
    file,
  )
}

/** CLI form → mapping: ["revised_output=good_answer", ...] → { revised_output: "good_answer" }. */
export function parseMappingArgs(args: string[]): Record<string, string> {
  const mapping: Record<string, string> = {}
  for (const arg of args) {
    const split = arg.indexOf('=')
    if (split <= 0) throw new RangeError(`expected field=column, got "${arg}"`)
    mapping[arg.slice(0, split).trim()] = arg.slice(split + 1).trim()
  }
  validateMapping(mapping)
  return mapping
}
