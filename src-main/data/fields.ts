// Reading typed fields out of a source record. A bad field throws RowError, which the
// normaliser turns into a RowProblem for that record (the import goes on).

export class RowError extends Error {
  constructor(public field: string | undefined, reason: string) {
    super(reason)
    this.name = 'RowError'
  }
}

export type SourceObject = Record<string, unknown>

/** 'string', 'number', 'array', 'null', 'object', ... for messages like "got number". */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

export function isPlainObject(value: unknown): value is SourceObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Absent, null and '' all mean "no value": CSV has no null, and an empty cell is how it says so. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === ''
}

/** A string that must be present and not just whitespace. */
export function requiredText(record: SourceObject, field: string): string {
  const value = record[field]
  if (value === undefined || value === null) throw new RowError(field, `${field} is missing`)
  if (typeof value !== 'string') throw new RowError(field, `${field}: expected a string, got ${typeName(value)}`)
  return nonEmpty(value, field)
}

/** A string that may be absent; absent, null and '' give null. */
export function optionalText(record: SourceObject, field: string): string | null {
  const value = record[field]
  if (isBlank(value)) return null
  if (typeof value !== 'string') throw new RowError(field, `${field}: expected a string, got ${typeName(value)}`)
  return value
}

export function nonEmpty(text: string, field: string, what = field): string {
  if (text.trim() === '') throw new RowError(field, `${what} is empty`)
  return text
}
