import type { Shape } from '../../src-main/api/types'

/** The canonical fields each shape reads, in the order the mapping editor shows them. */
export const SHAPE_FIELDS: Record<Shape, string[]> = {
  spa: ['instruction', 'input', 'original_output', 'revised_output', 'output', 'system', 'history'],
  preference: ['prompt', 'chosen', 'rejected', 'system'],
  hh: ['chosen', 'rejected'],
  alpaca: ['instruction', 'input', 'output', 'system'],
  sharegpt: ['conversations', 'messages'],
}

export const SHAPE_LABELS: Record<Shape, string> = {
  spa: 'SPA pairs (instruction, original_output, revised_output)',
  preference: 'Preference pairs (prompt, chosen → revised, rejected → original)',
  hh: 'Anthropic-HH transcripts (chosen → revised, rejected → original)',
  alpaca: 'Alpaca SFT rows (no pair: SFT only)',
  sharegpt: 'ShareGPT conversations (no pair: SFT only)',
}

export function defaultDatasetName(fileName: string): string {
  return fileName.replace(/\.(jsonl|ndjson|json|csv|tsv|parquet)$/i, '').slice(0, 120) || 'dataset'
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}
