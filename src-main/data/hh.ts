// Anthropic-HH transcripts: "\n\nHuman: ...\n\nAssistant: ..." strings where chosen and
// rejected repeat the same conversation and differ only in the final assistant turn.

import { RowError } from './fields'
import type { Message } from './types'

const ASSISTANT = '\n\nAssistant:'
const TURN = /(?:^|\n\n)(Human|Assistant):/

export interface HhPair {
  prompt: Message[]
  chosen: string
  rejected: string
}

/**
 * The prompt is the shared prefix of chosen and rejected up to the last "\n\nAssistant:" that
 * lies wholly inside it; each response is what follows, less its leading space.
 */
export function splitHhPair(chosen: string, rejected: string): HhPair {
  const shared = commonPrefixLength(chosen, rejected)
  const cut = chosen.lastIndexOf(ASSISTANT, shared - ASSISTANT.length)
  if (cut === -1 || cut + ASSISTANT.length > shared) {
    throw new RowError('chosen', 'chosen and rejected do not share a "\\n\\nAssistant:" turn (expected Anthropic-HH transcripts)')
  }
  const end = cut + ASSISTANT.length
  return {
    prompt: parseTranscript(chosen.slice(0, cut)),
    chosen: chosen.slice(end).trimStart(),
    rejected: rejected.slice(end).trimStart(),
  }
}

/** "\n\nHuman: a\n\nAssistant: b\n\nHuman: c" → user/assistant/user messages; text before the first turn → system. */
export function parseTranscript(text: string): Message[] {
  const parts = text.split(TURN) // [preamble, speaker, content, speaker, content, ...]
  const messages: Message[] = []
  const preamble = parts[0].trim()
  if (preamble) messages.push({ role: 'system', content: preamble })
  for (let i = 1; i < parts.length; i += 2) {
    messages.push({ role: parts[i] === 'Human' ? 'user' : 'assistant', content: parts[i + 1].trim() })
  }
  return messages
}

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length)
  let i = 0
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}
