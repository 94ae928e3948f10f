// Conversations, their turns and votes.
import type { AnswerState, PromptTemplate } from '../api/types'
import { now, type Db } from './db'

export interface ConversationRecord {
  id: number
  title: string
  model_a: number
  model_b: number | null
  name_a: string
  name_b: string | null
  blind: number
  template: PromptTemplate
  system: string | null
  turns: number
  created_at: string
  updated_at: string
}

export interface TurnRecord {
  id: number
  conversation_id: number
  position: number
  user_text: string
  answer_a: string
  answer_b: string | null
  state_a: AnswerState
  state_b: AnswerState | null
  swapped: number
  vote: 'a' | 'b' | 'tie' | null
  voted_at: string | null
  created_at: string
}

const CONVERSATION_SQL = `
  SELECT c.*, ma.name AS name_a, mb.name AS name_b, (SELECT count(*) FROM turns t WHERE t.conversation_id = c.id) AS turns
  FROM conversations c JOIN models ma ON ma.id = c.model_a LEFT JOIN models mb ON mb.id = c.model_b`

export function listConversations(db: Db): ConversationRecord[] {
  return db.prepare(`${CONVERSATION_SQL} ORDER BY c.updated_at DESC, c.id DESC`).all() as ConversationRecord[]
}

export function getConversation(db: Db, id: number): ConversationRecord | undefined {
  return db.prepare(`${CONVERSATION_SQL} WHERE c.id = ?`).get(id) as ConversationRecord | undefined
}

export function insertConversation(db: Db, c: { title: string; modelA: number; modelB: number | null; blind: boolean; template: PromptTemplate; system: string | null }): number {
  const t = now()
  return Number(
    db.prepare('INSERT INTO conversations (title, model_a, model_b, blind, template, system, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.title, c.modelA, c.modelB, c.blind ? 1 : 0, c.template, c.system, t, t).lastInsertRowid,
  )
}

export function deleteConversation(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM conversations WHERE id = ?').run(id).changes > 0
}

export function listTurns(db: Db, conversationId: number): TurnRecord[] {
  return db.prepare('SELECT * FROM turns WHERE conversation_id = ? ORDER BY position').all(conversationId) as TurnRecord[]
}

export function getTurn(db: Db, id: number): TurnRecord | undefined {
  return db.prepare('SELECT * FROM turns WHERE id = ?').get(id) as TurnRecord | undefined
}

export function insertTurn(db: Db, t: { conversationId: number; user: string; twoSided: boolean; swapped: boolean }): number {
  return db.transaction(() => {
    const position = db.prepare('SELECT coalesce(max(position), -1) + 1 FROM turns WHERE conversation_id = ?').pluck().get(t.conversationId) as number
    const stamp = now()
    db.prepare('UPDATE conversations SET updated_at = ? WHERE id = ?').run(stamp, t.conversationId)
    return Number(
      db.prepare(`INSERT INTO turns (conversation_id, position, user_text, answer_b, state_b, swapped, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(t.conversationId, position, t.user, t.twoSided ? '' : null, t.twoSided ? 'streaming' : null, t.swapped ? 1 : 0, stamp).lastInsertRowid,
    )
  })()
}

export function setAnswer(db: Db, turnId: number, model: 'a' | 'b', text: string, state: AnswerState): void {
  db.prepare(`UPDATE turns SET answer_${model} = ?, state_${model} = ? WHERE id = ?`).run(text, state, turnId)
}

export function setVote(db: Db, turnId: number, vote: 'a' | 'b' | 'tie'): void {
  db.prepare('UPDATE turns SET vote = ?, voted_at = ? WHERE id = ?').run(vote, now(), turnId)
}

/** Every voted turn of a two-model conversation: the models and the vote. */
export function votes(db: Db): Array<{ model_a: number; model_b: number; name_a: string; name_b: string; vote: 'a' | 'b' | 'tie' }> {
  return db
    .prepare(`
      SELECT c.model_a, c.model_b, ma.name AS name_a, mb.name AS name_b, t.vote
      FROM turns t JOIN conversations c ON c.id = t.conversation_id
      JOIN models ma ON ma.id = c.model_a JOIN models mb ON mb.id = c.model_b
      WHERE t.vote IS NOT NULL`)
    .all() as Array<{ model_a: number; model_b: number; name_a: string; name_b: string; vote: 'a' | 'b' | 'tie' }>
}
