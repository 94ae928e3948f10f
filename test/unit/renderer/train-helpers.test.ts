// @vitest-environment node
// Pure helpers of the Train screen: ETA and metric formatting, log lines, the Advanced form
// (parse, bounds, overrides) and the chart columns (append, resume, overlay).
import { describe, expect, it } from 'vitest'
import type { EvalMetrics, StepMetrics, TrainSettings } from '../../../src-main/api/types'
import { evalLine, formatDuration, formatLr, formatMetric, historyLines, linesOf } from '../../../src-renderer/lib/train-format'
import { CHARTS, ChartColumns, emptyPoints, mergeEval, mergeStep } from '../../../src-renderer/lib/train-metrics'
import { carryEdits, changedKeys, diffSettings, formFromSettings, settingsFromForm } from '../../../src-renderer/lib/train-settings'

const base: TrainSettings = {
  method: 'figa', alpha: 1, beta: 0.5, gamma: 0, tau: 0.6, tauBand: null, lr: 1e-5, schedule: 'constant', warmupSteps: 0,
  weightDecay: 0, clipNorm: 1, microBatch: 4, accumulation: 8, epochs: 5, maxSteps: null, seed: 42, maxLength: 512,
  heldOut: 0.05, evalEvery: 50, checkpointEvery: 100, lora: null, efficiency: { sharedPrefix: true, sparseHead: true, bucketing: true },
}

const step = (n: number, loss = 1): StepMetrics => ({
  step: n, totalSteps: 10, epoch: 0, loss, lossPositive: loss + 0.5, lossNegative: 0.5, lr: 1e-5, gradNorm: 1, tokensPerSec: 100,
  pairsPerSec: 2, weightedShare: 0.5, elapsedMs: n * 100,
})
const ev = (n: number): EvalMetrics => ({ step: n, marginPerToken: 0.1 * n, pplRevised: 10, pplOriginal: 12, pairs: 3 })

describe('formatting', () => {
  it('formats an ETA like 3m 12s', () => {
    expect(formatDuration(192_000)).toBe('3m 12s')
    expect(formatDuration(4_000)).toBe('4s')
    expect(formatDuration(65_000)).toBe('1m 05s')
    expect(formatDuration(3_900_000)).toBe('1h 05m')
    expect(formatDuration(190_000_000)).toBe('2d 4h')
    expect(formatDuration(200)).toBe('<1s')
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(-5)).toBe('—')
  })

  it('formats metrics and learning rates', () => {
    expect(formatMetric(2.345678)).toBe('2.346')
    expect(formatMetric(0.00001234)).toBe('1.23e-5')
    expect(formatMetric(12345.6)).toBe('12,346')
    expect(formatMetric(NaN)).toBe('—')
    expect(formatLr(1e-5)).toBe('1e-5')
    expect(formatLr(3e-4)).toBe('3e-4')
    expect(formatLr(2.5e-5)).toBe('2.5e-5')
  })

  it('turns progress events into log lines, with state changes', () => {
    const lines = linesOf({ runId: 1, state: 'running', step: 2, totalSteps: 10, etaMs: 1000, train: step(2) }, 'running')
    expect(lines).toHaveLength(1)
    expect(lines[0].kind).toBe('step')
    expect(lines[0].text).toMatch(/^step 2 \/ 10 {2}loss 1 /)
    const end = linesOf({ runId: 1, state: 'cancelled', step: 4, totalSteps: 10, etaMs: null }, 'running')
    expect(end).toEqual([{ kind: 'state', text: 'state: running → cancelled' }])
    const failed = linesOf({ runId: 1, state: 'failed', step: 4, totalSteps: 10, etaMs: null, message: 'out of memory' }, 'running')
    expect(failed.map((l) => l.kind)).toEqual(['state', 'error'])
    const ckpt = linesOf({ runId: 1, state: 'running', step: 4, totalSteps: 10, etaMs: null, checkpoint: '/runs/1/checkpoint-4' }, 'running')
    expect(ckpt).toEqual([{ kind: 'checkpoint', text: 'checkpoint @ step 4 → /runs/1/checkpoint-4' }])
  })

  it('rebuilds the log tail from recorded metrics, by step', () => {
    const lines = historyLines([step(1), step(2), step(3)], [ev(2)], 3)
    expect(lines.map((l) => l.kind)).toEqual(['step', 'eval', 'step'])
    expect(lines[1].text).toBe(evalLine(ev(2)))
  })
})

describe('the Advanced form', () => {
  it('round-trips a preset and sends no overrides when nothing changed', () => {
    const form = formFromSettings(base)
    const { settings, errors } = settingsFromForm(form, base)
    expect(errors).toEqual({})
    expect(settings).toEqual(base)
    expect(diffSettings(base, settings!)).toEqual({})
    expect(changedKeys(form, base).size).toBe(0)
  })

  it('sends only what changed', () => {
    const form = { ...formFromSettings(base), maxSteps: '6', evalEvery: '2', checkpointEvery: '2', tauOn: false, bandOn: true }
    const { settings } = settingsFromForm(form, base)
    expect(diffSettings(base, settings!)).toEqual({ maxSteps: 6, evalEvery: 2, checkpointEvery: 2, tau: null, tauBand: [0.6, 1] })
    expect([...changedKeys(form, base)].sort()).toEqual(['bandOn', 'checkpointEvery', 'evalEvery', 'maxSteps', 'tauOn'])
  })

  it('treats the same number written differently as unchanged', () => {
    const form = { ...formFromSettings(base), lr: '1e-5' }
    expect(changedKeys(form, base).size).toBe(0)
    expect(diffSettings(base, settingsFromForm(form, base).settings!)).toEqual({})
  })

  it('checks the contract bounds field by field', () => {
    const form = { ...formFromSettings(base), microBatch: '0', lr: '0', heldOut: '0.7', seed: '1.5', maxLength: '', bandOn: true, bandLo: '2', bandHi: '1' }
    const { settings, errors } = settingsFromForm(form, base)
    expect(settings).toBeNull()
    expect(errors).toEqual({ microBatch: 'at least 1', lr: 'must be above 0', heldOut: 'at most 0.5', seed: 'a whole number', maxLength: 'required', bandHi: 'must not be below the low end' })
  })

  it('builds LoRA settings and an empty max steps means no limit', () => {
    const form = { ...formFromSettings({ ...base, maxSteps: 100 }), maxSteps: ' ', loraOn: true, loraTargets: 'q_proj, v_proj,,o_proj' }
    const overrides = diffSettings({ ...base, maxSteps: 100 }, settingsFromForm(form, base).settings!)
    expect(overrides).toEqual({ maxSteps: null, lora: { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj', 'o_proj'] } })
    expect(settingsFromForm({ ...form, loraTargets: ' , ' }, base).errors.loraTargets).toMatch(/at least one/)
  })

  it('keeps the user\'s edits when another preset is chosen', () => {
    const other: TrainSettings = { ...base, lr: 3e-4, microBatch: 2, maxSteps: 200 }
    const edited = { ...formFromSettings(base), maxSteps: '6', seed: '7' }
    const next = carryEdits(edited, base, other)
    expect(next.lr).toBe('0.0003')
    expect(next.microBatch).toBe('2')
    expect(next.maxSteps).toBe('6')
    expect(next.seed).toBe('7')
  })
})

describe('chart columns', () => {
  it('appends live points to the columns it already has', () => {
    const p = emptyPoints()
    const cols = new ChartColumns(CHARTS.loss, false)
    mergeStep(p, step(1, 3))
    mergeStep(p, step(2, 2))
    expect(cols.sync([{ id: 1, points: p }])).toBe(true)
    const xs = cols.columns[0]
    expect(cols.columns).toEqual([[1, 2], [3, 2], [3.5, 2.5], [0.5, 0.5]])
    mergeStep(p, step(3, 1))
    expect(cols.sync([{ id: 1, points: p }])).toBe(true)
    expect(cols.columns[0]).toBe(xs) // the same array, one point longer
    expect(cols.points).toBe(3)
    expect(cols.sync([{ id: 1, points: p }])).toBe(false)
  })

  it('replaces the points after a resumed run\'s checkpoint', () => {
    const p = emptyPoints()
    for (let i = 1; i <= 5; i++) mergeStep(p, step(i, i))
    mergeEval(p, ev(2))
    mergeEval(p, ev(4))
    const cols = new ChartColumns(CHARTS.loss, false)
    cols.sync([{ id: 1, points: p }])
    // Resumed from the checkpoint at step 2: step 3 comes again.
    mergeStep(p, step(3, 9))
    expect(p.train.map((m) => m.step)).toEqual([1, 2, 3])
    expect(p.eval.map((m) => m.step)).toEqual([2])
    cols.sync([{ id: 1, points: p }])
    expect(cols.columns[0]).toEqual([1, 2, 3])
    expect(cols.columns[1]).toEqual([1, 2, 9])
  })

  it('aligns overlaid runs on the union of their steps', () => {
    const a = emptyPoints()
    const b = emptyPoints()
    mergeEval(a, ev(2))
    mergeEval(a, ev(4))
    mergeEval(b, ev(3))
    const cols = new ChartColumns(CHARTS.margin, true)
    cols.sync([{ id: 1, points: a }, { id: 2, points: b }])
    expect(cols.columns[0]).toEqual([2, 3, 4])
    expect(cols.columns[1]).toEqual([0.2, null, 0.4])
    expect(cols.columns[2]?.[1]).toBeCloseTo(0.3)
    expect(cols.columns[2]?.[0]).toBeNull()
  })
})
