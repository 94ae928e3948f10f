// Chat message lists: parsing ({role, content} and ShareGPT {from, value}) and splitting a
// conversation into system text, earlier turns, the final user turn and the final response.

import { RowError, isBlank, isPlainObject, nonEmpty, typeName, type SourceObject } from './fields'
import type { Message } from './types'

const ROLES: Record<string, Message['role']> = {
  system: 'system',
  user: 'user',
  human: 'user',
  prompter: 'user',
  assistant: 'assistant',
  gpt: 'assistant',
  bot: 'assistant',
  model: 'assistant',
  chatgpt: 'assistant',
}

export interface Prompt {
  system: string | null
  history: Message[] | null
  instruction: string
}

/**
 * A message list as an array, or as a JSON string holding one (how CSV cells carry lists).
 * Items are {role, content}, ShareGPT {from, value}, or [question, answer] pairs.
 */
export function parseMessages(value: unknown, field: string): Message[] {
  if (value === undefined || value === null) throw new RowError(field, `${field} is missing`)
  const list = typeof value === 'string' ? parseJson(value, field) : value
  if (!Array.isArray(list)) {
    throw new RowError(field, `${field}: expected a list of {role, content} messages, got ${typeName(list)}`)
  }
  return list.flatMap((item, i) => (isTurnPair(item) ? turnPair(item) : [toMessage(item, field, `${field}[${i}]`)]))
}

/** LLaMA-Factory's Alpaca history: [["question", "answer"], ...]. */
function isTurnPair(item: unknown): item is [string, string] {
  return Array.isArray(item) && item.length === 2 && item.every((text) => typeof text === 'string')
}

function turnPair([question, answer]: [string, string]): Message[] {
  return [{ role: 'user', content: question }, { role: 'assistant', content: answer }]
}

/** An optional message list: absent, blank or [] give null. */
export function optionalMessages(record: SourceObject, field: string): Message[] | null {
  const value = record[field]
  if (isBlank(value)) return null
  const messages = parseMessages(value, field)
  return messages.length ? messages : null
}

/**
 * The raw list when `value` is a list of objects, or a string holding a JSON one; null when it
 * is anything else. Lenient on purpose: a text answer may well start with "[".
 */
export function asMessageList(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return value
  if (typeof value !== 'string') return null
  const text = value.trim()
  if (!text.startsWith('[{') || !text.endsWith(']')) return null
  try {
    const parsed: unknown = JSON.parse(text)
    return Array.isArray(parsed) && parsed.every(isPlainObject) ? parsed : null
  } catch {
    return null
  }
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new RowError(field, `${field}: expected a list of {role, content} messages, got a string that is not JSON`)
  }
}

function toMessage(item: unknown, field: string, path: string): Message {
  if (!isPlainObject(item)) throw new RowError(field, `${path}: expected a {role, content} object, got ${typeName(item)}`)
  const name = item.role ?? item.from
  const role = typeof name === 'string' ? ROLES[name.toLowerCase()] : undefined
  if (!role) {
    throw new RowError(field, `${path}.role: unknown role ${JSON.stringify(name ?? null)} (expected system, user/human or assistant/gpt)`)
  }
  const content = item.content ?? item.value
  if (typeof content !== 'string') throw new RowError(field, `${path}.content: expected a string, got ${typeName(content)}`)
  return { role, content }
}

/** Prompt turns → a leading system message, earlier turns (history) and the final user turn. */
export function splitPrompt(turns: Message[], field: string): Prompt {
  const hasSystem = turns[0]?.role === 'system'
  const rest = hasSystem ? turns.slice(1) : turns
  const last = rest.at(-1)
  if (last?.role !== 'user') {
    throw new RowError(field, `${field}: expected the prompt to end with a user message, got ${last ? `a ${last.role} message` : 'no message'}`)
  }
  return {
    system: hasSystem && turns[0].content !== '' ? turns[0].content : null, // '' → null, as for a system column
    history: rest.length > 1 ? rest.slice(0, -1) : null,
    instruction: nonEmpty(last.content, field, `${field}: the last user message`),
  }
}

/** Splits off the final assistant message (the response) from the turns before it. */
export function splitResponse(turns: Message[], field: string): { context: Message[]; response: string } {
  const last = turns.at(-1)
  if (last?.role !== 'assistant') {
    throw new RowError(field, `${field}: expected the last message to be from the assistant, got ${last ? `a ${last.role} message` : 'an empty list'}`)
  }
  return { context: turns.slice(0, -1), response: nonEmpty(last.content, field, `${field}: the last assistant message`) }
}

/** A whole conversation: its final assistant message is the response, the rest the prompt. */
export function splitConversation(turns: Message[], field: string): Prompt & { response: string } {
  const { context, response } = splitResponse(turns, field)
  return { ...splitPrompt(context, field), response }
}

export function sameMessages(a: Message[], b: Message[]): boolean {
  return a.length === b.length && a.every((m, i) => m.role === b[i].role && m.content === b[i].content)
}
