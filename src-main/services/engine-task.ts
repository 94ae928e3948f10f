// Model work inside a worker: report the backend, and generate text with streamed tokens.
import { basename } from 'node:path'
import type { BackendPreference, GenerationResult, Message, PromptTemplate, SamplingSettings } from '../api/types'
import { ApiError } from '../api/errors'
import { initBackend, loadModel, loadChatTemplate, promptMessages, renderChat, alpacaPrompt, streamGenerate, type BackendInfo } from '../model'
import { loadTokenizer } from '../signals/tokenizer'
import type { TaskContext } from './tasks'

export function runEngineInfo(args: { preference: BackendPreference }): Promise<BackendInfo> {
  return initBackend(args.preference)
}

export interface GenerateTaskArgs extends SamplingSettings {
  preference: BackendPreference
  modelDir: string
  prompt: string
  input: string
  system?: string
  /** Earlier turns of a conversation (user and assistant messages, in order). */
  history?: Message[]
  template: PromptTemplate
}

export async function runGenerate(a: GenerateTaskArgs, ctx: TaskContext): Promise<GenerationResult> {
  const backend = await initBackend(a.preference)
  ctx.progress(0, 1, 'steps', `loading ${basename(a.modelDir)}`)
  const [tokenizer, model] = await Promise.all([loadTokenizer(a.modelDir), loadModel(a.modelDir)])
  try {
    const text = await promptText(a)
    const promptIds = tokenizer.encode(text, { addSpecialTokens: a.template !== 'chat' })
    ctx.progress(1, 1, 'steps', 'generating')
    const stream = streamGenerate(model, promptIds, {
      maxNewTokens: a.maxNewTokens,
      temperature: a.temperature,
      topK: a.topK,
      topP: a.topP,
      repetitionPenalty: a.repetitionPenalty,
      seed: a.seed,
      stopStrings: a.stop,
      eosTokenIds: tokenizer.eosId !== null ? [tokenizer.eosId] : undefined,
      decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      signal: ctx.signal,
    })
    for (;;) {
      const next = await stream.next()
      if (next.done) {
        const r = next.value
        return {
          text: r.text ?? '', tokens: r.tokens.length, finishReason: r.finishReason, promptTokens: r.promptTokens,
          prefillMs: r.prefillMs, tokensPerSecond: r.tokensPerSecond, backend: backend.name,
        }
      }
      ctx.emit('generate.token', { index: next.value.index, token: next.value.token, text: next.value.text })
    }
  } finally {
    model.dispose()
  }
}

/**
 * The prompt as the model sees it: FIGA's Alpaca template, the model's chat template, or as
 * typed. Earlier turns come first: as chat messages, or as completed Alpaca exchanges.
 */
async function promptText(a: GenerateTaskArgs): Promise<string> {
  const history = a.history ?? []
  if (a.template === 'raw') return [...history.map((m) => m.content), a.input ? `${a.prompt}\n\n${a.input}` : a.prompt].join('\n\n')
  if (a.template === 'alpaca') {
    const exchanges = pairUp(history).map(([user, answer], i) => `${alpacaPrompt({ instruction: user, system: i === 0 ? a.system : undefined })} ${answer}\n\n`)
    return exchanges.join('') + alpacaPrompt({ instruction: a.prompt, input: a.input, system: exchanges.length ? undefined : a.system })
  }
  const chat = await loadChatTemplate(a.modelDir)
  if (!chat) throw new ApiError('invalid_argument', `${basename(a.modelDir)} has no chat template: use the Alpaca or raw template`)
  const [system, ...last] = promptMessages({ instruction: a.prompt, input: a.input, system: a.system })
  const head = system.role === 'system' ? [system] : []
  const tail = system.role === 'system' ? last : [system, ...last]
  return renderChat(chat, [...head, ...history, ...tail])
}

/** [user, assistant] exchanges of a history (an unanswered user message is dropped). */
function pairUp(history: Message[]): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (let i = 0; i + 1 < history.length; i++) {
    if (history[i].role === 'user' && history[i + 1].role === 'assistant') out.push([history[i].content, history[++i].content])
  }
  return out
}
