// Pure formatting helpers of the Train screen: durations (ETA), metric numbers and the lines of
// the run log built from 'run.progress' events.
import type { EvalMetrics, RunProgress, RunState, StepMetrics } from '../../src-main/api/types'

/** 192_000 → "3m 12s"; 4_000 → "4s"; 3_900_000 → "1h 05m"; 190_000_000 → "2d 4h"; < 1 s → "<1s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—'
  const s = Math.round(ms / 1000)
  if (s < 1) return '<1s'
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`
  return `${Math.floor(h / 24)}d ${h % 24}h`
}

/** A metric value for legends, tables and the log: 4 significant digits, exponent for tiny or huge values. */
export function formatMetric(v: number | null | undefined): string {
  if (v == null || Number.isNaN(v)) return '—'
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a < 1e-3 || a >= 1e6) return v.toExponential(2)
  if (a >= 1000) return Math.round(v).toLocaleString('en-US')
  return Number(v.toPrecision(4)).toString()
}

/** Learning rates read best as 1e-5, 3.0e-4. */
export function formatLr(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '—'
  if (v === 0) return '0'
  const [mantissa, exp] = v.toExponential(1).split('e')
  const m = mantissa.endsWith('.0') ? mantissa.slice(0, -2) : mantissa
  return `${m}e${exp.replace('+', '')}`
}

/** Throughput: 1234.5 → "1,235"; 12.34 → "12.3"; 0.5 → "0.50". */
export function formatRate(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '—'
  if (v >= 100) return Math.round(v).toLocaleString('en-US')
  if (v >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

export function formatStep(step: number, total: number | null): string {
  return total ? `${step.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}` : step.toLocaleString('en-US')
}

/** "2024-05-01T10:00:00.000Z" → a short local date-time ("10:00:12" today, else "May 1, 10:00"). */
export function formatWhen(iso: string, now = new Date()): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const sameDay = d.toDateString() === now.toDateString()
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
}

// ── The run log ──────────────────────────────────────────────────────────────────────────

export type LogKind = 'step' | 'eval' | 'checkpoint' | 'state' | 'message' | 'error'

export interface LogLine {
  /** Unique within a run's log (for keyed lists). */
  seq: number
  /** Clock time "HH:MM:SS", or '' for lines rebuilt from recorded history. */
  time: string
  kind: LogKind
  text: string
}

export const LOG_LIMIT = 200

export function clock(d = new Date()): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

export function stepLine(m: StepMetrics): string {
  return (
    `step ${formatStep(m.step, m.totalSteps)}  loss ${formatMetric(m.loss)} (+${formatMetric(m.lossPositive)} −${formatMetric(m.lossNegative)})` +
    `  lr ${formatLr(m.lr)}  |g| ${formatMetric(m.gradNorm)}  ${formatRate(m.tokensPerSec)} tok/s  ${formatRate(m.pairsPerSec)} pairs/s`
  )
}

export function evalLine(m: EvalMetrics): string {
  return `eval @ step ${m.step}  margin/token ${formatMetric(m.marginPerToken)}  ppl ŷ ${formatMetric(m.pplRevised)}  ppl y ${formatMetric(m.pplOriginal)}  (${m.pairs} held-out pairs)`
}

export function checkpointLine(step: number, dir: string): string {
  return `checkpoint @ step ${step} → ${dir}`
}

/**
 * The log lines one progress event adds, given the run's last known state (null: unknown).
 * A state change gives a 'state' line; a failure's message is an 'error' line.
 */
export function linesOf(p: RunProgress, previousState: RunState | null): Array<{ kind: LogKind; text: string }> {
  const out: Array<{ kind: LogKind; text: string }> = []
  if (previousState !== null && previousState !== p.state) out.push({ kind: 'state', text: `state: ${previousState} → ${p.state}` })
  else if (previousState === null && p.state !== 'running') out.push({ kind: 'state', text: `state: ${p.state}` })
  if (p.message) out.push({ kind: p.state === 'failed' ? 'error' : 'message', text: p.message })
  if (p.train) out.push({ kind: 'step', text: stepLine(p.train) })
  if (p.eval) out.push({ kind: 'eval', text: evalLine(p.eval) })
  if (p.checkpoint) out.push({ kind: 'checkpoint', text: checkpointLine(p.step, p.checkpoint) })
  return out
}

/** Log lines rebuilt from recorded metrics (a run opened after its events went by): the last `limit`, by step. */
export function historyLines(train: StepMetrics[], evals: EvalMetrics[], limit = LOG_LIMIT): Array<{ kind: LogKind; text: string }> {
  const merged: Array<{ step: number; order: number; kind: LogKind; text: string }> = []
  // Only the tail can show: format only what may be kept.
  for (const m of train.slice(-limit)) merged.push({ step: m.step, order: 0, kind: 'step', text: stepLine(m) })
  for (const m of evals.slice(-limit)) merged.push({ step: m.step, order: 1, kind: 'eval', text: evalLine(m) })
  merged.sort((a, b) => a.step - b.step || a.order - b.order)
  return merged.slice(-limit).map(({ kind, text }) => ({ kind, text }))
}
