// Public API of the training core. See README.md in this folder.

export { Trainer, type StepMetrics, type EvalMetrics, type RunOptions, type RunResult, type StartOptions, type ResumeOptions, type TrainerInfo } from './trainer'
export {
  type TrainSettings,
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
} from './settings'
export { type TrainExample, type PreparedPair, type PreparedBranch, type PrepareReport, prepareExamples, splitExamples, datasetHash, microBatches, tokenizeBranch } from './data'
export { figaLoss, penalised, weightedCrossEntropy, type LossParts, type TokenTerms, type TauFilter } from './objectives'
export { planBatch, batchLoss, hiddenStates, headWeight, type BatchPlan } from './batch'
export { AdamW, learningRate, globalNorm, clipFactor } from './optimizer'
export { LoraTrainable, fullTrainable, loraTargets } from './params'
export { readState, listCheckpoints, STATE_FILE, OPTIMIZER_FILE, LORA_FILE, type TrainerState } from './checkpoint'
export { TrainRng } from './rng'
