// Source record (canonical field names) → NormalizedRow, one function per shape.

import { RowError, isBlank, nonEmpty, optionalText, requiredText, typeName, type SourceObject } from './fields'
import { splitHhPair } from './hh'
import { asMessageList, optionalMessages, parseMessages, sameMessages, splitConversation, splitPrompt, splitResponse } from './messages'
import type { DatasetRow, Message, NormalizedRow, Shape, SourceRecord } from './types'

const NORMALIZERS: Record<Shape, (record: SourceObject) => NormalizedRow> = {
  spa: fromSpa,
  preference: fromPreference,
  hh: fromHh,
  alpaca: fromAlpaca,
  sharegpt: fromShareGpt,
}

/** Normalises one (already mapped) source record, turning field errors into a RowProblem. */
export function normalizeRecord(shape: Shape, record: SourceRecord): DatasetRow {
  const { index, location } = record
  if (!record.value) return { index, location, problem: record.problem }
  try {
    return { index, location, row: NORMALIZERS[shape](record.value) }
  } catch (error) {
    if (!(error instanceof RowError)) throw error
    return { index, location, problem: { index, location, field: error.field, reason: error.message } }
  }
}

function fromSpa(record: SourceObject): NormalizedRow {
  // A row with neither response but an `output` is an SFT row: toSpaRecord writes SFT rows that
  // way, so an export mixing pairs and SFT rows imports back as it was.
  if (isBlank(record.original_output) && isBlank(record.revised_output) && !isBlank(record.output)) {
    return fromAlpaca(record)
  }
  return {
    kind: 'pair',
    system: optionalText(record, 'system'),
    instruction: requiredText(record, 'instruction'),
    input: optionalText(record, 'input') ?? '',
    history: optionalMessages(record, 'history'),
    original: requiredText(record, 'original_output'),
    revised: requiredText(record, 'revised_output'),
    reference: optionalText(record, 'output'),
  }
}

function fromAlpaca(record: SourceObject): NormalizedRow {
  return {
    kind: 'sft',
    system: optionalText(record, 'system'),
    instruction: requiredText(record, 'instruction'),
    input: optionalText(record, 'input') ?? '',
    history: optionalMessages(record, 'history'),
    original: null,
    revised: requiredText(record, 'output'),
    reference: null,
  }
}

function fromShareGpt(record: SourceObject): NormalizedRow {
  const field = isBlank(record.conversations) ? 'messages' : 'conversations'
  const conversation = splitConversation(parseMessages(record[field], field), field)
  return {
    kind: 'sft',
    system: conversation.system ?? optionalText(record, 'system'),
    instruction: conversation.instruction,
    input: '',
    history: conversation.history,
    original: null,
    revised: conversation.response,
    reference: null,
  }
}

/** One side of a preference pair: a bare response, or a conversation that ends in one. */
interface Side { context: Message[] | null; response: string }

function fromPreference(record: SourceObject): NormalizedRow {
  const chosen = preferenceSide(record, 'chosen')
  const rejected = preferenceSide(record, 'rejected')
  if (chosen.context && rejected.context && !sameMessages(chosen.context, rejected.context)) {
    throw new RowError('rejected', 'chosen and rejected continue different conversations (their messages before the last differ)')
  }
  const prompt = splitPrompt(...preferenceContext(record, chosen, rejected))
  return {
    kind: 'pair',
    system: prompt.system ?? optionalText(record, 'system'),
    instruction: prompt.instruction,
    input: '',
    history: prompt.history,
    original: rejected.response,
    revised: chosen.response,
    reference: null,
  }
}

function preferenceSide(record: SourceObject, field: 'chosen' | 'rejected'): Side {
  const value = record[field]
  const list = asMessageList(value)
  if (list) {
    // A list may hold the whole conversation (UltraFeedback) or only the response (prompt separate).
    const { context, response } = splitResponse(parseMessages(list, field), field)
    return { context: context.length ? context : null, response }
  }
  if (typeof value === 'string') return { context: null, response: nonEmpty(value, field) }
  if (value === undefined || value === null) throw new RowError(field, `${field} is missing`)
  throw new RowError(field, `${field}: expected a string or a list of {role, content} messages, got ${typeName(value)}`)
}

/** The prompt turns: those the responses continue when they are conversations, else the prompt field. */
function preferenceContext(record: SourceObject, chosen: Side, rejected: Side): [Message[], string] {
  if (chosen.context) return [chosen.context, 'chosen']
  if (rejected.context) return [rejected.context, 'rejected']
  return [promptTurns(record), 'prompt']
}

/** The prompt field as turns: a string is one user turn; a message list is used as is. */
function promptTurns(record: SourceObject): Message[] {
  return asMessageList(record.prompt) ? parseMessages(record.prompt, 'prompt') : [{ role: 'user', content: requiredText(record, 'prompt') }]
}

function fromHh(record: SourceObject): NormalizedRow {
  const pair = splitHhPair(requiredText(record, 'chosen'), requiredText(record, 'rejected'))
  const prompt = splitPrompt(pair.prompt, 'chosen')
  return {
    kind: 'pair',
    system: prompt.system,
    instruction: prompt.instruction,
    input: '',
    history: prompt.history,
    original: nonEmpty(pair.rejected, 'rejected', 'rejected: the final assistant response'),
    revised: nonEmpty(pair.chosen, 'chosen', 'chosen: the final assistant response'),
    reference: null,
  }
}
