// The evaluation job: both models score the same held-out pairs (and optionally answer their
// prompts), one model at a time so that only one is in memory.
import type { BackendPreference, EvalModelSummary, EvalReport } from '../api/types'
import { ApiError } from '../api/errors'
import { initBackend, loadModel } from '../model'
import { loadTokenizer } from '../signals/tokenizer'
import { openDb } from '../store/db'
import { getEval, insertEval, type EvalRow } from '../store/evals'
import { splitExamples } from '../train'
import { greedyAnswer, scoreResponse, summarise, type PairScore } from '../eval/score'
import { loadExamples } from './examples'
import type { TaskContext } from './tasks'

export interface EvalTaskArgs {
  dataDir: string
  preference: BackendPreference
  models: { a: { id: number; name: string; path: string }; b: { id: number; name: string; path: string } }
  datasetId: number
  selectionId: number | null
  split: 'heldout' | 'all'
  heldOut: number
  seed: number
  limit?: number
  answerTokens: number
}

export async function runEval(args: EvalTaskArgs, ctx: TaskContext): Promise<EvalReport> {
  const db = openDb(args.dataDir)
  try {
    const all = loadExamples(db, args.datasetId, args.selectionId, 'figa')
    // The same held-out split training makes with this fraction and seed.
    let examples = args.split === 'heldout' ? splitExamples(all, args.heldOut, args.seed).eval : all
    if (args.limit) examples = examples.slice(0, args.limit)
    if (examples.length === 0) throw new ApiError('invalid_argument', 'no held-out pairs: raise the held-out fraction or evaluate all pairs')
    await initBackend(args.preference)
    const total = examples.length * 2
    const rows: EvalRow[] = []
    const summaries: Record<'a' | 'b', EvalModelSummary> = {} as Record<'a' | 'b', EvalModelSummary>
    for (const [index, side] of (['a', 'b'] as const).entries()) {
      const m = args.models[side]
      const [model, tokenizer] = await Promise.all([loadModel(m.path), loadTokenizer(m.path)])
      try {
        const scores: PairScore[] = []
        let answerTokens = 0
        for (const [i, ex] of examples.entries()) {
          if (ctx.signal.aborted) throw new ApiError('cancelled', 'cancelled')
          const score = { pairId: ex.id, revised: scoreResponse(model, tokenizer, ex.prompt, ex.revised), original: scoreResponse(model, tokenizer, ex.prompt, ex.original!) }
          scores.push(score)
          let answer: { tokens: number; text: string } | null = null
          if (args.answerTokens > 0) {
            answer = await greedyAnswer(model, tokenizer, ex.prompt, args.answerTokens, ctx.signal)
            answerTokens += answer.tokens
          }
          rows.push({
            pair_id: ex.id, side, logp_revised: score.revised.logp, tokens_revised: score.revised.tokens, logp_original: score.original.logp,
            tokens_original: score.original.tokens, answer_tokens: answer?.tokens ?? null, answer: answer?.text ?? null,
          })
          ctx.progress(index * examples.length + i + 1, total, 'pairs', `scoring with ${m.name}`)
          // Let a cancel message in between pairs.
          await new Promise((resolve) => setImmediate(resolve))
        }
        summaries[side] = { modelId: m.id, name: m.name, ...summarise(scores), answerTokens: args.answerTokens > 0 ? answerTokens / examples.length : null }
      } finally {
        model.dispose()
      }
    }
    const { dataDir: _d, preference: _p, models, ...settings } = args
    const id = insertEval(db, {
      modelA: models.a.id, modelB: models.b.id, nameA: models.a.name, nameB: models.b.name, datasetId: args.datasetId,
      settings, summary: { a: summaries.a, b: summaries.b, pairs: examples.length, split: args.split }, rows,
    })
    return getEval(db, id)!
  } finally {
    db.close()
  }
}
