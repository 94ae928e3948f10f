// Model work inside a worker: report the backend, and generate text with streamed tokens.
import { basename } from 'node:path'
import type { BackendPreference, GenerationResult, PromptTemplate, SamplingSettings } from '../api/types'
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

/** The prompt as the model sees it: FIGA's Alpaca template, the model's chat template, or as typed. */
async function promptText(a: GenerateTaskArgs): Promise<string> {
  if (a.template === 'raw') return a.input ? `${a.prompt}\n\n${a.input}` : a.prompt
  if (a.template === 'alpaca') return alpacaPrompt({ instruction: a.prompt, input: a.input, system: a.system })
  const chat = await loadChatTemplate(a.modelDir)
  if (!chat) throw new ApiError('invalid_argument', `${basename(a.modelDir)} has no chat template: use the Alpaca or raw template`)
  return renderChat(chat, promptMessages({ instruction: a.prompt, input: a.input, system: a.system }))
}
