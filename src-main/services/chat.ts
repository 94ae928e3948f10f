// Side-by-side chat: one message goes to both models, each answers in its own worker with its
// own history; blind turns hide which model is on which side until the vote.
import { randomInt } from 'node:crypto'
import { ApiError } from '../api/errors'
import type { ChatAnswer, ChatTurn, Conversation, ConversationSummary, GenerationResult, Message, PromptTemplate, SamplingSettings, VoteChoice } from '../api/types'
import { contentHash } from '../data'
import type { Db } from '../store/db'
import { createDataset, getDataset, findDatasetByName, touchDataset } from '../store/datasets'
import {
  deleteConversation, getConversation, getTurn, insertConversation, insertTurn, listConversations, listTurns, setAnswer, setVote, votes,
  type ConversationRecord, type TurnRecord,
} from '../store/chat'
import { getModel } from '../store/models'
import { getPair, pairInserter } from '../store/pairs'
import { winRates } from '../eval/win-rates'
import type { EventBus } from './events'
import type { JobManager } from './jobs'
import { backendPreference } from './models'

export class Chat {
  constructor(
    private readonly db: Db,
    private readonly jobs: JobManager,
    private readonly events: EventBus,
  ) {}

  list(): ConversationSummary[] {
    return listConversations(this.db).map(summary)
  }

  get(id: number): Conversation {
    const c = this.conversation(id)
    return { ...summary(c), history: listTurns(this.db, id).map((t) => toTurn(c, t)) }
  }

  create(r: { modelAId: number; modelBId: number | null; blind: boolean; template: PromptTemplate; system?: string; title?: string }): Conversation {
    const a = getModel(this.db, r.modelAId)
    if (!a) throw new ApiError('not_found', `no model with id ${r.modelAId}`)
    const b = r.modelBId === null ? null : getModel(this.db, r.modelBId)
    if (r.modelBId !== null && !b) throw new ApiError('not_found', `no model with id ${r.modelBId}`)
    if (r.blind && !b) throw new ApiError('invalid_argument', 'blind mode needs two models')
    if (r.template === 'chat' && (!a.hasChatTemplate || (b && !b.hasChatTemplate))) {
      throw new ApiError('invalid_argument', `${!a.hasChatTemplate ? a.name : b!.name} has no chat template: use the Alpaca or raw template`)
    }
    const title = r.title ?? (b ? `${a.name} vs ${b.name}` : a.name)
    const id = insertConversation(this.db, { title, modelA: a.id, modelB: b?.id ?? null, blind: r.blind, template: r.template, system: r.system ?? null })
    return this.get(id)
  }

  remove(id: number): boolean {
    return deleteConversation(this.db, id)
  }

  /** Starts both answers; tokens stream as generate.token events of the returned jobs. */
  send(conversationId: number, text: string, sampling: SamplingSettings, samplingRight?: SamplingSettings): { turn: ChatTurn; jobs: { left: string; right: string | null } } {
    const c = this.conversation(conversationId)
    const earlier = listTurns(this.db, conversationId)
    const swapped = c.blind === 1 && randomInt(2) === 1
    const turnId = insertTurn(this.db, { conversationId, user: text, twoSided: c.model_b !== null, swapped })
    // Settings belong to the side the user sees; map them to the models behind the sides.
    const forModel = (model: 'a' | 'b') => ((model === 'a') !== swapped ? sampling : (samplingRight ?? sampling))
    const jobA = this.answer(c, turnId, 'a', text, historyOf(earlier, 'a'), forModel('a'))
    const jobB = c.model_b === null ? null : this.answer(c, turnId, 'b', text, historyOf(earlier, 'b'), forModel('b'))
    return { turn: toTurn(c, getTurn(this.db, turnId)!), jobs: swapped ? { left: jobB!, right: jobA } : { left: jobA, right: jobB } }
  }

  vote(turnId: number, choice: VoteChoice): ChatTurn {
    const { c, t } = this.turn(turnId)
    if (c.model_b === null) throw new ApiError('invalid_argument', 'a conversation with one model has nothing to vote on')
    if (t.state_a === 'streaming' || t.state_b === 'streaming') throw new ApiError('conflict', 'wait for both answers before voting')
    const leftIs = t.swapped ? 'b' : 'a'
    const rightIs = t.swapped ? 'a' : 'b'
    setVote(this.db, turnId, choice === 'tie' ? 'tie' : choice === 'left' ? leftIs : rightIs)
    return toTurn(c, getTurn(this.db, turnId)!)
  }

  winRates() {
    return winRates(votes(this.db).map((v) => ({ a: { id: v.model_a, name: v.name_a }, b: { id: v.model_b, name: v.name_b }, winner: v.vote })))
  }

  /** A new pair from an answer and the user's edit of it, in an existing or a new dataset. */
  revise(r: { turnId: number; side: 'left' | 'right'; revised: string; datasetId?: number; newDataset?: string }) {
    const { c, t } = this.turn(r.turnId)
    const model: 'a' | 'b' = (r.side === 'left') !== (t.swapped === 1) ? 'a' : 'b'
    if (model === 'b' && c.model_b === null) throw new ApiError('invalid_argument', 'this conversation has no right side')
    const original = model === 'a' ? t.answer_a : t.answer_b!
    if ((model === 'a' ? t.state_a : t.state_b) === 'streaming') throw new ApiError('conflict', 'wait for the answer to finish before revising it')
    if (original.trim() === '') throw new ApiError('invalid_argument', 'the answer is empty: there is nothing to revise')
    const history = historyOf(listTurns(this.db, c.id).filter((x) => x.position < t.position), model)
    const row = { kind: 'pair' as const, system: c.system, instruction: t.user_text, input: '', history: history.length ? history : null, original, revised: r.revised, reference: null }
    const pairId = this.db.transaction(() => {
      const datasetId = r.datasetId ?? this.newDataset(r.newDataset!)
      if (!getDataset(this.db, datasetId)) throw new ApiError('not_found', `no dataset with id ${datasetId}`)
      const id = pairInserter(this.db, datasetId).insert(row, contentHash(row), `chat ${c.id}, turn ${t.position + 1}`)
      touchDataset(this.db, datasetId)
      return id
    })()
    this.events.emit('datasets.changed', { datasetId: null })
    return getPair(this.db, pairId)!
  }

  private newDataset(name: string): number {
    if (findDatasetByName(this.db, name)) throw new ApiError('conflict', `a dataset named "${name}" exists already: choose it, or another name`)
    return createDataset(this.db, { name, sourceName: 'chat', sourceFormat: null, shape: 'spa', mapping: null })
  }

  private answer(c: ConversationRecord, turnId: number, model: 'a' | 'b', text: string, history: Message[], sampling: SamplingSettings): string {
    const m = getModel(this.db, model === 'a' ? c.model_a : c.model_b!)!
    const { jobId, finished } = this.jobs.start('chat.send', `Chat: ${m.name}`, 'generate', {
      preference: backendPreference(this.db), modelDir: m.path, prompt: text, input: '', system: c.system ?? undefined, history, template: c.template, ...sampling,
    })
    finished.then(
      (r) => setAnswer(this.db, turnId, model, (r as GenerationResult).text, (r as GenerationResult).finishReason === 'aborted' ? 'stopped' : 'done'),
      (e: ApiError) => setAnswer(this.db, turnId, model, e.code === 'cancelled' ? '' : `⚠ ${e.message}`, e.code === 'cancelled' ? 'stopped' : 'failed'),
    )
    return jobId
  }

  private conversation(id: number): ConversationRecord {
    const c = getConversation(this.db, id)
    if (!c) throw new ApiError('not_found', `no conversation with id ${id}`)
    return c
  }

  private turn(id: number): { c: ConversationRecord; t: TurnRecord } {
    const t = getTurn(this.db, id)
    if (!t) throw new ApiError('not_found', `no turn with id ${id}`)
    return { c: this.conversation(t.conversation_id), t }
  }
}

/** One model's side of the conversation so far, as chat messages. */
function historyOf(turns: TurnRecord[], model: 'a' | 'b'): Message[] {
  return turns.flatMap((t) => {
    const answer = model === 'a' ? t.answer_a : (t.answer_b ?? '')
    return [{ role: 'user' as const, content: t.user_text }, { role: 'assistant' as const, content: answer }]
  })
}

function summary(c: ConversationRecord): ConversationSummary {
  return {
    id: c.id, title: c.title, modelA: { id: c.model_a, name: c.name_a }, modelB: c.model_b === null ? null : { id: c.model_b, name: c.name_b! },
    blind: c.blind === 1, template: c.template, system: c.system, turns: c.turns, updatedAt: c.updated_at,
  }
}

function toTurn(c: ConversationRecord, t: TurnRecord): ChatTurn {
  const revealed = c.blind === 0 || t.vote !== null
  const side = (model: 'a' | 'b'): ChatAnswer => ({
    text: model === 'a' ? t.answer_a : (t.answer_b ?? ''),
    state: (model === 'a' ? t.state_a : t.state_b) ?? 'done',
    modelId: revealed ? (model === 'a' ? c.model_a : c.model_b) : null,
    modelName: revealed ? (model === 'a' ? c.name_a : c.name_b) : null,
  })
  const [left, right] = t.swapped ? ['b', 'a'] as const : ['a', 'b'] as const
  const vote = t.vote === null ? null : t.vote === 'tie' ? 'tie' : t.vote === left ? 'left' : 'right'
  return { id: t.id, position: t.position, user: t.user_text, left: side(left), right: c.model_b === null ? null : side(right), vote, revealed, createdAt: t.created_at }
}
