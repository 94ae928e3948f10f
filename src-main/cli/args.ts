// Option parsers shared by the commands: each names what it expected.
import { InvalidArgumentError } from 'commander'

export function parseNumber(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`)
  return n
}

export function parseWhole(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`)
  return Number(value)
}

export function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected a whole number, got "${value}"`)
  return Number(value)
}

export function parsePort(value: string): number {
  const n = parseWhole(value)
  if (n > 65535) throw new InvalidArgumentError(`port must be 0–65535, got ${n}`)
  return n
}

export function parseIds(value: string): number[] {
  if (!/^\d+(,\d+)*$/.test(value)) throw new InvalidArgumentError(`expected comma-separated token ids such as 5,17,300, got "${value}"`)
  return value.split(',').map(Number)
}

/** `field=column` pairs of --map, collected into one object. */
export function collectMapping(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=')
  if (eq <= 0 || eq === value.length - 1) throw new InvalidArgumentError(`expected field=column, got "${value}"`)
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) }
}

/** A JSON object given on the command line (validated further by the contract). */
export function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new InvalidArgumentError(`not valid JSON: ${value}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`expected a JSON object, got ${value}`)
  return parsed as Record<string, unknown>
}
