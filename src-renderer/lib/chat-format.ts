// Pure helpers of the Chat screen: the sampling form (the contract's bounds, checked next to
// the fields), safe display of model text, win-rate and evaluation number formatting, and the
// names a new dataset may take. No I/O, no DOM (unit-tested in test/unit/renderer/chat-format.test.ts).
import type { PromptTemplate, SamplingSettings } from '../../src-main/api/types'
import { parseStops } from './models-format'

export type Side = 'left' | 'right'

/** The sampling settings as the inputs hold them (a number is null while its field is empty). */
export interface SamplingForm {
  maxNewTokens: number | null
  temperature: number | null
  topK: number | null
  topP: number | null
  repetitionPenalty: number | null
  /** null = a new random seed for every answer */
  seed: number | null
  stops: string
}

export const DEFAULT_SAMPLING: Readonly<SamplingForm> = Object.freeze({
  maxNewTokens: 128,
  temperature: 0.7,
  topK: 0,
  topP: 0.95,
  repetitionPenalty: 1,
  seed: null,
  stops: '',
})

export type SamplingErrors = Partial<Record<keyof SamplingForm, string>>

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
const isInt = (v: unknown): v is number => isNum(v) && Number.isInteger(v)

/** Field → sentence for every value chat.send would refuse. */
export function checkSampling(f: SamplingForm): SamplingErrors {
  const e: SamplingErrors = {}
  if (!isInt(f.maxNewTokens) || f.maxNewTokens < 1 || f.maxNewTokens > 4096) e.maxNewTokens = 'Max new tokens is a whole number from 1 to 4096.'
  if (!isNum(f.temperature) || f.temperature < 0 || f.temperature > 5) e.temperature = 'Temperature is from 0 (greedy) to 5.'
  if (!isInt(f.topK) || f.topK < 0 || f.topK > 100_000) e.topK = 'Top-k is a whole number ≥ 0 (0 = off).'
  if (!isNum(f.topP) || f.topP <= 0 || f.topP > 1) e.topP = 'Top-p is above 0 and at most 1 (1 = off).'
  if (!isNum(f.repetitionPenalty) || f.repetitionPenalty < 1 || f.repetitionPenalty > 5) e.repetitionPenalty = 'Repetition penalty is from 1 (off) to 5.'
  if (f.seed !== null && (!isInt(f.seed) || f.seed < 0 || f.seed > 2 ** 31 - 1)) e.seed = 'The seed is a whole number from 0 to 2147483647, or empty for a random one.'
  const stops = parseStops(f.stops)
  if (stops.length > 16) e.stops = 'At most 16 stop strings.'
  else if (stops.some((s) => s.length > 200)) e.stops = 'A stop string is longer than 200 characters.'
  return e
}

/** chat.send's settings from a valid form (check it with checkSampling first). */
export function toSampling(f: SamplingForm): SamplingSettings {
  const s: SamplingSettings = {
    maxNewTokens: f.maxNewTokens!,
    temperature: f.temperature!,
    topK: f.topK!,
    topP: f.topP!,
    repetitionPenalty: f.repetitionPenalty!,
    stop: parseStops(f.stops),
  }
  if (f.seed !== null) s.seed = f.seed
  return s
}

/** One line for a collapsed settings panel: "128 tokens · T 0.7 · top-p 0.95". */
export function samplingSummary(f: SamplingForm): string {
  const parts = [`${f.maxNewTokens ?? '?'} tokens`, f.temperature === 0 ? 'greedy' : `T ${f.temperature ?? '?'}`]
  if (f.temperature !== 0) {
    if (f.topK) parts.push(`top-k ${f.topK}`)
    if (f.topP !== null && f.topP < 1) parts.push(`top-p ${f.topP}`)
  }
  if (f.repetitionPenalty !== null && f.repetitionPenalty !== 1) parts.push(`rep ${f.repetitionPenalty}`)
  if (f.seed !== null) parts.push(`seed ${f.seed}`)
  const stops = parseStops(f.stops).length
  if (stops) parts.push(`${stops} stop${stops === 1 ? '' : 's'}`)
  return parts.join(' · ')
}

/** Restores a saved form, keeping only fields of the right type (a damaged entry gives the defaults). */
export function parseSampling(raw: unknown): SamplingForm {
  const form: SamplingForm = { ...DEFAULT_SAMPLING }
  if (!raw || typeof raw !== 'object') return form
  const o = raw as Record<string, unknown>
  for (const k of Object.keys(DEFAULT_SAMPLING) as Array<keyof SamplingForm>) {
    const v = o[k]
    const fits = k === 'seed' ? v === null || isInt(v) : k === 'stops' ? typeof v === 'string' : isNum(v)
    if (fits) (form as unknown as Record<string, unknown>)[k] = v
  }
  return form
}

// ── Model text, shown safely ─────────────────────────────────────────────────────────────

// Control characters (except tab and newline), C1 controls and the bidirectional controls that
// could reorder the rest of the page's text. A model with random weights writes plenty of them.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

/** Model text for display: invisible and reordering characters made visible as escapes. */
export function displayText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** The label of a side: its model, or "Answer 1/2" while a blind turn is not voted on. */
export function sideLabel(side: Side, modelName: string | null): string {
  return modelName ?? (side === 'left' ? 'Answer 1' : 'Answer 2')
}

export function voteLabel(vote: 'left' | 'right' | 'tie', left: string, right: string): string {
  return vote === 'tie' ? 'Tie' : `${vote === 'left' ? left : right} is better`
}

// ── Win rates ────────────────────────────────────────────────────────────────────────────

/** 0.6234 → "62%". */
export function percent(x: number): string {
  if (!Number.isFinite(x)) return '—'
  return `${Math.round(x * 100)}%`
}

/** A rate with its 95% interval: "62% [48–74%]". */
export function rateWithInterval(rate: number, low: number, high: number): string {
  if (![rate, low, high].every(Number.isFinite)) return '—'
  return `${percent(rate)} [${Math.round(low * 100)}–${Math.round(high * 100)}%]`
}

// ── Evaluation numbers ───────────────────────────────────────────────────────────────────

/** A signed margin in nats per token: "+0.123", "−0.045". */
export function formatMargin(x: number): string {
  if (!Number.isFinite(x)) return '—'
  const a = Math.abs(x)
  const s = a !== 0 && a < 0.001 ? a.toExponential(1) : a.toFixed(3)
  return `${x < 0 ? '−' : x > 0 ? '+' : ''}${s}`
}

/** A perplexity: 3 significant digits below 10 000, exponent notation above. */
export function formatPerplexity(x: number): string {
  if (!Number.isFinite(x)) return x === Infinity ? '∞' : '—'
  if (x >= 10_000) return x.toExponential(2).replace('e+', 'e')
  if (x >= 100) return x.toFixed(1)
  return x.toPrecision(3)
}

export function formatTokens(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : x.toFixed(1)
}

/** Which of two values is better (for highlighting), or null when they tie or cannot compare. */
export function better(a: number | null, b: number | null, higherIsBetter: boolean): 'a' | 'b' | null {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b) || a === b) return null
  return (a > b) === higherIsBetter ? 'a' : 'b'
}

// ── Names ────────────────────────────────────────────────────────────────────────────────

/** Why a dataset name would be refused (the contract's rules), or null when it is fine. */
export function datasetNameProblem(name: string): string | null {
  const n = name.trim()
  if (n === '') return 'Give the new dataset a name.'
  if (n.length > 120) return 'The name is longer than 120 characters.'
  if (/[\u0000-\u001f/\\]/.test(n)) return 'The name may not contain slashes or control characters.'
  return null
}

/** Templates both models of a conversation can use (the chat template needs one in each). */
export function templatesFor(models: Array<{ hasChatTemplate: boolean } | null | undefined>): PromptTemplate[] {
  const chosen = models.filter((m): m is { hasChatTemplate: boolean } => !!m)
  return chosen.length > 0 && chosen.every((m) => m.hasChatTemplate) ? ['alpaca', 'chat', 'raw'] : ['alpaca', 'raw']
}

export const TEMPLATE_LABELS: Record<PromptTemplate, { label: string; title: string }> = {
  alpaca: { label: 'Alpaca (FIGA’s)', title: 'The Alpaca prompt FIGA trains with: ### Instruction / ### Response' },
  chat: { label: 'Chat', title: "Each model's own chat template (tokenizer_config.json)" },
  raw: { label: 'Raw', title: 'The conversation as typed, no template' },
}

/** "3 min ago", "yesterday", or a date, for list items. */
export function relativeTime(iso: string, now = Date.now()): string {
  const t = Date.parse(iso.includes('T') || iso.endsWith('Z') ? iso : `${iso.replace(' ', 'T')}Z`)
  if (Number.isNaN(t)) return iso
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 45) return 'just now'
  const m = Math.round(s / 60)
  if (m < 60) return `${m} min ago`
  const h = Math.round(m / 60)
  if (h < 24) return `${h} h ago`
  const d = Math.round(h / 24)
  if (d === 1) return 'yesterday'
  if (d < 7) return `${d} days ago`
  return new Date(t).toLocaleDateString()
}
