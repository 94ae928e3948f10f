// Pure helpers of the Models screen: number formatting, stop-string parsing and the checks that
// turn the Generate form into `generate.start` arguments (the same bounds as the contract, so the
// user sees a sentence next to the field rather than a schema error after clicking).
import type { ArgsOf } from '../../src-main/api/contract'
import type { GenerationResult, PromptTemplate } from '../../src-main/api/types'

export { formatBytes } from './import-fields'

/** 124_439_808 → "124.4M"; 1_100_048_384 → "1.10B"; 42_000 → "42.0K". */
export function formatParams(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—'
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`
  return String(n)
}

/** The last folder of a path, for a default model name. */
export function folderName(path: string): string {
  const parts = path.trim().split(/[\\/]+/).filter(Boolean)
  return parts[parts.length - 1] ?? ''
}

export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)
}

/**
 * Comma-separated stop strings. Spaces around an item are dropped and so are empty items. Escapes:
 * \n newline, \t tab, \s a space that is kept, \, a comma, \\ a backslash.
 */
export function parseStops(text: string): string[] {
  const items: string[] = []
  let current = ''
  let lead = true // spaces before any content of an item are dropped
  let trailingSpaces = 0 // unescaped spaces at the end of the current item, dropped at its end
  const push = () => {
    const item = current.slice(0, current.length - trailingSpaces)
    if (item.length) items.push(item)
    current = ''
    lead = true
    trailingSpaces = 0
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && i + 1 < text.length) {
      const n = text[++i]
      current += n === 'n' ? '\n' : n === 't' ? '\t' : n === 's' ? ' ' : n
      lead = false
      trailingSpaces = 0
    } else if (c === ',') {
      push()
    } else if (c === ' ') {
      if (!lead) {
        current += c
        trailingSpaces++
      }
    } else {
      current += c
      lead = false
      trailingSpaces = 0
    }
  }
  push()
  return items
}

/** The form of the Generate panel, as the inputs hold it (numbers may be null while a field is empty). */
export interface GenerateForm {
  prompt: string
  input: string
  system: string
  template: PromptTemplate
  maxNewTokens: number | null
  temperature: number | null
  topK: number | null
  topP: number | null
  repetitionPenalty: number | null
  /** null = a fresh random seed for every run */
  seed: number | null
  stops: string
}

export const DEFAULT_FORM: GenerateForm = {
  prompt: '',
  input: '',
  system: '',
  template: 'alpaca',
  maxNewTokens: 128,
  temperature: 0.7,
  topK: 0,
  topP: 0.95,
  repetitionPenalty: 1,
  seed: null,
  stops: '',
}

export type FieldErrors = Partial<Record<keyof GenerateForm, string>>

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/** Field → sentence for every value the contract would refuse. */
export function checkForm(f: GenerateForm): FieldErrors {
  const e: FieldErrors = {}
  if (f.prompt.trim() === '') e.prompt = 'Write a prompt.'
  else if (f.prompt.length > 1_000_000) e.prompt = 'The prompt is longer than 1,000,000 characters.'
  if (!isNum(f.maxNewTokens) || !Number.isInteger(f.maxNewTokens) || f.maxNewTokens < 1 || f.maxNewTokens > 4096) e.maxNewTokens = 'Max new tokens is a whole number from 1 to 4096.'
  if (!isNum(f.temperature) || f.temperature < 0 || f.temperature > 5) e.temperature = 'Temperature is from 0 (greedy) to 5.'
  if (!isNum(f.topK) || !Number.isInteger(f.topK) || f.topK < 0 || f.topK > 100_000) e.topK = 'Top-k is a whole number ≥ 0 (0 = off).'
  if (!isNum(f.topP) || f.topP <= 0 || f.topP > 1) e.topP = 'Top-p is above 0 and at most 1 (1 = off).'
  if (!isNum(f.repetitionPenalty) || f.repetitionPenalty < 1 || f.repetitionPenalty > 5) e.repetitionPenalty = 'Repetition penalty is from 1 (off) to 5.'
  if (f.seed !== null && (!isNum(f.seed) || !Number.isInteger(f.seed) || f.seed < 0 || f.seed > 2 ** 31 - 1)) e.seed = 'The seed is a whole number from 0 to 2147483647, or empty for a random one.'
  const stops = parseStops(f.stops)
  if (stops.length > 16) e.stops = 'At most 16 stop strings.'
  else if (stops.some((s) => s.length > 200)) e.stops = 'A stop string is longer than 200 characters.'
  return e
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31)
}

/** The arguments of generate.start; `seed` is the one this run uses (the form's, or a fresh random one). */
export function toArgs(f: GenerateForm, modelId: number, seed: number): ArgsOf<'generate.start'> {
  return {
    modelId,
    prompt: f.prompt,
    input: f.input,
    system: f.template !== 'raw' && f.system.trim() !== '' ? f.system : undefined,
    template: f.template,
    maxNewTokens: f.maxNewTokens!,
    temperature: f.temperature!,
    topK: f.topK!,
    topP: f.topP!,
    repetitionPenalty: f.repetitionPenalty!,
    seed,
    stop: parseStops(f.stops),
  }
}

export const FINISH_LABELS: Record<GenerationResult['finishReason'], string> = {
  eos: 'end of sequence',
  stop: 'stop string',
  length: 'token limit',
  aborted: 'aborted',
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}
