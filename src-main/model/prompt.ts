// Prompt formatting: the Alpaca template of the official FIGA code (DESIGN §1) and Hugging Face chat
// templates (tokenizer_config.json `chat_template`, rendered with @huggingface/jinja).

import { Template } from '@huggingface/jinja'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'

export interface AlpacaPrompt {
  instruction: string
  input?: string | null
  /** optional system text, put before the template followed by a blank line (not part of the official template) */
  system?: string | null
}

const ALPACA_WITH_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:'
const ALPACA_NO_INPUT =
  'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:'

/** The Alpaca prompt, ending in "### Response:" (no trailing space). */
export function alpacaPrompt(p: AlpacaPrompt): string {
  const hasInput = typeof p.input === 'string' && p.input.length > 0
  const body = hasInput
    ? ALPACA_WITH_INPUT.replace('{instruction}', () => p.instruction).replace('{input}', () => p.input as string)
    : ALPACA_NO_INPUT.replace('{instruction}', () => p.instruction)
  return p.system ? `${p.system}\n\n${body}` : body
}

/** The text that follows the prompt in training: ' ' + response + eos. */
export function alpacaResponse(response: string, eosToken: string): string {
  return ` ${response}${eosToken}`
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string
  content: string
}

export interface ChatTemplateInfo {
  template: string
  bosToken: string | null
  eosToken: string | null
  padToken: string | null
  unkToken: string | null
}

function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content
  return null
}

/**
 * The chat template of a model folder: chat_template.jinja, chat_template.json, or
 * tokenizer_config.json `chat_template` (a string, or a list of {name, template}: 'default' is used,
 * or `name`). Null when the model has none.
 */
export async function loadChatTemplate(dir: string, name?: string): Promise<ChatTemplateInfo | null> {
  let cfg: Record<string, unknown> = {}
  const tc = path.join(dir, 'tokenizer_config.json')
  if (fs.existsSync(tc)) {
    try {
      cfg = JSON.parse(await fsp.readFile(tc, 'utf8'))
    } catch {
      throw new Error('tokenizer_config.json is not valid JSON')
    }
  }
  let template: string | null = null
  const jinja = path.join(dir, 'chat_template.jinja')
  const json = path.join(dir, 'chat_template.json')
  if (fs.existsSync(jinja)) template = await fsp.readFile(jinja, 'utf8')
  else if (fs.existsSync(json)) template = pickTemplate(JSON.parse(await fsp.readFile(json, 'utf8')).chat_template, name)
  else template = pickTemplate(cfg.chat_template, name)
  if (!template) return null
  return {
    template,
    bosToken: tokenText(cfg.bos_token),
    eosToken: tokenText(cfg.eos_token),
    padToken: tokenText(cfg.pad_token),
    unkToken: tokenText(cfg.unk_token),
  }
}

function pickTemplate(v: unknown, name?: string): string | null {
  if (typeof v === 'string') return v
  if (Array.isArray(v)) {
    const list = v as { name?: string; template?: string }[]
    const want = name ?? 'default'
    const hit = list.find((t) => t.name === want) ?? (name ? undefined : list[0])
    if (!hit && name) throw new Error(`the chat template "${name}" does not exist (have: ${list.map((t) => t.name).join(', ')})`)
    return typeof hit?.template === 'string' ? hit.template : null
  }
  return null
}

const compiled = new Map<string, Template>()

export interface RenderOptions {
  /** end with the header of an assistant turn (default true) */
  addGenerationPrompt?: boolean
  /** more template variables (tools, date_string, …) */
  extra?: Record<string, unknown>
}

/** Render messages with a chat template, as transformers' apply_chat_template(tokenize=False). */
export function renderChat(info: ChatTemplateInfo, messages: ChatMessage[], opts: RenderOptions = {}): string {
  let t = compiled.get(info.template)
  if (!t) {
    try {
      t = new Template(info.template)
    } catch (e) {
      throw new Error(`the chat template does not parse: ${(e as Error).message}`)
    }
    compiled.set(info.template, t)
  }
  return t.render({
    messages,
    add_generation_prompt: opts.addGenerationPrompt ?? true,
    bos_token: info.bosToken ?? '',
    eos_token: info.eosToken ?? '',
    pad_token: info.padToken ?? '',
    unk_token: info.unkToken ?? '',
    ...(opts.extra ?? {}),
  })
}

/** A FIGA prompt as chat messages (system, then the instruction with its input). */
export function promptMessages(p: AlpacaPrompt): ChatMessage[] {
  const msgs: ChatMessage[] = []
  if (p.system) msgs.push({ role: 'system', content: p.system })
  const user = p.input ? `${p.instruction}\n\n${p.input}` : p.instruction
  msgs.push({ role: 'user', content: user })
  return msgs
}
