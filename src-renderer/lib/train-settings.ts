// The Advanced settings of a new run: a flat form of strings and switches made from a preset's
// TrainSettings, parsed back with the contract's bounds (so a bad value gets a sentence next to
// its field instead of a schema error after clicking Train), and the overrides to send: only the
// fields whose value differs from the preset's.
import type { TrainSettings } from '../../src-main/api/types'

export type Overrides = Partial<Omit<TrainSettings, 'method'>>

export interface SettingsForm {
  alpha: string
  beta: string
  gamma: string
  tauOn: boolean
  tau: string
  bandOn: boolean
  bandLo: string
  bandHi: string
  lr: string
  schedule: 'constant' | 'cosine'
  warmupSteps: string
  weightDecay: string
  clipNorm: string
  microBatch: string
  accumulation: string
  epochs: string
  /** Empty: no limit (the epochs decide). */
  maxSteps: string
  seed: string
  maxLength: string
  heldOut: string
  evalEvery: string
  checkpointEvery: string
  loraOn: boolean
  loraRank: string
  loraAlpha: string
  /** Comma-separated module names. */
  loraTargets: string
  sharedPrefix: boolean
  sparseHead: boolean
  bucketing: boolean
}

export type FormKey = keyof SettingsForm
export type FormErrors = Partial<Record<FormKey, string>>

/** Values shown for switched-off optional settings, so that switching them on starts somewhere sensible. */
const OFF_DEFAULTS = { tau: 0.6, band: [0.6, 1.0] as [number, number], lora: { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] } }

const str = (n: number) => String(n)

export function formFromSettings(s: TrainSettings): SettingsForm {
  const band = s.tauBand ?? OFF_DEFAULTS.band
  const lora = s.lora ?? OFF_DEFAULTS.lora
  return {
    alpha: str(s.alpha), beta: str(s.beta), gamma: str(s.gamma),
    tauOn: s.tau !== null, tau: str(s.tau ?? OFF_DEFAULTS.tau),
    bandOn: s.tauBand !== null, bandLo: str(band[0]), bandHi: str(band[1]),
    lr: str(s.lr), schedule: s.schedule, warmupSteps: str(s.warmupSteps), weightDecay: str(s.weightDecay), clipNorm: str(s.clipNorm),
    microBatch: str(s.microBatch), accumulation: str(s.accumulation), epochs: str(s.epochs),
    maxSteps: s.maxSteps === null ? '' : str(s.maxSteps), seed: str(s.seed), maxLength: str(s.maxLength), heldOut: str(s.heldOut),
    evalEvery: str(s.evalEvery), checkpointEvery: str(s.checkpointEvery),
    loraOn: s.lora !== null, loraRank: str(lora.rank), loraAlpha: str(lora.alpha), loraTargets: lora.targets.join(', '),
    sharedPrefix: s.efficiency.sharedPrefix, sparseHead: s.efficiency.sparseHead, bucketing: s.efficiency.bucketing,
  }
}

interface NumRule {
  int?: boolean
  min?: number
  /** Strictly greater than. */
  above?: number
  max?: number
}

// The same bounds as the contract's trainSettingsOverrides.
export const RULES: Partial<Record<FormKey, NumRule>> = {
  alpha: { min: -100, max: 100 }, beta: { min: -100, max: 100 }, gamma: { min: -100, max: 100 },
  tau: { min: 0, max: 100 }, bandLo: { min: 0 }, bandHi: { min: 0 },
  lr: { above: 0, max: 1 }, warmupSteps: { int: true, min: 0 }, weightDecay: { min: 0, max: 1 }, clipNorm: { min: 0 },
  microBatch: { int: true, min: 1, max: 256 }, accumulation: { int: true, min: 1, max: 4096 }, epochs: { above: 0, max: 1000 },
  maxSteps: { int: true, min: 1 }, seed: { int: true, min: 0, max: 2 ** 31 - 1 }, maxLength: { int: true, min: 8, max: 32768 },
  heldOut: { min: 0, max: 0.5 }, evalEvery: { int: true, min: 1 }, checkpointEvery: { int: true, min: 1 },
  loraRank: { int: true, min: 1, max: 1024 }, loraAlpha: { above: 0 },
}

/** Parses one numeric field; returns the number or an error sentence. */
export function parseNumber(text: string, rule: NumRule = {}): number | string {
  const t = text.trim()
  if (t === '') return 'required'
  const n = Number(t)
  if (!Number.isFinite(n)) return 'not a number'
  if (rule.int && !Number.isInteger(n)) return 'a whole number'
  if (rule.above !== undefined && !(n > rule.above)) return `must be above ${rule.above}`
  if (rule.min !== undefined && n < rule.min) return `at least ${rule.min}`
  if (rule.max !== undefined && n > rule.max) return `at most ${rule.max.toLocaleString('en-US')}`
  return n
}

export function parseTargets(text: string): string[] {
  return text.split(/[,\s]+/).map((t) => t.trim()).filter(Boolean)
}

/** The settings a form describes (method taken from `base`), or the errors per field. */
export function settingsFromForm(form: SettingsForm, base: TrainSettings): { settings: TrainSettings | null; errors: FormErrors } {
  const errors: FormErrors = {}
  const num = (key: FormKey): number => {
    const v = parseNumber(form[key] as string, RULES[key])
    if (typeof v === 'string') {
      errors[key] = v
      return NaN
    }
    return v
  }
  const maxSteps = form.maxSteps.trim() === '' ? null : num('maxSteps')
  const tau = form.tauOn ? num('tau') : null
  let tauBand: [number, number] | null = null
  if (form.bandOn) {
    tauBand = [num('bandLo'), num('bandHi')]
    if (!errors.bandLo && !errors.bandHi && tauBand[0] > tauBand[1]) errors.bandHi = 'must not be below the low end'
  }
  let lora: TrainSettings['lora'] = null
  if (form.loraOn) {
    const targets = parseTargets(form.loraTargets)
    if (targets.length === 0) errors.loraTargets = 'name at least one module (e.g. q_proj, v_proj)'
    else if (targets.some((t) => t.length > 64)) errors.loraTargets = 'a module name is longer than 64 characters'
    lora = { rank: num('loraRank'), alpha: num('loraAlpha'), targets }
  }
  const settings: TrainSettings = {
    method: base.method,
    alpha: num('alpha'), beta: num('beta'), gamma: num('gamma'), tau, tauBand,
    lr: num('lr'), schedule: form.schedule, warmupSteps: num('warmupSteps'), weightDecay: num('weightDecay'), clipNorm: num('clipNorm'),
    microBatch: num('microBatch'), accumulation: num('accumulation'), epochs: num('epochs'), maxSteps, seed: num('seed'),
    maxLength: num('maxLength'), heldOut: num('heldOut'), evalEvery: num('evalEvery'), checkpointEvery: num('checkpointEvery'),
    lora, efficiency: { sharedPrefix: form.sharedPrefix, sparseHead: form.sparseHead, bucketing: form.bucketing },
  }
  return Object.keys(errors).length ? { settings: null, errors } : { settings, errors }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)

/** The fields of `next` that differ from `base` (method excluded: it travels on its own). */
export function diffSettings(base: TrainSettings, next: TrainSettings): Overrides {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(next) as Array<keyof TrainSettings>) {
    if (key === 'method') continue
    if (!same(base[key], next[key])) out[key] = next[key]
  }
  return out as Overrides
}

/**
 * A new preset's form that keeps what the user changed: the fields where `form` differs from
 * the form of the previous preset are carried over onto the new one.
 */
export function carryEdits(form: SettingsForm, previous: TrainSettings | null, next: TrainSettings): SettingsForm {
  const fresh = formFromSettings(next)
  if (!previous) return fresh
  const old = formFromSettings(previous)
  const out = { ...fresh } as Record<FormKey, unknown>
  for (const key of Object.keys(form) as FormKey[]) if (form[key] !== old[key]) out[key] = form[key]
  return out as unknown as SettingsForm
}

/** The form fields that differ from a preset (to mark them as changed). */
export function changedKeys(form: SettingsForm, base: TrainSettings): Set<FormKey> {
  const ref = formFromSettings(base)
  const keys = new Set<FormKey>()
  for (const key of Object.keys(form) as FormKey[]) {
    if (form[key] === ref[key]) continue
    // A value written differently but equal as a number (1e-5 vs 0.00001) is not a change.
    const a = Number(form[key])
    if (typeof form[key] === 'string' && (form[key] as string).trim() !== '' && Number.isFinite(a) && a === Number(ref[key])) continue
    keys.add(key)
  }
  return keys
}

/** One line summarising a run's settings for the dashboard. */
export function settingsSummary(s: TrainSettings): string {
  const parts = [
    `lr ${s.lr} ${s.schedule}${s.warmupSteps ? ` (warmup ${s.warmupSteps})` : ''}`,
    `batch ${s.microBatch}×${s.accumulation}`,
    `${s.epochs} epoch${s.epochs === 1 ? '' : 's'}${s.maxSteps !== null ? `, max ${s.maxSteps} steps` : ''}`,
    `len ${s.maxLength}`,
  ]
  if (s.method === 'figa') {
    const filter = s.tauBand ? `band ${s.tauBand[0]}–${s.tauBand[1]}` : s.tau !== null ? `τ ${s.tau}` : 'no τ'
    parts.unshift(`α ${s.alpha} β ${s.beta} γ ${s.gamma} · ${filter}`)
  }
  if (s.lora) parts.push(`LoRA r${s.lora.rank} α${s.lora.alpha}`)
  return parts.join(' · ')
}
