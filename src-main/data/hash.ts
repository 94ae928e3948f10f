import { createHash } from 'node:crypto'
import type { NormalizedRow } from './types'

/**
 * sha256 (hex) of the row's fields as JSON with keys in alphabetical order at every level, so
 * equal rows hash equally however they were built (dedup across imports).
 */
export function contentHash(row: NormalizedRow): string {
  const canonical = {
    history: row.history?.map((m) => ({ content: m.content, role: m.role })) ?? null,
    input: row.input,
    instruction: row.instruction,
    kind: row.kind,
    original: row.original,
    reference: row.reference,
    revised: row.revised,
    system: row.system,
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex')
}
