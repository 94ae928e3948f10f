/**
 * Per-token display texts that concatenate to the tokenizer's decode().
 *
 * @huggingface/tokenizers decodes a whole list of token strings through the decoder pipeline
 * of tokenizer.json (ByteLevel, ByteFallback, Replace, Fuse, Strip, Metaspace, …). Splitting
 * that result back into tokens is not possible in general (a character may be spread over
 * several byte tokens), so we replay the same pipeline while keeping one output string per
 * token. Byte streams are decoded with a streaming TextDecoder: a character whose bytes span
 * several tokens is attributed to the token that completes it, and the tokens before it get
 * '' (mode 'merge', the default: concatenation equals decode()). In mode 'hex' each token is
 * decoded on its own and bytes that do not form a whole character inside the token are shown
 * as <0xNN> (what one wants on a token chip; the concatenation then differs from decode()
 * exactly where characters are split).
 */

export type PartialBytes = 'merge' | 'hex'

interface DecoderStep {
  type: string
  [key: string]: unknown
}

/** The decoder pipeline we can replay token by token, or null when it has a step we cannot. */
export interface TokenTextPlan {
  steps: DecoderStep[]
}

const SUPPORTED = new Set(['ByteLevel', 'ByteFallback', 'Replace', 'Fuse', 'Strip', 'Metaspace', 'WordPiece', 'BPEDecoder'])

export function planTokenTexts(decoder: unknown, model: { end_of_word_suffix?: unknown } | undefined): TokenTextPlan | null {
  if (model && typeof model.end_of_word_suffix === 'string' && model.end_of_word_suffix !== '') return null
  const steps: DecoderStep[] = []
  const visit = (d: unknown): boolean => {
    if (d === null || d === undefined) return true
    if (typeof d !== 'object') return false
    const step = d as DecoderStep
    if (step.type === 'Sequence') {
      const list = (step as { decoders?: unknown }).decoders
      return Array.isArray(list) && list.every(visit)
    }
    if (!SUPPORTED.has(step.type)) return false
    if (step.type === 'Replace') {
      const pattern = step.pattern as { String?: unknown } | undefined
      if (!pattern || typeof pattern.String !== 'string') return false
    }
    if (step.type === 'WordPiece' && step.cleanup) return false
    steps.push(step)
    return true
  }
  return visit(decoder) ? { steps } : null
}

/**
 * GPT-2's bytes_to_unicode: the character that stands for each byte (index) in byte-level BPE
 * vocabularies — the printable bytes themselves, the others mapped to U+0100 on, in byte order.
 */
export function byteLevelChars(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff)
  let next = 256
  return Array.from({ length: 256 }, (_, b) => String.fromCharCode(printable(b) ? b : next++))
}

const BYTE_OF_CHAR: Map<string, number> = new Map(byteLevelChars().map((ch, b) => [ch, b]))

function byteLevelBytes(token: string): Uint8Array {
  const chars = [...token]
  const out = new Uint8Array(chars.length)
  for (let i = 0; i < chars.length; i++) out[i] = BYTE_OF_CHAR.get(chars[i]) ?? 0
  return out
}

function fallbackByte(token: string): number | null {
  if (token.length === 6 && token.startsWith('<0x') && token.endsWith('>')) {
    const byte = parseInt(token.slice(3, 5), 16)
    if (!Number.isNaN(byte)) return byte
  }
  return null
}

function hex(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`
}

/**
 * Decodes the bytes of one token alone: complete UTF-8 sequences become text, anything else
 * <0xNN>. (Invalid sequences inside a token are shown as hex as well.)
 */
export function bytesToHexText(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  while (i < bytes.length) {
    const b = bytes[i]
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (len > 0 && i + len <= bytes.length) {
      try {
        out += strict.decode(bytes.subarray(i, i + len))
        i += len
        continue
      } catch {
        // fall through to hex
      }
    }
    out += hex(b)
    i++
  }
  return out
}

/**
 * Groups consecutive tokens selected by `isBytes` and decodes each group as one byte stream,
 * writing one string per token into `parts`.
 */
function decodeByteGroups(
  parts: string[],
  bytesOf: (i: number) => Uint8Array | null,
  decoderOptions: TextDecoderOptions,
  partial: PartialBytes,
): void {
  let dec: TextDecoder | null = null
  let last = -1
  const close = () => {
    if (dec && last >= 0) parts[last] += dec.decode()
    dec = null
    last = -1
  }
  for (let i = 0; i < parts.length; i++) {
    const bytes = bytesOf(i)
    if (bytes === null) {
      close()
      continue
    }
    if (partial === 'hex') {
      parts[i] = bytesToHexText(bytes)
      continue
    }
    if (!dec) dec = new TextDecoder('utf-8', decoderOptions)
    parts[i] = dec.decode(bytes, { stream: true })
    last = i
  }
  close()
}

/**
 * Replays `plan` on the token strings of `tokens` (already filtered of skipped specials).
 * `added` holds the contents of added tokens (ByteLevel leaves them as they are).
 */
export function replayDecoder(plan: TokenTextPlan, tokens: string[], added: ReadonlySet<string>, partial: PartialBytes): string[] {
  const parts = tokens.slice()
  let fused = false
  for (const step of plan.steps) {
    switch (step.type) {
      case 'ByteLevel': {
        const raw = parts.slice()
        decodeByteGroups(parts, (i) => (added.has(raw[i]) ? null : byteLevelBytes(raw[i])), { ignoreBOM: true }, partial)
        break
      }
      case 'ByteFallback': {
        const raw = parts.slice()
        decodeByteGroups(
          parts,
          (i) => {
            const b = fallbackByte(raw[i])
            return b === null ? null : Uint8Array.of(b)
          },
          {},
          partial,
        )
        break
      }
      case 'Replace': {
        const from = (step.pattern as { String: string }).String
        const to = typeof step.content === 'string' ? step.content : ''
        if (from === '') break
        if (fused && from.length > 1) return joinFallback(parts)
        for (let i = 0; i < parts.length; i++) parts[i] = parts[i].replaceAll(from, to)
        break
      }
      case 'Fuse':
        fused = true
        break
      case 'Strip': {
        const content = typeof step.content === 'string' ? step.content : ''
        const start = typeof step.start === 'number' ? step.start : 0
        const stop = typeof step.stop === 'number' ? step.stop : 0
        if (fused) stripFused(parts, content, start, stop)
        else for (let i = 0; i < parts.length; i++) parts[i] = stripOne(parts[i], content, start, stop)
        break
      }
      case 'Metaspace': {
        const replacement = typeof step.replacement === 'string' ? step.replacement : '\u2581'
        for (let i = 0; i < parts.length; i++) parts[i] = parts[i].replaceAll(replacement, ' ')
        // The library strips one leading space from the first element of its list, which is
        // the whole text once fused.
        if (fused) stripFused(parts, ' ', 1, 0)
        else if (parts.length > 0 && parts[0].startsWith(' ')) parts[0] = parts[0].substring(1)
        break
      }
      case 'WordPiece': {
        if (fused) return joinFallback(parts)
        const prefix = typeof step.prefix === 'string' ? step.prefix : ''
        for (let i = 1; i < parts.length; i++) {
          parts[i] = prefix && parts[i].startsWith(prefix) ? parts[i].replace(prefix, '') : ' ' + parts[i]
        }
        break
      }
      case 'BPEDecoder': {
        if (fused) return joinFallback(parts)
        const suffix = typeof step.suffix === 'string' ? step.suffix : ''
        if (suffix === '') break
        for (let i = 0; i < parts.length; i++) parts[i] = parts[i].replaceAll(suffix, i === parts.length - 1 ? '' : ' ')
        break
      }
      default:
        return joinFallback(parts)
    }
  }
  return parts
}

function joinFallback(parts: string[]): string[] {
  // Should not happen for plans accepted by planTokenTexts; keep the texts we have.
  return parts
}

function stripOne(token: string, content: string, start: number, stop: number): string {
  let startCut = 0
  for (let i = 0; i < start; i++) {
    if (token[i] === content) startCut = i + 1
    else break
  }
  let stopCut = token.length
  for (let i = 0; i < stop; i++) {
    const index = token.length - i - 1
    if (token[index] === content) stopCut = index
    else break
  }
  return token.slice(startCut, Math.max(startCut, stopCut))
}

/** Strip applied to the concatenation of `parts`, removing the characters from the parts. */
function stripFused(parts: string[], content: string, start: number, stop: number): void {
  let left = start
  for (let i = 0; i < parts.length && left > 0; i++) {
    let cut = 0
    while (left > 0 && cut < parts[i].length && parts[i][cut] === content) {
      cut++
      left--
    }
    parts[i] = parts[i].slice(cut)
    if (parts[i].length > 0) break // a non-stripped character: stop
  }
  left = stop
  for (let i = parts.length - 1; i >= 0 && left > 0; i--) {
    let end = parts[i].length
    while (left > 0 && end > 0 && parts[i][end - 1] === content) {
      end--
      left--
    }
    parts[i] = parts[i].slice(0, end)
    if (parts[i].length > 0) break
  }
}
