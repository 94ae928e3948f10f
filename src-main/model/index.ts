// Public API of the model engine. See README.md in this folder.

export { initBackend, backendInfo, type BackendInfo, type BackendPref, type BackendOptions } from './backend'
export { parseConfig, toHfConfig, countParams, ConfigError, type ModelConfig, type Family, type RopeScaling } from './config'
export { KVCache, TransformerLM, hfShape, type CausalLM, type ForwardOptions, type ParamSpec, type TokenInput, type RowLayout, type PackedOptions } from './base'
export { packedAttention, packedPositions, type PackedSegment, type PackedKV, type HeadShape } from './attention'
export { loadModel, randomModel, saveModel, inspectModelFolder, readConfig, paramSpecs, looksLikeModelFolder, wasmBytesNeeded, WASM_MEMORY_BUDGET, type ModelFolderInfo, type LoadOptions, type SaveOptions } from './model'
export {
  SafetensorsReader,
  SafetensorsError,
  readSafetensorsHeader,
  writeSafetensors,
  writeModelSafetensors,
  writeCheckpointFolder,
  TOKENIZER_FILES,
  type TensorSource,
  type StoreDtype,
  type CheckpointOptions,
} from './safetensors'
export { generate, streamGenerate, pickToken, type GenerateOptions, type GenerateResult, type TokenEvent, type FinishReason } from './generate'
export { alpacaPrompt, alpacaResponse, loadChatTemplate, renderChat, promptMessages, type AlpacaPrompt, type ChatMessage, type ChatTemplateInfo } from './prompt'
export { Rng } from './rng'
export * as layers from './layers'
