/**
 * Tokenizer adapter over a Hugging Face model folder (tokenizer.json + tokenizer_config.json),
 * built on @huggingface/tokenizers (pure JS), plus a file-free byte-level tokenizer for the
 * small demo models (byte-tokenizer.ts).
 *
 * What is read from the folder:
 *   - tokenizer.json (required): model, normalizer, pre-tokenizer, post-processor, decoder;
 *   - tokenizer_config.json (optional): bos_token / eos_token (string or {content}),
 *     add_bos_token / add_eos_token, chat_template (string or [{name, template}]),
 *     additional_special_tokens;
 *   - chat_template.jinja or chat_template.json (optional, newer transformers save these);
 *   - config.json / generation_config.json (optional): bos_token_id / eos_token_id when the
 *     tokenizer config does not name them.
 *
 * BOS/EOS on encode({ addSpecialTokens: true }): what tokenizer.json's post-processor adds,
 * except that an explicit boolean add_bos_token / add_eos_token in tokenizer_config.json wins
 * (as transformers' Llama-family fast tokenizers rebuild their post-processor from them).
 * decode() never applies clean_up_tokenization_spaces: the text is exactly what the tokens
 * spell, so that tokenTexts() can concatenate to it.
 */
import { Tokenizer } from '@huggingface/tokenizers'
import { readFile, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { planTokenTexts, replayDecoder, type PartialBytes, type TokenTextPlan } from './token-texts'

export { byteTokenizer, BYTE_EOS_ID, BYTE_VOCAB_SIZE } from './byte-tokenizer'
export type { PartialBytes } from './token-texts'

export interface TokenizerAdapter {
  name: string
  vocabSize: number
  eosId: number | null
  bosId: number | null
  eosToken: string | null
  chatTemplate: string | null
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[]
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string
  /**
   * Display text of each token. With the default partial: 'merge', joining them gives
   * exactly decode(ids, opts) for the decoders of byte-level BPE (GPT-2 family) and
   * SentencePiece-style tokenizer.json files (Llama/Mistral family: Replace ▁, ByteFallback,
   * Fuse, Strip, Metaspace); a character split over several tokens is shown on the token that
   * completes it and the earlier ones are ''. partial: 'hex' shows those bytes as <0xNN>.
   * Skipped special tokens are ''.
   */
  tokenTexts(ids: number[], opts?: { skipSpecialTokens?: boolean; partial?: PartialBytes }): string[]
  idToToken(id: number): string | undefined
}

/** A tokenizer folder or file that cannot be used; `path` names the offending file or folder. */
export class TokenizerLoadError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
    this.name = 'TokenizerLoadError'
  }
}

type Json = Record<string, unknown>

const WELL_KNOWN_EOS = ['</s>', '<|endoftext|>', '<eos>', '<|end_of_text|>']
const WELL_KNOWN_BOS = ['<s>', '<bos>', '<|begin_of_text|>', '<|startoftext|>']

async function readJsonIfExists(file: string): Promise<Json | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new TokenizerLoadError(`Cannot read ${file}: ${(err as Error).message}`, file)
  }
  try {
    const value = JSON.parse(text) as unknown
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Error('expected a JSON object')
    }
    return value as Json
  } catch (err) {
    throw new TokenizerLoadError(`${file} is not valid JSON: ${(err as Error).message}`, file)
  }
}

async function readTextIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new TokenizerLoadError(`Cannot read ${file}: ${(err as Error).message}`, file)
  }
}

/** Loads the tokenizer of a Hugging Face model folder. */
export async function loadTokenizer(dir: string): Promise<TokenizerAdapter> {
  const folder = resolve(dir)
  let info
  try {
    info = await stat(folder)
  } catch {
    throw new TokenizerLoadError(`Model folder not found: ${folder}`, folder)
  }
  if (!info.isDirectory()) throw new TokenizerLoadError(`Not a folder: ${folder} (expected a model folder containing tokenizer.json)`, folder)
  const tokenizerFile = join(folder, 'tokenizer.json')
  const tokenizerJson = await readJsonIfExists(tokenizerFile)
  if (!tokenizerJson) {
    const hints: string[] = []
    for (const other of ['tokenizer.model', 'vocab.json', 'merges.txt', 'vocab.txt']) {
      if (await readTextIfExists(join(folder, other)).catch(() => null)) hints.push(other)
    }
    const hint = hints.length
      ? ` The folder has ${hints.join(', ')}; only the fast-tokenizer format is supported: save it with transformers (AutoTokenizer.from_pretrained(...).save_pretrained(...)) to get tokenizer.json.`
      : ''
    throw new TokenizerLoadError(`No tokenizer.json in ${folder}.${hint}`, tokenizerFile)
  }
  const config = (await readJsonIfExists(join(folder, 'tokenizer_config.json'))) ?? {}
  const modelConfig = await readJsonIfExists(join(folder, 'config.json'))
  const generationConfig = await readJsonIfExists(join(folder, 'generation_config.json'))
  let chatTemplate = pickChatTemplate(config.chat_template)
  if (chatTemplate === null) chatTemplate = await readTextIfExists(join(folder, 'chat_template.jinja'))
  if (chatTemplate === null) {
    const ct = await readJsonIfExists(join(folder, 'chat_template.json'))
    chatTemplate = ct ? pickChatTemplate(ct.chat_template) : null
  }
  try {
    return tokenizerFromJson(tokenizerJson, config, {
      name: basename(folder),
      idSources: [generationConfig, modelConfig],
      chatTemplate,
    })
  } catch (err) {
    if (err instanceof TokenizerLoadError) throw err
    throw new TokenizerLoadError(`Cannot use ${tokenizerFile}: ${(err as Error).message}`, tokenizerFile)
  }
}

function pickChatTemplate(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) {
    const named = value.filter((t): t is { name: unknown; template: string } => !!t && typeof t === 'object' && typeof (t as Json).template === 'string')
    const def = named.find((t) => t.name === 'default') ?? named[0]
    return def ? def.template : null
  }
  return null
}

function tokenContent(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string
  return null
}

function firstId(value: unknown): number | null {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (Array.isArray(value) && typeof value[0] === 'number' && Number.isInteger(value[0])) return value[0]
  return null
}

/**
 * Builds an adapter from parsed tokenizer.json (and tokenizer_config.json) contents.
 * `idSources` are config.json-like objects consulted for bos_token_id / eos_token_id.
 */
export function tokenizerFromJson(
  tokenizerJson: Json,
  tokenizerConfig: Json | null = null,
  opts: { name?: string; idSources?: (Json | null)[]; chatTemplate?: string | null } = {},
): TokenizerAdapter {
  const config: Json = tokenizerConfig ?? {}
  if (!tokenizerJson || typeof tokenizerJson.model !== 'object' || tokenizerJson.model === null) {
    throw new Error('tokenizer.json has no "model" section')
  }
  // The library expects these keys to exist (null when absent).
  const tj: Json = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson }
  const tk = new Tokenizer(tj, config)
  const model = (tk as unknown as { model: { vocab: (string | undefined)[] } }).model
  const vocabSize = model.vocab.length

  const addedTokens = (Array.isArray(tj.added_tokens) ? tj.added_tokens : []) as { content: string; special?: boolean }[]
  const added = new Set(addedTokens.map((t) => t.content))
  // Mirror the library's own list (it is what decode(skip_special_tokens) filters on).
  const specialList: unknown = (tk as unknown as { special_tokens?: unknown }).special_tokens
  const special = new Set<string>(Array.isArray(specialList) ? specialList.filter((s): s is string => typeof s === 'string') : [])

  const idOf = (token: string | null): number | null => {
    if (token === null) return null
    const id = tk.token_to_id(token)
    return typeof id === 'number' ? id : null
  }
  const fromSources = (key: string): number | null => {
    for (const src of opts.idSources ?? []) {
      const id = src ? firstId(src[key]) : null
      if (id !== null && id >= 0 && id < vocabSize) return id
    }
    return null
  }
  const wellKnown = (names: string[]): number | null => {
    for (const name of names) if (added.has(name)) return idOf(name)
    return null
  }
  let eosId = idOf(tokenContent(config.eos_token))
  if (eosId === null) eosId = fromSources('eos_token_id')
  if (eosId === null) eosId = wellKnown(WELL_KNOWN_EOS)
  let bosId = idOf(tokenContent(config.bos_token))
  if (bosId === null) bosId = fromSources('bos_token_id')
  if (bosId === null) bosId = wellKnown(WELL_KNOWN_BOS)
  const eosToken = eosId === null ? null : (tk.id_to_token(eosId) ?? null)

  // Special tokens added around a single sequence: probe the post-processor once, then let
  // explicit add_bos_token / add_eos_token override.
  let prefix: number[] | null = null
  let suffix: number[] | null = null
  {
    const withSpecials = tk.encode('a', { add_special_tokens: true }).ids
    const without = tk.encode('a', { add_special_tokens: false }).ids
    const at = indexOfRun(withSpecials, without)
    if (without.length > 0 && at >= 0) {
      prefix = withSpecials.slice(0, at)
      suffix = withSpecials.slice(at + without.length)
      if (typeof config.add_bos_token === 'boolean') {
        prefix = prefix.filter((id) => id !== bosId)
        if (config.add_bos_token && bosId !== null) prefix.unshift(bosId)
      }
      if (typeof config.add_eos_token === 'boolean') {
        suffix = suffix.filter((id) => id !== eosId)
        if (config.add_eos_token && eosId !== null) suffix.push(eosId)
      }
    }
  }

  const plan: TokenTextPlan | null = planTokenTexts(tj.decoder, tj.model as { end_of_word_suffix?: unknown })

  const checkIds = (ids: number[]) => {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize || model.vocab[id] === undefined) {
        throw new RangeError(`token id ${id} is not in the vocabulary of ${opts.name ?? 'this tokenizer'} (size ${vocabSize})`)
      }
    }
  }
  const decode = (ids: number[], o?: { skipSpecialTokens?: boolean }): string => {
    checkIds(ids)
    if (ids.length === 0) return ''
    const skip = !!o?.skipSpecialTokens
    if (skip && ids.every((id) => special.has(model.vocab[id] as string))) return ''
    return tk.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: false })
  }

  return {
    name: opts.name ?? 'tokenizer',
    vocabSize,
    eosId,
    bosId,
    eosToken,
    chatTemplate: opts.chatTemplate !== undefined ? opts.chatTemplate : pickChatTemplate(config.chat_template),
    encode(text: string, o?: { addSpecialTokens?: boolean }): number[] {
      const addSpecial = o?.addSpecialTokens ?? true
      if (!addSpecial) return tk.encode(text, { add_special_tokens: false }).ids
      if (prefix === null || suffix === null) return tk.encode(text, { add_special_tokens: true }).ids
      const body = tk.encode(text, { add_special_tokens: false }).ids
      return [...prefix, ...body, ...suffix]
    },
    decode,
    tokenTexts(ids: number[], o?: { skipSpecialTokens?: boolean; partial?: PartialBytes }): string[] {
      checkIds(ids)
      const skip = !!o?.skipSpecialTokens
      const out: string[] = new Array(ids.length).fill('')
      const keep: number[] = []
      for (let t = 0; t < ids.length; t++) {
        if (!(skip && special.has(model.vocab[ids[t]] as string))) keep.push(t)
      }
      if (plan) {
        const texts = replayDecoder(plan, keep.map((t) => model.vocab[ids[t]] as string), added, o?.partial ?? 'merge')
        for (let k = 0; k < keep.length; k++) out[keep[k]] = texts[k]
      } else {
        for (const t of keep) out[t] = decode([ids[t]])
      }
      return out
    },
    idToToken(id: number): string | undefined {
      return Number.isInteger(id) && id >= 0 ? tk.id_to_token(id) : undefined
    },
  }
}

function indexOfRun(haystack: number[], needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}
