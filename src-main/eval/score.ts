// How likely a model finds a response: the summed log-probability of its tokens (EOS included)
// after the prompt, formatted exactly as training formats it.
import * as tf from '@tensorflow/tfjs'
import { generate, type CausalLM } from '../model'
import type { TokenizerAdapter } from '../signals/tokenizer'
import { tokenizeBranch } from '../train'

export interface BranchScore {
  /** Σ log p(token | prefix) over the response tokens. */
  logp: number
  tokens: number
}

/** The response after the prompt, as training sees it: prompt + ' ' + response + EOS. */
export function scoreResponse(model: CausalLM, tokenizer: TokenizerAdapter, prompt: string, response: string): BranchScore {
  const promptIds = tokenizer.encode(prompt, { addSpecialTokens: true })
  const { ids, respStart } = tokenizeBranch(tokenizer, promptIds, prompt, response, ' ')
  const maxLength = model.config.maxPositions
  if (ids.length > maxLength) throw new Error(`prompt and response take ${ids.length} tokens, more than the model's ${maxLength}`)
  return tf.tidy(() => {
    const logits = model.forward([ids]).squeeze([0]) as tf.Tensor2D // [T, V]
    // Position t predicts token t + 1: the response tokens are predicted from respStart − 1 on.
    const predicting = tf.range(respStart - 1, ids.length - 1, 1, 'int32')
    const targets = tf.tensor1d(ids.slice(respStart), 'int32')
    const logProbs = tf.logSoftmax(tf.gather(logits, predicting))
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(targets, logits.shape[1])))
    return { logp: picked.dataSync()[0], tokens: ids.length - respStart }
  })
}

export interface PairScore {
  pairId: number
  revised: BranchScore
  original: BranchScore
}

export interface ModelScores {
  marginPerToken: number
  pplRevised: number
  pplOriginal: number
  preferenceAccuracy: number
}

/** Mean per-token margin and preference accuracy per pair; perplexities over all tokens. */
export function summarise(scores: PairScore[]): ModelScores {
  let margin = 0
  let preferred = 0
  let logpR = 0
  let tokensR = 0
  let logpO = 0
  let tokensO = 0
  for (const s of scores) {
    const perTokenR = s.revised.logp / s.revised.tokens
    const perTokenO = s.original.logp / s.original.tokens
    margin += perTokenR - perTokenO
    if (perTokenR > perTokenO) preferred++
    logpR += s.revised.logp
    tokensR += s.revised.tokens
    logpO += s.original.logp
    tokensO += s.original.tokens
  }
  const n = Math.max(1, scores.length)
  return {
    marginPerToken: margin / n,
    pplRevised: Math.exp(-logpR / Math.max(1, tokensR)),
    pplOriginal: Math.exp(-logpO / Math.max(1, tokensO)),
    preferenceAccuracy: preferred / n,
  }
}

/**
 * The model's greedy answer to a prompt, as training formats it: the prompt alone (with a BPE
 * tokenizer the ' ' before the response belongs to its first token, which the model generates).
 */
export async function greedyAnswer(model: CausalLM, tokenizer: TokenizerAdapter, prompt: string, maxNewTokens: number, signal?: AbortSignal): Promise<{ tokens: number; text: string }> {
  const r = await generate(model, tokenizer.encode(prompt, { addSpecialTokens: true }), {
    greedy: true, maxNewTokens, eosTokenIds: tokenizer.eosId === null ? [] : [tokenizer.eosId],
    decode: (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }), signal,
  })
  return { tokens: r.tokens.length, text: r.text ?? '' }
}
