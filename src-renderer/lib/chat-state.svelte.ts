// State of the Chat screen that outlives the screen: the open conversation and tab, the sampling
// settings (remembered across sessions), the answers streaming now and the evaluation job, which
// all keep going while another tab is open.
//
// Streaming: every 'generate.token' event of a chat job is buffered and the buffers are appended
// to the answers once per animation frame (not once per token), so two fast models streaming at
// once repaint the page at most 60 times a second and typing stays responsive.
import type { ChatTurn, EvalReport, GenerationToken, JobFinished, SamplingSettings } from '../../src-main/api/types'
import { api, ClientError, errorMessage } from './api'
import { DEFAULT_SAMPLING, parseSampling, type SamplingForm, type Side } from './chat-format'

// ── Screen state ─────────────────────────────────────────────────────────────────────────

export type ChatTab = 'chat' | 'winrates' | 'eval'

export const chatUi = $state<{ tab: ChatTab; conversationId: number | null; diffTokenizer: string }>({
  tab: 'chat',
  conversationId: null,
  diffTokenizer: load('figa.chat.diffTokenizer', 'builtin:byte', (v): v is string => typeof v === 'string' && v.length > 0),
})

/** Unsent messages, per conversation (kept while the app is open). */
export const drafts: Record<number, string> = {}

function load<T>(key: string, fallback: T, fits: (v: unknown) => v is T): T {
  try {
    const raw = localStorage.getItem(key)
    if (raw === null) return fallback
    const v = JSON.parse(raw) as unknown
    return fits(v) ? v : fallback
  } catch {
    return fallback
  }
}

export function remember(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value))
  } catch {
    // Storage full or unavailable: nothing to remember.
  }
}

export function rememberDiffTokenizer(): void {
  remember('figa.chat.diffTokenizer', chatUi.diffTokenizer)
}

// ── Sampling settings ────────────────────────────────────────────────────────────────────

const SAMPLING_KEY = 'figa.chat.sampling'

function loadSampling(): { left: SamplingForm; right: SamplingForm; separate: boolean } {
  const saved = load<Record<string, unknown> | null>(SAMPLING_KEY, null, (v): v is Record<string, unknown> => !!v && typeof v === 'object')
  return {
    left: parseSampling(saved?.left ?? DEFAULT_SAMPLING),
    right: parseSampling(saved?.right ?? saved?.left ?? DEFAULT_SAMPLING),
    separate: saved?.separate === true,
  }
}

/** Shared settings (`left`), and the right side's own when `separate` is on. */
export const sampling = $state(loadSampling())

export function saveSampling(): void {
  remember(SAMPLING_KEY, { left: sampling.left, right: sampling.right, separate: sampling.separate })
}

// ── Streaming answers ────────────────────────────────────────────────────────────────────

export type LiveStatus = 'streaming' | 'stopping' | 'finished'

export interface LiveAnswer {
  jobId: string
  conversationId: number
  turnId: number
  side: Side
  /** Text streamed so far. */
  text: string
  /** Tokens streamed so far. */
  tokens: number
  status: LiveStatus
  startedAt: number
  firstTokenAt: number | null
  lastTokenAt: number | null
  /** Why the stream ended without a stored answer reaching this window (lost connection). */
  error: string | null
}

export const liveKey = (turnId: number, side: Side): string => `${turnId}:${side}`

/** Answers streaming now (and just finished, until the stored answer replaces them), by liveKey. */
export const live = $state<Record<string, LiveAnswer>>({})

const byJob = new Map<string, string>()
const pending = new Map<string, { text: string; tokens: number; at: number }>()
let frame: number | null = null
/** chat.send calls in flight: their jobs' first events may arrive before the job ids. */
let sending = 0
const earlyTokens = new Map<string, GenerationToken[]>()
const earlyFinished = new Map<string, JobFinished>()

type FinishedListener = (conversationId: number, turnId: number) => void
const finishedListeners = new Set<FinishedListener>()
const otherListeners = new Set<() => void>()

/** Called when a chat answer's job ends (the stored answer is final then: re-fetch it). */
export function onAnswerFinished(listener: FinishedListener): () => void {
  finishedListeners.add(listener)
  return () => finishedListeners.delete(listener)
}

/** Called when a job this window did not start ends (an answer started before a reload, say). */
export function onOtherJobFinished(listener: () => void): () => void {
  otherListeners.add(listener)
  return () => otherListeners.delete(listener)
}

function flush(): void {
  if (frame !== null) cancelAnimationFrame(frame)
  frame = null
  for (const [key, p] of pending) {
    const a = live[key]
    if (!a) continue
    if (p.text) a.text += p.text
    if (p.tokens) {
      a.tokens += p.tokens
      a.firstTokenAt ??= p.at
      a.lastTokenAt = p.at
    }
  }
  pending.clear()
}

function take(key: string, t: GenerationToken): void {
  const p = pending.get(key) ?? { text: '', tokens: 0, at: 0 }
  p.text += t.text
  if (t.token !== null) {
    p.tokens++
    p.at = performance.now()
  }
  pending.set(key, p)
  frame ??= requestAnimationFrame(flush)
}

function finish(key: string, f: JobFinished | null): void {
  flush()
  const a = live[key]
  if (!a) return
  byJob.delete(a.jobId)
  a.status = 'finished'
  if (f && f.state === 'failed' && f.error) a.error = f.error.message
  for (const l of finishedListeners) l(a.conversationId, a.turnId)
}

api.on('generate.token', (t) => {
  const key = byJob.get(t.jobId)
  if (key) take(key, t)
  else if (sending > 0) {
    const list = earlyTokens.get(t.jobId) ?? []
    if (list.length < 100_000) list.push(t)
    earlyTokens.set(t.jobId, list)
  }
})

api.on('job.finished', (f) => {
  const key = byJob.get(f.jobId)
  if (key) finish(key, f)
  else if (sending > 0) earlyFinished.set(f.jobId, f)
  else for (const l of otherListeners) l()
})

/** Whether any answer of this conversation (or any at all) is streaming in this window. */
export function isStreaming(conversationId?: number): boolean {
  return Object.values(live).some((a) => a.status !== 'finished' && (conversationId === undefined || a.conversationId === conversationId))
}

/** Sends a message to both sides and starts following their answers. */
export async function sendMessage(
  conversationId: number,
  text: string,
  left: SamplingSettings,
  right?: SamplingSettings,
): Promise<ChatTurn> {
  sending++
  try {
    const { turn, jobs } = await api.call('chat.send', { conversationId, text, sampling: left, samplingRight: right })
    const start = performance.now()
    for (const side of ['left', 'right'] as const) {
      const jobId = jobs[side]
      if (!jobId) continue
      const key = liveKey(turn.id, side)
      live[key] = { jobId, conversationId, turnId: turn.id, side, text: '', tokens: 0, status: 'streaming', startedAt: start, firstTokenAt: null, lastTokenAt: null, error: null }
      byJob.set(jobId, key)
      for (const t of earlyTokens.get(jobId) ?? []) take(key, t)
      earlyTokens.delete(jobId)
    }
    for (const side of ['left', 'right'] as const) {
      const f = jobs[side] ? earlyFinished.get(jobs[side]!) : undefined
      if (f) finish(liveKey(turn.id, side), f)
    }
    watchJobs()
    return turn
  } finally {
    if (--sending === 0) {
      earlyTokens.clear()
      earlyFinished.clear()
    }
  }
}

/** Stops every answer of a conversation that is still streaming. Returns the errors, if any. */
export async function stopConversation(conversationId: number): Promise<string | null> {
  const streaming = Object.entries(live).filter(([, a]) => a.conversationId === conversationId && a.status === 'streaming')
  for (const [, a] of streaming) a.status = 'stopping'
  const results = await Promise.allSettled(streaming.map(([, a]) => api.call('jobs.cancel', { jobId: a.jobId })))
  const errors: string[] = []
  results.forEach((r, i) => {
    const [key, a] = streaming[i]
    if (r.status === 'rejected') {
      errors.push(errorMessage(r.reason))
      if (a.status === 'stopping') a.status = 'streaming'
    } else if (!r.value.cancelled) {
      // The job is not running any more, yet its end has not arrived here: give it a moment.
      setTimeout(() => live[key]?.status === 'stopping' && lost(key), 2000)
    }
  })
  return errors.length ? `Could not stop: ${errors.join('; ')}` : null
}

function lost(key: string): void {
  const a = live[key]
  if (!a || a.status === 'finished') return
  a.error = 'The answer has ended, but its end did not reach this window (was the connection lost?).'
  finish(key, null)
}

/**
 * While answers stream, checks every few seconds that their jobs still run: a job whose end
 * was missed (the event connection dropped) would otherwise stream forever here.
 */
let watching: ReturnType<typeof setInterval> | null = null
function watchJobs(): void {
  if (watching !== null) return
  watching = setInterval(async () => {
    const mine = Object.entries(live).filter(([, a]) => a.status !== 'finished')
    if (mine.length === 0) {
      clearInterval(watching!)
      watching = null
      return
    }
    try {
      const jobs = await api.call('jobs.list', {})
      const running = new Set(jobs.filter((j) => j.state === 'running').map((j) => j.jobId))
      for (const [key, a] of mine) if (!running.has(a.jobId) && live[key]?.status !== 'finished') setTimeout(() => lost(key), 1500)
    } catch {
      // The app is unreachable for now: try again at the next tick.
    }
  }, 4000)
}

/**
 * Forgets the streamed text of answers whose stored version is final (after chat.get): the
 * stored answer is what the screen shows from then on.
 */
export function settle(turns: ChatTurn[]): void {
  for (const t of turns) {
    for (const side of ['left', 'right'] as const) {
      const key = liveKey(t.id, side)
      const a = live[key]
      const stored = side === 'left' ? t.left : t.right
      if (a && a.status === 'finished' && stored && stored.state !== 'streaming') delete live[key]
    }
  }
}

export function forgetConversation(conversationId: number): void {
  for (const [key, a] of Object.entries(live)) if (a.conversationId === conversationId && a.status === 'finished') delete live[key]
}

// ── Evaluation job ───────────────────────────────────────────────────────────────────────

export interface EvalForm {
  modelAId: number | null
  modelBId: number | null
  datasetId: number | null
  selectionId: number | null
  split: 'heldout' | 'all'
  heldOut: number | null
  seed: number | null
  limit: number | null
  generate: boolean
  answerTokens: number | null
}

const EVAL_KEY = 'figa.chat.evalForm'

function loadEvalForm(): EvalForm {
  const f: EvalForm = { modelAId: null, modelBId: null, datasetId: null, selectionId: null, split: 'heldout', heldOut: 0.1, seed: 0, limit: null, generate: false, answerTokens: 64 }
  const saved = load<Record<string, unknown> | null>(EVAL_KEY, null, (v): v is Record<string, unknown> => !!v && typeof v === 'object')
  if (!saved) return f
  if (saved.split === 'heldout' || saved.split === 'all') f.split = saved.split
  for (const k of ['heldOut', 'seed', 'answerTokens'] as const) if (typeof saved[k] === 'number') f[k] = saved[k] as number
  if (typeof saved.generate === 'boolean') f.generate = saved.generate
  return f
}

export const evalForm = $state<EvalForm>(loadEvalForm())

export function saveEvalForm(): void {
  remember(EVAL_KEY, { split: evalForm.split, heldOut: evalForm.heldOut, seed: evalForm.seed, generate: evalForm.generate, answerTokens: evalForm.answerTokens })
}

export type EvalStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'done' | 'cancelled' | 'failed'

export const evalRun = $state<{
  status: EvalStatus
  jobId: string | null
  done: number
  total: number
  message: string
  error: string | null
  /** The report shown in the results table: the last run's, or one picked from the list. */
  shownId: number | null
}>({ status: 'idle', jobId: null, done: 0, total: 0, message: '', error: null, shownId: null })

export const evalBusy = (): boolean => evalRun.status === 'starting' || evalRun.status === 'running' || evalRun.status === 'stopping'

let evalSeq = 0

export async function startEval(args: {
  modelAId: number
  modelBId: number
  datasetId: number
  selectionId?: number
  split: 'heldout' | 'all'
  heldOut?: number
  seed?: number
  limit?: number
  answerTokens: number
}): Promise<EvalReport | null> {
  if (evalBusy()) return null
  const mine = ++evalSeq
  Object.assign(evalRun, { status: 'starting', jobId: null, done: 0, total: 0, message: 'Starting…', error: null })
  let stopAsked = false
  try {
    const report = await api.job(
      'eval.run',
      args,
      (p) => {
        if (mine !== evalSeq) return
        evalRun.done = p.done
        evalRun.total = p.total
        evalRun.message = p.message
      },
      (jobId) => {
        if (mine !== evalSeq) return
        evalRun.jobId = jobId
        stopAsked = evalRun.status === 'stopping'
        if (stopAsked) void api.call('jobs.cancel', { jobId })
        else evalRun.status = 'running'
      },
    )
    if (mine !== evalSeq) return report
    Object.assign(evalRun, { status: 'done', jobId: null, shownId: report.id, message: '' })
    return report
  } catch (e) {
    if (mine !== evalSeq) return null
    if (e instanceof ClientError && e.code === 'cancelled') Object.assign(evalRun, { status: 'cancelled', jobId: null })
    else Object.assign(evalRun, { status: 'failed', jobId: null, error: errorMessage(e) })
    return null
  }
}

export async function cancelEval(): Promise<void> {
  if (!evalBusy()) return
  const jobId = evalRun.jobId
  evalRun.status = 'stopping'
  if (!jobId) return // cancelled as soon as the job id arrives
  try {
    const { cancelled } = await api.call('jobs.cancel', { jobId })
    if (!cancelled) {
      const mine = evalSeq
      // The job has ended but its end has not arrived here: let go of it after a moment.
      setTimeout(() => {
        if (mine === evalSeq && evalBusy()) {
          evalSeq++
          Object.assign(evalRun, { status: 'failed', jobId: null, error: 'The evaluation has ended, but its result did not reach this window. See the list of evaluations.' })
        }
      }, 3000)
    }
  } catch (e) {
    evalRun.error = `Could not cancel: ${errorMessage(e)}`
    if (evalRun.status === 'stopping') evalRun.status = 'running'
  }
}
