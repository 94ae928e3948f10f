// Public API of the training core. See README.md in this folder.

export { Trainer, type StepMetrics, type EvalMetrics, type RunOptions, type RunResult, type StartOptions, type ResumeOptions, type TrainerInfo } from './trainer'
export {
  type TrainSettings,
  type TrainSettingsInput,
  type LoraSettings,
  type EfficiencySettings,
  type Preset,
  DEFAULT_SETTINGS,
  withDefaults,
  validateSettings,
  SettingsError,
  presetFor,
  presetsFor,
  defaultLoraTargets,
  estimateTrainingBytes,
  activationBytes,
  fitMicroBatch,
  fitPreset,
  WASM_TRAIN_BUDGET,
} from './settings'
export { type TrainExample, type PreparedPair, type PreparedBranch, type PrepareReport, prepareExamples, splitExamples, datasetHash, microBatches, tokenizeBranch } from './data'
export { GradientHelpers, shareOf, type HelperOptions } from './gradient-helpers'
export { serveGradients } from './gradient-worker'
export { figaLoss, penalised, weightedCrossEntropy, type LossParts, type TokenTerms, type TauFilter } from './objectives'
export { planBatch, batchLoss, headWeight, type BatchPlan, type RowGroup, type Selection } from './batch'
export { accumulateStep, stepObjective, type StepGradients } from './step'
export { AdamW, learningRate, globalNorm, clipFactor } from './optimizer'
export { LoraTrainable, fullTrainable, loraTargets } from './params'
export { readState, listCheckpoints, STATE_FILE, OPTIMIZER_FILE, LORA_FILE, type TrainerState } from './checkpoint'
export { TrainRng } from './rng'
