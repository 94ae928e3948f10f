// The Train screen's live state, kept while other screens are open: which run is shown, which
// runs are overlaid, each run's latest progress (state, step, ETA) and log, and the metric points
// of the runs whose charts are drawn (recorded history from runs.metrics, then live points from
// 'run.progress' events; nothing is refetched per step).
import type { RunProgress, RunState, RunSummary, TrainMethod, TrainSettings } from '../../src-main/api/types'
import { api, errorMessage } from './api'
import { clock, historyLines, LOG_LIMIT, linesOf, type LogKind, type LogLine } from './train-format'
import { emptyPoints, mergeEval, mergeStep, type RunPoints } from './train-metrics'
import type { SettingsForm } from './train-settings'

export interface LiveProgress {
  state: RunState
  step: number
  totalSteps: number | null
  /** The last ETA the run reported and when it arrived (Date.now()); null when not running or unknown. */
  etaMs: number | null
  etaAt: number
  /** The last checkpoint an event reported (the run list has it only after the next refresh). */
  checkpoint: string | null
  /** Order of the last update (events and list refreshes share one counter). */
  seq: number
}

interface Tracked {
  points: RunPoints
  status: 'loading' | 'loaded' | 'error'
  /** Events that arrived while the history was loading. */
  pending: RunProgress[]
  error: string | null
}

/** The new-run panel's choices, kept while other screens are open. */
export interface NewRunDraft {
  modelId: number | null
  selectionId: number | null
  method: TrainMethod
  presetName: string | null
  name: string
  /** The Advanced form and the preset settings it was made from (null until presets load). */
  form: SettingsForm | null
  base: TrainSettings | null
  advancedOpen: boolean
}

export const trainState = $state<{
  newRun: NewRunDraft
  selectedRunId: number | null
  overlay: number[]
  live: Record<number, LiveProgress>
  logs: Record<number, LogLine[]>
  /** Bumped when a run's points change: charts redraw on it. */
  versions: Record<number, number>
  metricErrors: Record<number, string>
}>({
  newRun: { modelId: null, selectionId: null, method: 'figa', presetName: null, name: '', form: null, base: null, advancedOpen: false },
  selectedRunId: null, overlay: [], live: {}, logs: {}, versions: {}, metricErrors: {} })

const tracked = new Map<number, Tracked>()
const lastState = new Map<number, RunState>()
let seq = 0
let logSeq = 0
let subscribed = false

export function nextSeq(): number {
  return ++seq
}

/** Subscribes to run events once; the subscription lives as long as the page. */
export function startTrainEvents(): void {
  if (subscribed) return
  subscribed = true
  api.on('run.progress', onProgress)
}

export function pointsOf(runId: number): RunPoints | null {
  const t = tracked.get(runId)
  return t && t.status === 'loaded' ? t.points : null
}

function bump(runId: number): void {
  trainState.versions[runId] = (trainState.versions[runId] ?? 0) + 1
}

export function appendLog(runId: number, lines: Array<{ kind: LogKind; text: string }>, time = clock()): void {
  if (lines.length === 0) return
  // Read back through the state proxy: the array assigned is wrapped, not the one kept.
  if (!trainState.logs[runId]) trainState.logs[runId] = []
  const log = trainState.logs[runId]
  for (const l of lines) log.push({ seq: ++logSeq, time, kind: l.kind, text: l.text })
  if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT)
}

function onProgress(p: RunProgress): void {
  const previous = lastState.get(p.runId) ?? trainState.live[p.runId]?.state ?? null
  lastState.set(p.runId, p.state)
  const old = trainState.live[p.runId]
  const running = p.state === 'running'
  trainState.live[p.runId] = {
    state: p.state,
    step: p.step,
    totalSteps: p.totalSteps ?? old?.totalSteps ?? null,
    // Evaluation and checkpoint events carry no ETA: keep the last one while running.
    etaMs: !running ? null : p.etaMs ?? old?.etaMs ?? null,
    etaAt: !running ? 0 : p.etaMs !== null ? Date.now() : old?.etaAt ?? Date.now(),
    checkpoint: p.checkpoint ?? old?.checkpoint ?? null,
    seq: nextSeq(),
  }
  appendLog(p.runId, linesOf(p, previous))

  const t = tracked.get(p.runId)
  if (!t || (!p.train && !p.eval)) return
  if (t.status === 'loading') {
    t.pending.push(p)
    return
  }
  if (t.status !== 'loaded') return
  if (p.train) mergeStep(t.points, p.train)
  if (p.eval) mergeEval(t.points, p.eval)
  bump(p.runId)
}

/**
 * Takes the state and step of runs from a list (or an action's result) fetched when the update
 * counter was `since`: a run that had an event after that keeps what the event said.
 */
export function noteRuns(runs: RunSummary[], since: number): void {
  for (const r of runs) {
    const previous = lastState.get(r.id)
    const live = trainState.live[r.id]
    if (live && live.seq > since) continue
    if (previous !== undefined && previous !== r.state) {
      const lines: Array<{ kind: LogKind; text: string }> = [{ kind: 'state', text: `state: ${previous} → ${r.state}` }]
      if (r.state === 'failed' && r.error) lines.push({ kind: 'error', text: r.error })
      if (trainState.logs[r.id]) appendLog(r.id, lines)
    }
    lastState.set(r.id, r.state)
    if (!live || live.state !== r.state || live.step !== r.step || live.totalSteps !== r.totalSteps) {
      const running = r.state === 'running'
      trainState.live[r.id] = {
        state: r.state, step: r.step, totalSteps: r.totalSteps,
        etaMs: running ? live?.etaMs ?? null : null, etaAt: running ? live?.etaAt ?? 0 : 0,
        checkpoint: r.lastCheckpoint ?? live?.checkpoint ?? null, seq: nextSeq(),
      }
    }
  }
}

/** Fetches the recorded metrics of runs not loaded yet (or again, with `force`). */
export async function loadMetrics(runIds: number[], force = false): Promise<void> {
  const ids = [...new Set(runIds)].filter((id) => force || !tracked.has(id) || tracked.get(id)!.status === 'error')
  if (ids.length === 0) return
  for (const id of ids) {
    const old = tracked.get(id)
    tracked.set(id, { points: old?.points ?? emptyPoints(), status: 'loading', pending: [], error: null })
  }
  for (let i = 0; i < ids.length; i += 12) {
    const chunk = ids.slice(i, i + 12)
    try {
      const results = await api.call('runs.metrics', { runIds: chunk })
      for (const m of results) {
        const t = tracked.get(m.runId)
        if (!t) continue
        const points: RunPoints = { train: m.train, eval: m.eval, rev: t.points.rev + 1 }
        const lastStep = Math.max(m.train[m.train.length - 1]?.step ?? 0, m.eval[m.eval.length - 1]?.step ?? 0)
        // Events that came while loading: keep those newer than the history.
        for (const p of t.pending) {
          if (p.train && p.train.step > lastStep) mergeStep(points, p.train)
          if (p.eval && p.eval.step > lastStep) mergeEval(points, p.eval)
        }
        tracked.set(m.runId, { points, status: 'loaded', pending: [], error: null })
        delete trainState.metricErrors[m.runId]
        if (!trainState.logs[m.runId]?.length && (points.train.length || points.eval.length)) appendLog(m.runId, historyLines(points.train, points.eval), '')
        bump(m.runId)
      }
    } catch (e) {
      for (const id of chunk) {
        const t = tracked.get(id)
        if (t) {
          t.status = 'error'
          t.error = errorMessage(e)
        }
        trainState.metricErrors[id] = errorMessage(e)
        bump(id)
      }
    }
  }
}

/** A deleted run: drop everything kept about it. */
export function forgetRun(runId: number): void {
  tracked.delete(runId)
  lastState.delete(runId)
  delete trainState.live[runId]
  delete trainState.logs[runId]
  delete trainState.versions[runId]
  delete trainState.metricErrors[runId]
  trainState.overlay = trainState.overlay.filter((id) => id !== runId)
  if (trainState.selectedRunId === runId) trainState.selectedRunId = null
}

/** The ETA left now, counting down from the last reported one. */
export function etaLeft(live: LiveProgress | undefined, now: number): number | null {
  if (!live || live.state !== 'running' || live.etaMs === null) return null
  return Math.max(0, live.etaMs - (now - live.etaAt))
}
