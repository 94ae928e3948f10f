// The demo study's report as tables: one row per method (median over seeds, with the range),
// then defect rates per behaviour, then one answer per behaviour from each model.
import type { DemoStudyReport, DemoStudyRow } from '../api/types'
import { table } from './output'

const pct = (x: number) => `${(100 * x).toFixed(1)}%`

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** "median [min–max]" over seeds, or the single value. */
function spread(xs: number[], show: (x: number) => string): string {
  if (xs.length === 1) return show(xs[0])
  return `${show(median(xs))} [${show(Math.min(...xs))}–${show(Math.max(...xs))}]`
}

function groups(rows: DemoStudyRow[]): Array<[string, DemoStudyRow[]]> {
  const order = ['base', 'sft', 'figa']
  return order.map((m) => [m, rows.filter((r) => r.model === m)] as [string, DemoStudyRow[]]).filter(([, rs]) => rs.length > 0)
}

export function formatDemoStudy(report: DemoStudyReport): string {
  const label = (m: string) => (m === 'base' ? 'base model' : m === 'sft' ? 'SFT on revised' : 'FIGA')
  const byModel = groups(report.rows)
  const summary = byModel.map(([m, rs]) => [
    label(m), rs.length === 1 && rs[0].seed === null ? '—' : String(rs.length),
    spread(rs.map((r) => r.defectRate), pct), spread(rs.map((r) => r.fixRate), pct), spread(rs.map((r) => r.otherRate), pct),
    spread(rs.map((r) => r.marginPerToken), (x) => x.toFixed(3)), m === 'base' ? '—' : spread(rs.map((r) => r.trainSeconds), (x) => `${x.toFixed(0)} s`),
  ])
  const behaviours = [...new Set(report.rows.flatMap((r) => Object.keys(r.byBehaviour)))]
  const perBehaviour = byModel.map(([m, rs]) => [
    label(m),
    ...behaviours.map((b) => {
      const rates = rs.map((r) => (r.byBehaviour[b] ? r.byBehaviour[b].defect / r.byBehaviour[b].pairs : 0))
      const fixes = rs.map((r) => (r.byBehaviour[b] ? r.byBehaviour[b].fixed / r.byBehaviour[b].pairs : 0))
      return `${pct(median(rates))} / ${pct(median(fixes))}`
    }),
  ])
  const sampleRows = behaviours.flatMap((b) =>
    byModel.map(([m, rs]) => {
      const s = rs[0].samples.find((x) => x.behaviour === b)
      return [b, label(m), s ? truncate(s.answer, 60) : '', s?.verdict ?? '']
    }),
  )
  const s = report.settings as { lr?: number; epochs?: number; maxSteps?: number | null; microBatch?: number; accumulation?: number; alpha?: number; beta?: number; gamma?: number; tau?: number | null }
  const budget = s.maxSteps ? `${s.maxSteps} steps` : `${s.epochs} epochs`
  return [
    `Demo study: ${report.trainPairs} training pairs, ${report.heldOutPairs} held-out prompts (new templates and entities), greedy answers`,
    `Base model ${report.baseModel}; every run: ${budget}, ${(s.microBatch ?? 0) * (s.accumulation ?? 0)} pairs per step, lr ${s.lr}; FIGA α ${s.alpha} β ${s.beta} γ ${s.gamma} τ ${s.tau ?? 'off'}`,
    '',
    table(['model', 'seeds', 'defect rate', 'fix rate', 'neither', 'margin/token', 'train time'], summary),
    '',
    'Per behaviour (median over seeds): defect rate / fix rate',
    table(['model', ...behaviours], perBehaviour),
    '',
    'One held-out answer per behaviour (first seed):',
    table(['behaviour', 'model', 'answer', 'verdict'], sampleRows),
  ].join('\n')
}

function truncate(text: string, n: number): string {
  const oneLine = text.replace(/\s+/g, ' ')
  return oneLine.length > n ? `${oneLine.slice(0, n - 1)}…` : oneLine
}
