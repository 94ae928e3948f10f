// State of the Models screen that outlives the screen: the selected model, the Generate form
// (sampling settings remembered across sessions) and the current generation, which keeps
// streaming while another tab is open.
import type { GenerationResult, GenerationToken } from '../../src-main/api/types'
import { api, ClientError, errorMessage } from './api'
import { DEFAULT_FORM, type GenerateForm, randomSeed, toArgs } from './models-format'

const FORM_KEY = 'figa.models.generateForm'
/** What is remembered between sessions: the settings, not the texts. */
const REMEMBERED = ['template', 'maxNewTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'seed', 'stops'] as const

function loadForm(): GenerateForm {
  const form = { ...DEFAULT_FORM }
  try {
    const saved = JSON.parse(localStorage.getItem(FORM_KEY) ?? '{}') as Partial<GenerateForm>
    for (const k of REMEMBERED) {
      const v = saved[k]
      const fits =
        k === 'seed' ? v === null || typeof v === 'number'
        : k === 'template' ? v === 'alpaca' || v === 'chat' || v === 'raw'
        : typeof v === typeof DEFAULT_FORM[k]
      if (fits) (form as Record<string, unknown>)[k] = v
    }
  } catch {
    // A damaged entry: start from the defaults.
  }
  return form
}

export function saveForm(): void {
  try {
    localStorage.setItem(FORM_KEY, JSON.stringify(Object.fromEntries(REMEMBERED.map((k) => [k, generateForm[k]]))))
  } catch {
    // Storage full or unavailable: nothing to remember.
  }
}

export const modelsState = $state<{ selectedId: number | null }>({ selectedId: null })

export const generateForm = $state<GenerateForm>(loadForm())

export type RunStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'done' | 'aborted' | 'failed'

export interface GenerationRun {
  status: RunStatus
  jobId: string | null
  modelId: number | null
  modelName: string
  /** The seed this run used (the form's, or the random one drawn for it). */
  seed: number | null
  /** Text streamed so far; the result's text once done. */
  output: string
  /** Tokens streamed so far. */
  tokens: number
  startedAt: number
  firstTokenAt: number | null
  lastTokenAt: number | null
  result: GenerationResult | null
  error: string | null
}

export const run = $state<GenerationRun>({
  status: 'idle', jobId: null, modelId: null, modelName: '', seed: null, output: '', tokens: 0,
  startedAt: 0, firstTokenAt: null, lastTokenAt: null, result: null, error: null,
})

export const isBusy = (): boolean => run.status === 'starting' || run.status === 'running' || run.status === 'stopping'

let stopRequested = false
/** Counts runs: a late answer of an abandoned run must not write over a newer one. */
let runSeq = 0

/**
 * Starts a generation with the form's settings. Tokens are appended once per animation frame
 * (not once per event), so a fast model does not re-render the page hundreds of times a second.
 */
export async function startGeneration(model: { id: number; name: string }): Promise<void> {
  if (isBusy()) return
  const seed = generateForm.seed ?? randomSeed()
  const args = toArgs(generateForm, model.id, seed)
  saveForm()
  stopRequested = false
  const mine = ++runSeq
  const current = () => mine === runSeq
  Object.assign(run, {
    status: 'starting', jobId: null, modelId: model.id, modelName: model.name, seed, output: '', tokens: 0,
    startedAt: performance.now(), firstTokenAt: null, lastTokenAt: null, result: null, error: null,
  } satisfies GenerationRun)

  let jobId: string | null = null
  const early: GenerationToken[] = []
  let pendingText = ''
  let pendingTokens = 0
  let firstAt: number | null = null
  let lastAt: number | null = null
  let frame: number | null = null
  const flush = () => {
    if (frame !== null) cancelAnimationFrame(frame)
    frame = null
    if (!current()) return
    if (pendingText) run.output += pendingText
    if (pendingTokens) {
      run.tokens += pendingTokens
      run.firstTokenAt = firstAt
      run.lastTokenAt = lastAt
    }
    pendingText = ''
    pendingTokens = 0
  }
  const take = (t: GenerationToken) => {
    if (t.jobId !== jobId) return
    pendingText += t.text
    if (t.token !== null) {
      pendingTokens++
      lastAt = performance.now()
      firstAt ??= lastAt
    }
    if (frame === null) frame = requestAnimationFrame(flush)
  }
  // Listen before starting: tokens may arrive before the call returns the job id.
  const off = api.on('generate.token', (t) => (jobId === null ? early.push(t) : take(t)))
  try {
    const result = await api.job('generate.start', args, undefined, (id) => {
      jobId = id
      if (!current()) return
      run.jobId = id
      run.status = stopRequested ? 'stopping' : 'running'
      for (const t of early.splice(0)) take(t)
      if (stopRequested) void cancel(id, mine)
    })
    flush()
    if (!current()) return
    run.output = result.text
    run.tokens = result.tokens
    run.result = result
    run.status = result.finishReason === 'aborted' ? 'aborted' : 'done'
  } catch (e) {
    flush()
    if (!current()) return
    if (e instanceof ClientError && e.code === 'cancelled') run.status = 'aborted'
    else {
      run.error = errorMessage(e)
      run.status = 'failed'
    }
  } finally {
    off()
    if (current()) run.jobId = null
  }
}

async function cancel(jobId: string, mine: number): Promise<void> {
  try {
    const { cancelled } = await api.call('jobs.cancel', { jobId })
    if (cancelled) return
    // The job is not running any more, yet its end has not arrived (the event connection dropped
    // while it finished, say): give the answer a moment, then let go of the run.
    setTimeout(() => {
      if (mine !== runSeq || !isBusy()) return
      runSeq++
      run.jobId = null
      run.status = 'failed'
      run.error = 'The generation has ended, but its result did not reach this window (was the connection lost?). The text above is what arrived.'
    }, 2000)
  } catch (e) {
    if (mine !== runSeq) return
    run.error = `Could not stop the generation: ${errorMessage(e)}`
    if (run.status === 'stopping') run.status = 'running'
  }
}

export function stopGeneration(): void {
  if (!isBusy()) return
  stopRequested = true
  run.status = 'stopping'
  if (run.jobId) void cancel(run.jobId, runSeq)
}
