// Pure metric bookkeeping of the Train screen: a run's recorded points merged with live ones (a
// resumed run recomputes the steps after its checkpoint, so a step at or before the last one
// replaces what follows), the chart kinds, and the column data each chart draws: appended to
// point by point for one run, aligned on the union of steps for an overlay of several.
import type { EvalMetrics, StepMetrics } from '../../src-main/api/types'
import { formatLr, formatMetric, formatRate } from './train-format'

export interface RunPoints {
  train: StepMetrics[]
  eval: EvalMetrics[]
  /** Bumped whenever points are replaced or dropped rather than appended. */
  rev: number
}

export function emptyPoints(): RunPoints {
  return { train: [], eval: [], rev: 0 }
}

/** Adds a training step. Points at or after its step (from before a resume) are dropped first, evaluations included. */
export function mergeStep(p: RunPoints, m: StepMetrics): void {
  const last = p.train[p.train.length - 1]
  if (last && last.step >= m.step) {
    p.train = p.train.filter((x) => x.step < m.step)
    p.rev++
  }
  const lastEval = p.eval[p.eval.length - 1]
  if (lastEval && lastEval.step >= m.step) {
    p.eval = p.eval.filter((x) => x.step < m.step)
    p.rev++
  }
  p.train.push(m)
}

export function mergeEval(p: RunPoints, m: EvalMetrics): void {
  const last = p.eval[p.eval.length - 1]
  if (last && last.step >= m.step) {
    p.eval = p.eval.filter((x) => x.step < m.step)
    p.rev++
  }
  p.eval.push(m)
}

// ── Chart kinds ──────────────────────────────────────────────────────────────────────────

export type ChartId = 'loss' | 'lr' | 'grad' | 'throughput' | 'margin' | 'ppl'

export interface SeriesDef<T> {
  label: string
  color: string
  value: (m: T) => number
  /** 'y' (left axis) or 'y2' (right axis). */
  scale?: 'y' | 'y2'
  dash?: number[]
  width?: number
}

interface KindBase<S extends 'train' | 'eval', T> {
  id: ChartId
  title: string
  source: S
  yLabel: string
  y2Label?: string
  /** Log-scaled y axis. */
  log?: boolean
  format: (v: number) => string
  format2?: (v: number) => string
  series: SeriesDef<T>[]
  /** What one run contributes to an overlay of several (one line per run). */
  overlay: SeriesDef<T>
  help: string
}

export type ChartKind = KindBase<'train', StepMetrics> | KindBase<'eval', EvalMetrics>

export const COLORS = { accent: '#6ea8fe', good: '#3fb950', bad: '#f85149', warn: '#d29922', violet: '#a371f7', cyan: '#39c5cf', pink: '#f778ba' }

/** One colour per overlaid run (up to 6). */
export const RUN_COLORS = [COLORS.accent, COLORS.good, COLORS.warn, COLORS.pink, COLORS.violet, COLORS.cyan]
export const MAX_OVERLAY = 6

export const CHARTS: Record<ChartId, ChartKind> = {
  loss: {
    id: 'loss', title: 'Loss', source: 'train', yLabel: 'loss', format: formatMetric,
    series: [
      { label: 'total', color: COLORS.accent, value: (m) => m.loss, width: 2 },
      // Dashed: the total shows through where it equals a part.
      { label: 'positive part', color: COLORS.good, value: (m) => m.lossPositive, dash: [6, 4], width: 1.25 },
      { label: 'negative part', color: COLORS.bad, value: (m) => m.lossNegative, dash: [6, 4], width: 1.25 },
    ],
    overlay: { label: 'loss', color: COLORS.accent, value: (m) => m.loss },
    help: 'FIGA loss per optimizer step: the weighted CE of ŷ (positive part) minus the weighted CE of y’s bad tokens (negative part).',
  },
  lr: {
    id: 'lr', title: 'Learning rate', source: 'train', yLabel: 'lr', format: formatLr,
    series: [{ label: 'lr', color: COLORS.violet, value: (m) => m.lr }],
    overlay: { label: 'lr', color: COLORS.violet, value: (m) => m.lr },
    help: 'The learning rate of each step (schedule and warmup).',
  },
  grad: {
    id: 'grad', title: 'Gradient norm', source: 'train', yLabel: '‖g‖', format: formatMetric,
    series: [{ label: 'grad norm', color: COLORS.warn, value: (m) => m.gradNorm }],
    overlay: { label: 'grad norm', color: COLORS.warn, value: (m) => m.gradNorm },
    help: 'Global gradient norm before clipping.',
  },
  throughput: {
    id: 'throughput', title: 'Throughput', source: 'train', yLabel: 'tokens/s', y2Label: 'pairs/s', format: formatRate, format2: formatRate,
    series: [
      { label: 'tokens/s', color: COLORS.cyan, value: (m) => m.tokensPerSec },
      { label: 'pairs/s', color: COLORS.pink, value: (m) => m.pairsPerSec, scale: 'y2' },
    ],
    overlay: { label: 'tokens/s', color: COLORS.cyan, value: (m) => m.tokensPerSec },
    help: 'Training speed: tokens per second (left axis) and pairs per second (right axis).',
  },
  margin: {
    id: 'margin', title: 'Held-out margin / token', source: 'eval', yLabel: 'margin / token', format: formatMetric,
    series: [{ label: 'margin / token', color: COLORS.good, value: (m) => m.marginPerToken }],
    overlay: { label: 'margin / token', color: COLORS.good, value: (m) => m.marginPerToken },
    help: 'On held-out pairs: how much more likely the model finds ŷ than y, per token. It should rise.',
  },
  ppl: {
    id: 'ppl', title: 'Held-out perplexity', source: 'eval', yLabel: 'perplexity', log: true, format: formatMetric,
    series: [
      { label: 'ppl ŷ (revised)', color: COLORS.good, value: (m) => m.pplRevised },
      { label: 'ppl y (original)', color: COLORS.bad, value: (m) => m.pplOriginal, dash: [5, 4] },
    ],
    overlay: { label: 'ppl ŷ', color: COLORS.good, value: (m) => m.pplRevised },
    help: 'Perplexity of the revised (ŷ) and original (y) held-out responses: ŷ should fall, y should not.',
  },
}

// ── Column data ──────────────────────────────────────────────────────────────────────────

/** [x, ...series]: uPlot's aligned data. */
export type Columns = [number[], ...Array<Array<number | null>>]

/** A run as a chart shows it: its legend label and colour. */
export interface ChartRunRef {
  id: number
  label: string
  color: string
}

export interface ChartRun {
  id: number
  points: RunPoints
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null)

function rowsOf(kind: ChartKind, p: RunPoints): Array<StepMetrics | EvalMetrics> {
  return kind.source === 'train' ? p.train : p.eval
}

function valueOf(def: SeriesDef<never>, row: StepMetrics | EvalMetrics): number | null {
  return finite((def.value as (m: StepMetrics | EvalMetrics) => number)(row))
}

/**
 * The columns one chart draws, kept between updates: with one run, new points are appended to
 * the columns already built (a resume's replaced points rebuild them); with several runs, the
 * columns are re-aligned on the union of their steps.
 */
export class ChartColumns {
  columns: Columns
  private runId: number | null = null
  private rev = -1

  constructor(readonly kind: ChartKind, readonly overlay: boolean) {
    this.columns = this.empty()
  }

  private empty(): Columns {
    const n = this.overlay ? 0 : this.kind.series.length
    return [[], ...Array.from({ length: n }, () => [] as Array<number | null>)]
  }

  /** Number of x positions (steps) drawn. */
  get points(): number {
    return this.columns[0].length
  }

  /** Brings the columns up to date; returns whether anything changed. */
  sync(runs: ChartRun[]): boolean {
    return this.overlay ? this.syncOverlay(runs) : this.syncSingle(runs[0])
  }

  private syncSingle(run: ChartRun | undefined): boolean {
    if (!run) {
      const had = this.points > 0
      this.columns = this.empty()
      this.runId = null
      return had
    }
    const rows = rowsOf(this.kind, run.points)
    const defs = this.kind.series as SeriesDef<never>[]
    if (run.id !== this.runId || run.points.rev !== this.rev || rows.length < this.points) {
      this.runId = run.id
      this.rev = run.points.rev
      this.columns = [rows.map((r) => r.step), ...defs.map((d) => rows.map((r) => valueOf(d, r)))]
      return true
    }
    if (rows.length === this.points) return false
    // Append only what is new: arrays are reused, so uPlot gets the same columns, longer.
    for (let i = this.points; i < rows.length; i++) {
      const r = rows[i]
      this.columns[0].push(r.step)
      defs.forEach((d, j) => (this.columns[j + 1] as Array<number | null>).push(valueOf(d, r)))
    }
    return true
  }

  private syncOverlay(runs: ChartRun[]): boolean {
    const steps = new Set<number>()
    const maps = runs.map((run) => {
      const m = new Map<number, number | null>()
      for (const r of rowsOf(this.kind, run.points)) {
        steps.add(r.step)
        m.set(r.step, valueOf(this.kind.overlay as SeriesDef<never>, r))
      }
      return m
    })
    const xs = [...steps].sort((a, b) => a - b)
    this.columns = [xs, ...maps.map((m) => xs.map((x) => (m.has(x) ? m.get(x)! : null)))]
    return true
  }
}
