import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'figa-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface SpaRecord {
  instruction: string
  input: string
  original_output: string
  revised_output: string
}

/** Deterministic SPA-shaped records (~`bytes` each) for imports of any size. */
export function spaRecords(count: number, bytes = 300, seed = 1): SpaRecord[] {
  const words = ['the', 'model', 'answer', 'token', 'revised', 'original', 'quality', 'signal', 'learning', 'rate', 'batch', 'weight', 'edit', 'loss', 'data', 'pair']
  let s = seed
  const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const sentence = (n: number) => Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(' ')
  const perText = Math.max(4, Math.floor(bytes / 3 / 6))
  return Array.from({ length: count }, (_, i) => {
    const original = sentence(perText)
    const parts = original.split(' ')
    parts[Math.floor(rand() * parts.length)] = 'better'
    return { instruction: `Question ${i}: ${sentence(6)}?`, input: i % 3 === 0 ? sentence(5) : '', original_output: original, revised_output: parts.join(' ') }
  })
}

export function toJsonl(records: object[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n'
}
