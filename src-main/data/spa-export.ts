import type { NormalizedRow } from './types'

/**
 * The record written on export, in the released SPA field names. Optional keys are written only
 * when set, and the SPA reader maps each back, so importing these records gives the same rows.
 */
export function toSpaRecord(row: NormalizedRow): Record<string, unknown> {
  const record: Record<string, unknown> = { instruction: row.instruction, input: row.input }
  if (row.kind === 'pair') {
    record.original_output = row.original
    record.revised_output = row.revised
    if (row.reference !== null) record.output = row.reference
  } else {
    record.output = row.revised
  }
  if (row.system !== null) record.system = row.system
  if (row.history !== null) record.history = row.history.map((m) => ({ role: m.role, content: m.content }))
  return record
}
