/**
 * A byte-level tokenizer for the small demo models: ids 0–255 are the UTF-8 bytes of the
 * text, 256 is <eos>. No files, no merges, deterministic; encode never adds BOS/EOS (like
 * GPT-2), and the literal text "<eos>" in the input encodes to the EOS id (as added special
 * tokens do in Hugging Face tokenizers), which is what a rendered chat template needs.
 */
import { bytesToHexText, type PartialBytes } from './token-texts'
import type { TokenizerAdapter } from './tokenizer'

export const BYTE_EOS_ID = 256
export const BYTE_VOCAB_SIZE = 257
const EOS_TEXT = '<eos>'

function byteTokenName(id: number): string | undefined {
  if (id === BYTE_EOS_ID) return EOS_TEXT
  if (!Number.isInteger(id) || id < 0 || id > 255) return undefined
  return id >= 0x21 && id <= 0x7e ? String.fromCharCode(id) : `<0x${id.toString(16).toUpperCase().padStart(2, '0')}>`
}

function check(ids: number[]): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= BYTE_VOCAB_SIZE) {
      throw new RangeError(`token id ${id} is not in the vocabulary of the byte tokenizer (size ${BYTE_VOCAB_SIZE})`)
    }
  }
}

export function byteTokenizer(): TokenizerAdapter {
  const encoder = new TextEncoder()
  return {
    name: 'bytes',
    vocabSize: BYTE_VOCAB_SIZE,
    eosId: BYTE_EOS_ID,
    bosId: null,
    eosToken: EOS_TEXT,
    chatTemplate: null,
    encode(text: string): number[] {
      const ids: number[] = []
      const pieces = text.split(EOS_TEXT)
      for (let p = 0; p < pieces.length; p++) {
        if (p > 0) ids.push(BYTE_EOS_ID)
        for (const b of encoder.encode(pieces[p])) ids.push(b)
      }
      return ids
    },
    decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string {
      check(ids)
      let out = ''
      const dec = new TextDecoder('utf-8', { ignoreBOM: true })
      let run: number[] = []
      const flush = () => {
        if (run.length) out += dec.decode(Uint8Array.from(run))
        run = []
      }
      for (const id of ids) {
        if (id === BYTE_EOS_ID) {
          flush()
          if (!opts?.skipSpecialTokens) out += EOS_TEXT
        } else run.push(id)
      }
      flush()
      return out
    },
    tokenTexts(ids: number[], opts?: { skipSpecialTokens?: boolean; partial?: PartialBytes }): string[] {
      check(ids)
      const out: string[] = new Array(ids.length).fill('')
      let dec: TextDecoder | null = null
      let last = -1
      const close = () => {
        if (dec && last >= 0) out[last] += dec.decode()
        dec = null
        last = -1
      }
      for (let t = 0; t < ids.length; t++) {
        const id = ids[t]
        if (id === BYTE_EOS_ID) {
          close()
          out[t] = opts?.skipSpecialTokens ? '' : EOS_TEXT
          continue
        }
        if (opts?.partial === 'hex') {
          out[t] = bytesToHexText(Uint8Array.of(id))
          continue
        }
        if (!dec) dec = new TextDecoder('utf-8', { ignoreBOM: true })
        out[t] = dec.decode(Uint8Array.of(id), { stream: true })
        last = t
      }
      close()
      return out
    },
    idToToken: byteTokenName,
  }
}
