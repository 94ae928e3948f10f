// The demo study: does FIGA fix the demo base model's mistakes better than SFT on the same
// revised data, at the same training budget? Trains each method from the same base model with
// several seeds, answers the world's held-out prompts greedily, and scores every answer with
// the world's rule-based scorer. Also reports the held-out log-prob margin per token.
import { join } from 'node:path'
import { rmSync } from 'node:fs'
import { alpacaPrompt, loadModel } from '../model'
import { loadTokenizer } from '../signals/tokenizer'
import { Trainer, type TrainExample, type TrainSettings } from '../train'
import type { HelperOptions } from '../train/gradient-helpers'
import { greedyAnswer, scoreResponse, summarise, type PairScore } from '../eval/score'
import { generateWorld, type DemoPair } from './world'
import { scoreAnswer } from './scorer'
import type { DemoStudyReport, DemoStudyRow } from '../api/types'

export type StudyMethod = 'sft' | 'figa'

export interface StudyOptions {
  baseModelDir: string
  /** scratch folder for the runs' checkpoints (removed as each run is scored) */
  workDir: string
  seeds: number[]
  methods: StudyMethod[]
  /** training settings shared by every run (method and seed are set per run) */
  settings: Partial<TrainSettings>
  /** greedy answers are cut after this many tokens */
  answerTokens: number
  /** score only the first N held-out pairs (tests) */
  limit?: number
  /** gradient helpers for the training runs (see train/gradient-helpers.ts) */
  helpers?: HelperOptions
  signal?: AbortSignal
  onProgress?: (done: number, total: number, message: string) => void
}

export type Verdict = DemoStudyRow['samples'][number]['verdict']

/** The world's pairs as the trainer takes them: the official Alpaca prompt, original, revised. */
export function studyExamples(pairs: DemoPair[]): TrainExample[] {
  return pairs.map((p, id) => ({ id, prompt: alpacaPrompt({ instruction: p.instruction, input: p.input }), original: p.original_output, revised: p.revised_output }))
}

export async function runDemoStudy(o: StudyOptions): Promise<DemoStudyReport> {
  const world = generateWorld()
  const train = world.filter((p) => p.split === 'train')
  const heldOut = world.filter((p) => p.split === 'heldout').slice(0, o.limit)
  const examples = studyExamples(train)
  const total = 1 + o.seeds.length * o.methods.length
  let done = 0
  const progress = (message: string) => o.onProgress?.(done, total, message)
  const rows: DemoStudyRow[] = []

  progress('scoring the base model')
  rows.push({ ...(await scoreModel(o.baseModelDir, heldOut, o)), model: 'base', seed: null, trainSeconds: 0 })
  done++

  for (const seed of o.seeds) {
    for (const method of o.methods) {
      if (o.signal?.aborted) throw new Error('cancelled')
      const outDir = join(o.workDir, `${method}-seed${seed}`)
      const started = Date.now()
      const trainer = await Trainer.start({
        helpers: o.helpers,
        modelDir: o.baseModelDir,
        examples,
        outDir,
        settings: { ...o.settings, method, seed, heldOut: 0, evalEvery: 0, checkpointEvery: 0 },
      })
      let result
      try {
        result = await trainer.run({
          signal: o.signal,
          onStep: (m) => progress(`${method} seed ${seed}: step ${m.step}/${m.totalSteps}, loss ${m.loss.toFixed(3)}`),
        })
      } finally {
        trainer.dispose()
      }
      if (result.stoppedEarly) throw new Error('cancelled')
      const trainSeconds = (Date.now() - started) / 1000
      progress(`${method} seed ${seed}: answering ${heldOut.length} held-out prompts`)
      rows.push({ ...(await scoreModel(result.finalDir, heldOut, o)), model: method, seed, trainSeconds })
      rmSync(outDir, { recursive: true, force: true })
      done++
    }
  }
  progress('done')
  return { baseModel: o.baseModelDir, trainPairs: train.length, heldOutPairs: heldOut.length, settings: o.settings, rows, createdAt: new Date().toISOString() }
}

type Scored = Omit<DemoStudyRow, 'model' | 'seed' | 'trainSeconds'>

async function scoreModel(dir: string, heldOut: DemoPair[], o: StudyOptions): Promise<Scored> {
  const [model, tokenizer] = await Promise.all([loadModel(dir), loadTokenizer(dir)])
  try {
    const byBehaviour: Scored['byBehaviour'] = {}
    const samples: Scored['samples'] = []
    const counts = { defect: 0, fixed: 0, other: 0 }
    const scores: PairScore[] = []
    for (const pair of heldOut) {
      if (o.signal?.aborted) throw new Error('cancelled')
      const prompt = alpacaPrompt({ instruction: pair.instruction, input: pair.input })
      const answer = (await greedyAnswer(model, tokenizer, prompt, o.answerTokens, o.signal)).text.trim()
      const verdict = scoreAnswer(pair, answer)
      counts[verdict]++
      const b = (byBehaviour[pair.behaviour] ??= { pairs: 0, defect: 0, fixed: 0, other: 0 })
      b.pairs++
      b[verdict]++
      if (!samples.some((s) => s.behaviour === pair.behaviour)) samples.push({ behaviour: pair.behaviour, instruction: pair.instruction, input: pair.input, answer, verdict })
      scores.push({ pairId: scores.length, revised: scoreResponse(model, tokenizer, prompt, pair.revised_output), original: scoreResponse(model, tokenizer, prompt, pair.original_output) })
    }
    const n = heldOut.length
    return { pairs: n, defectRate: counts.defect / n, fixRate: counts.fixed / n, otherRate: counts.other / n, byBehaviour, marginPerToken: summarise(scores).marginPerToken, samples }
  } finally {
    model.dispose()
  }
}
