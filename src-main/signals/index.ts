/**
 * The pure core of the "signals" capability: token alignment (python-Levenshtein editops
 * semantics), FIGA token classes and weights, and tokenizer adapters.
 */
export { editops, editopsWith, editDistance, MAX_TABLE_BYTES, type EditOp, type EditOpType, type EditopsStrategy } from './editops'
export {
  computeSignals,
  figaWeights,
  weightedTokenCount,
  editMasks,
  DEFAULT_FIGA_PARAMS,
  type FigaParams,
  type TokenClass,
  type PairSignals,
  type EosOptions,
} from './weights'
export { loadTokenizer, tokenizerFromJson, TokenizerLoadError, type TokenizerAdapter, type PartialBytes } from './tokenizer'
export { byteTokenizer, BYTE_EOS_ID, BYTE_VOCAB_SIZE } from './byte-tokenizer'
