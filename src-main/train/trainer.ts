// The Trainer: data order, micro-batches with gradient accumulation, AdamW, evaluation, checkpoints
// and exact resume. Plain data at the boundary (settings, examples, metrics), so a worker can run it.

import * as tf from '@tensorflow/tfjs'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { backendInfo, initBackend, readView } from '../model/backend'
import type { CausalLM } from '../model/base'
import { WASM_MEMORY_BUDGET, loadModel } from '../model/model'
import { loadTokenizer, type TokenizerAdapter } from '../signals/tokenizer'
import { type BatchPlan, batchLoss, headWeight, planBatch } from './batch'
import { type CheckpointContent, LORA_FILE, OPTIMIZER_FILE, type TrainerState, STATE_FORMAT, STATE_VERSION, listCheckpoints, readState, readTensors, writeCheckpoint } from './checkpoint'
import { type PrepareReport, type PreparedPair, type TrainExample, byLength, datasetHash, microBatches, prepareExamples, splitExamples } from './data'
import { GradientHelpers, type HelperOptions, shareOf } from './gradient-helpers'
import { type StepGradients, accumulateStep, mergeGradients } from './step'
import { AdamW, clipFactor, globalNorm, learningRate } from './optimizer'
import { LoraTrainable, type Trainable, fullTrainable, loraTargets, paramCountOf } from './params'
import { TrainRng } from './rng'
import { type TrainSettings, type TrainSettingsInput, estimateTrainingBytes, fitMicroBatch, validateSettings, withDefaults } from './settings'

export interface StepMetrics {
  /** optimizer steps done (1 after the first) */
  step: number
  totalSteps: number
  /** epochs done, fractional (1.5 = halfway through the second epoch) */
  epoch: number
  /** (positive − negative) / N */
  loss: number
  /** Σ a·CE(ŷ) / N */
  lossPositive: number
  /** Σ b·CE(y) / N (after the τ filter; subtracted in loss) */
  lossNegative: number
  lr: number
  /** global L2 norm of the gradient before clipping */
  gradNorm: number
  /** tokens of prompt+ŷ (and prompt+y) per second, as the recipe counts them */
  tokensPerSec: number
  pairsPerSec: number
  /** N / response tokens of the step */
  weightedShare: number
  /** N, the weighted tokens of the step */
  weightedTokens: number
  /** bad tokens the τ filter let through / bad tokens seen */
  penalisedShare: number
  pairs: number
  elapsedMs: number
}

export interface EvalMetrics {
  step: number
  /** mean over pairs of (mean log p(ŷ tokens) − mean log p(y tokens)) */
  marginPerToken: number
  /** exp(mean CE) over all ŷ response tokens (EOS included) */
  pplRevised: number
  /** exp(mean CE) over all y response tokens (NaN without pairs) */
  pplOriginal: number
  pairs: number
}

export interface RunOptions {
  signal?: AbortSignal
  onStep?(m: StepMetrics): void
  onEval?(m: EvalMetrics): void
  onCheckpoint?(dir: string, step: number): void
}

export interface RunResult {
  /** final/ when training finished; the checkpoint written at the stop when cancelled */
  finalDir: string
  steps: number
  stoppedEarly: boolean
}

export interface StartOptions {
  modelDir: string
  examples: TrainExample[]
  settings: TrainSettingsInput
  outDir: string
  /** defaults to the tokenizer of modelDir */
  tokenizer?: TokenizerAdapter
  /**
   * Data parallelism on WASM: helper workers that compute part of every step's pairs
   * (gradient-helpers.ts); fewer are started when memory is short.
   */
  helpers?: HelperOptions
}

export interface ResumeOptions {
  checkpointDir: string
  examples: TrainExample[]
  /** defaults to the folder holding the checkpoint */
  outDir?: string
  tokenizer?: TokenizerAdapter
  helpers?: HelperOptions
}

export interface TrainerInfo {
  totalSteps: number
  trainPairs: number
  evalPairs: number
  report: PrepareReport
  paramCount: number
  trainableParams: number
  estimatedBytes: number
  backend: string
  /** set when the trainer lowered the micro-batch to fit the WASM memory (same effective batch) */
  adjusted: string | null
  /** engines computing each step: the trainer plus its gradient helpers (set at the first step) */
  workers: number
  /** why the gradient helpers asked for did not start (the run then uses one engine) */
  helperError?: string
}

interface Position {
  epoch: number
  cursor: number
  order: number[]
  rng: number[]
}

export class Trainer {
  private _step = 0
  private elapsedMs = 0
  private disposed = false
  private lastSavedStep = -1
  private helperOptions: HelperOptions | undefined
  private helpers: Promise<GradientHelpers | null> | null = null
  /** the parameters the last optimizer update wrote (full fine-tuning), given to the helpers */
  private freshParams: Map<string, Float32Array> | null = null

  private constructor(
    readonly model: CausalLM,
    readonly settings: TrainSettings,
    private readonly trainable: Trainable,
    private readonly optimizer: AdamW,
    private readonly train: PreparedPair[],
    private readonly evalSet: PreparedPair[],
    private pos: Position,
    readonly outDir: string,
    private readonly tokenizerFrom: string | undefined,
    private readonly baseModel: string,
    private readonly hash: string,
    readonly info: TrainerInfo,
    private readonly padId: number,
  ) {}

  /** Load the model, prepare the data, set up the optimizer. */
  static async start(opts: StartOptions): Promise<Trainer> {
    const asked = validateSettings(withDefaults(opts.settings))
    if (!backendInfo()) await initBackend()
    const tokenizer = opts.tokenizer ?? (await loadTokenizer(opts.modelDir))
    const model = await loadModel(opts.modelDir)
    let trainable: Trainable | null = null
    try {
      const rng = new TrainRng(asked.seed)
      trainable = asked.lora ? LoraTrainable.create(model, asked.lora, rng) : fullTrainable(model)
      const data = prepare(opts.examples, tokenizer, asked, model)
      const { settings, note } = fitToMemory(model, asked, trainable, data.train)
      const order = rng.permutation(data.train.length)
      const info = makeInfo(model, settings, trainable, data)
      info.adjusted = note
      const t = new Trainer(
        model,
        settings,
        trainable,
        new AdamW(trainable.slots, adamOptions(settings)),
        data.train,
        data.eval,
        { epoch: 0, cursor: 0, order, rng: rng.state() },
        path.resolve(opts.outDir),
        fs.existsSync(path.join(opts.modelDir, 'tokenizer.json')) ? opts.modelDir : undefined,
        path.resolve(opts.modelDir),
        datasetHash(opts.examples),
        info,
        tokenizer.eosId ?? 0,
      )
      t.helperOptions = opts.helpers
      return t
    } catch (e) {
      trainable?.dispose()
      model.dispose()
      throw e
    }
  }

  /** Continue from a checkpoint folder written by saveCheckpoint (same examples required). */
  static async resume(opts: ResumeOptions): Promise<Trainer> {
    const dir = path.resolve(opts.checkpointDir)
    const state = await readState(dir)
    if (!state.resumable) throw new Error(`${dir} cannot be resumed (it holds no optimizer state: final/ folders are for export; resume from a checkpoint-<step>/ folder)`)
    const hash = datasetHash(opts.examples)
    if (hash !== state.datasetHash) {
      throw new Error(
        `this checkpoint was trained on a different dataset (hash ${state.datasetHash.slice(0, 12)}…, the examples given hash to ${hash.slice(0, 12)}…): ` +
          'resume needs the same examples (ids and texts) as the run that wrote it',
      )
    }
    const settings = validateSettings(withDefaults(state.settings))
    if (!backendInfo()) await initBackend()
    let tokenizer = opts.tokenizer
    if (!tokenizer) {
      if (!fs.existsSync(path.join(dir, 'tokenizer.json'))) throw new Error(`${dir} has no tokenizer.json; pass the tokenizer to resume`)
      tokenizer = await loadTokenizer(dir)
    }
    const model = await loadModel(dir)
    let trainable: Trainable | null = null
    try {
      if (settings.lora) trainable = LoraTrainable.fromState(model, settings.lora, await readTensors(path.join(dir, LORA_FILE)))
      else trainable = fullTrainable(model)
      const optimizer = new AdamW(trainable.slots, adamOptions(settings))
      const moments = await readTensors(path.join(dir, OPTIMIZER_FILE))
      for (const s of trainable.slots) {
        const m = moments.get(`${s.name}.exp_avg`)
        const v = moments.get(`${s.name}.exp_avg_sq`)
        if (!m || !v || m.length !== optimizer.m.get(s.name)!.length) throw new Error(`${OPTIMIZER_FILE} has no moments of the right size for ${s.name}`)
        optimizer.m.get(s.name)!.set(m)
        optimizer.v.get(s.name)!.set(v)
      }
      optimizer.step = state.optimizerStep
      const data = prepare(opts.examples, tokenizer, settings, model)
      if (data.train.length !== state.trainPairs || data.eval.length !== state.evalPairs) {
        throw new Error(`the examples prepare to ${data.train.length}/${data.eval.length} train/held-out pairs, the checkpoint had ${state.trainPairs}/${state.evalPairs} (different tokenizer?)`)
      }
      const t = new Trainer(
        model,
        settings,
        trainable,
        optimizer,
        data.train,
        data.eval,
        { epoch: state.epoch, cursor: state.cursor, order: state.order, rng: state.rng },
        path.resolve(opts.outDir ?? path.dirname(dir)),
        fs.existsSync(path.join(dir, 'tokenizer.json')) ? dir : undefined,
        state.baseModel,
        hash,
        makeInfo(model, settings, trainable, data),
        tokenizer.eosId ?? 0,
      )
      t._step = state.step
      t.helperOptions = opts.helpers
      t.elapsedMs = state.elapsedMs
      t.lastSavedStep = state.step
      t.info.totalSteps = state.totalSteps
      return t
    } catch (e) {
      trainable?.dispose()
      model.dispose()
      throw e
    }
  }

  /** optimizer steps done */
  get step(): number {
    return this._step
  }

  /** optimizer steps of the whole run */
  get totalSteps(): number {
    return this.info.totalSteps
  }

  /** The pairs of the next optimizer step and the data position after it (nothing is changed). */
  private peekStep(): { pairs: PreparedPair[]; next: Position } {
    let { epoch, cursor, order, rng } = this.pos
    if (cursor >= order.length) {
      const r = TrainRng.fromState(rng)
      order = r.permutation(this.train.length)
      rng = r.state()
      epoch++
      cursor = 0
    }
    const eff = this.settings.microBatch * this.settings.accumulation
    const idx = order.slice(cursor, cursor + eff)
    return { pairs: idx.map((i) => this.train[i]), next: { epoch, cursor: cursor + idx.length, order, rng } }
  }

  private plan(pairs: PreparedPair[], select: 'sparse' | 'full' | 'eval'): BatchPlan {
    const s = this.settings
    return planBatch(pairs, { method: s.method, sharedPrefix: s.efficiency.sharedPrefix, select, pad: select !== 'eval' && !s.efficiency.bucketing, padId: this.padId })
  }

  /**
   * One optimizer step: forward/backward over every micro-batch (gradients summed unnormalised),
   * then scale by 1/N of the whole step, clip, AdamW. Returns null when cancelled between
   * micro-batches (the step is dropped; nothing changed).
   */
  async trainStep(signal?: AbortSignal): Promise<StepMetrics | null> {
    if (this.disposed) throw new Error('the trainer has been disposed')
    const s = this.settings
    const t0 = performance.now()
    const { pairs, next } = this.peekStep()
    const g = await this.gradients(pairs, signal)
    if (!g) return null
    const { acc, n } = g
    const scale = n > 0 ? 1 / n : 0
    const gradNorm = globalNorm(acc.values(), scale)
    const lr = learningRate(this._step, this.info.totalSteps, s)
    if (n > 0) {
      const f = scale * clipFactor(gradNorm, s.clipNorm)
      this.optimizer.begin()
      // (full fine-tuning: apply() hands out fresh arrays; LoRA's are its adapters' own, so not these)
      const fresh = this.helpers && this.trainable.kind === 'full' ? new Map<string, Float32Array>() : null
      this.trainable.apply((slot, param) => {
        const grad = acc.get(slot.name)
        if (grad) this.optimizer.update(slot, param, grad, lr, f)
        fresh?.set(slot.name, param)
      })
      // the new values, for the helpers' next step (read back from the engine otherwise)
      this.freshParams = fresh
    }
    this.pos = next
    this._step++
    const ms = performance.now() - t0
    this.elapsedMs += ms
    return {
      step: this._step,
      totalSteps: this.info.totalSteps,
      epoch: next.epoch + (this.train.length ? next.cursor / this.train.length : 0),
      loss: n > 0 ? (g.positive - g.negative) / n : 0,
      lossPositive: n > 0 ? g.positive / n : 0,
      lossNegative: n > 0 ? g.negative / n : 0,
      lr,
      gradNorm,
      tokensPerSec: (g.pairTokens * 1000) / ms,
      pairsPerSec: (pairs.length * 1000) / ms,
      weightedShare: g.responseTokens ? n / g.responseTokens : 0,
      weightedTokens: n,
      penalisedShare: g.bad ? g.badKept / g.bad : 0,
      pairs: pairs.length,
      elapsedMs: this.elapsedMs,
    }
  }

  /**
   * The gradient of a step's pairs: here alone, or with the gradient helpers — the pairs sorted
   * by length and dealt round-robin (pair i to worker i mod W, worker 0 is this one), the shares
   * summed in worker order.
   */
  private async gradients(pairs: PreparedPair[], signal?: AbortSignal): Promise<StepGradients | null> {
    const s = this.settings
    const helpers = await this.startHelpers()
    if (!helpers) return accumulateStep({ model: this.model, trainable: this.trainable, pairs, settings: s, padId: this.padId, signal })
    const W = helpers.count + 1
    const sorted = byLength(pairs, s.method)
    const shares = Array.from({ length: W }, (_, w) => shareOf(sorted, w, W))
    // settled at once, so a helper failure is never an unhandled rejection while this one works
    const params = this.freshParams ?? this.trainable.values()
    this.freshParams = null
    const theirs = helpers.run(params, shares.slice(1)).then(
      (grads) => ({ grads, error: null }),
      (error: Error) => ({ grads: [] as StepGradients[], error }),
    )
    const mine = await accumulateStep({ model: this.model, trainable: this.trainable, pairs: shares[0], settings: s, padId: this.padId, signal })
    // always wait for the helpers: their replies must not arrive during a later step
    const other = await theirs
    if (other.error) throw other.error
    if (!mine) return null
    for (const g of other.grads) mergeGradients(mine, g)
    return mine
  }

  /** The helpers, started at the first step when asked for and useful (WASM, ≥ 2 pairs per step). */
  private startHelpers(): Promise<GradientHelpers | null> {
    if (!this.helpers) {
      const s = this.settings
      const o = this.helperOptions
      const onWasm = (backendInfo()?.name ?? tf.getBackend()) === 'wasm'
      // each helper holds its own model and activations: as many as half the machine's memory allows
      const byMemory = Math.floor((0.5 * os.totalmem()) / Math.max(1, this.info.estimatedBytes)) - 1
      const pairsPerStep = s.microBatch * s.accumulation
      const count = o && onWasm ? Math.min(o.count, pairsPerStep - 1, byMemory) : 0
      const init = () => ({
        rawConfig: this.model.rawConfig,
        settings: s,
        padId: this.padId,
        weights: new Map([...this.model.params].map(([name, v]) => [name, new Float32Array(readView(v))])),
        lora: this.trainable instanceof LoraTrainable ? new Map([...this.trainable.baseValues(), ...this.trainable.values()]) : null,
      })
      // helpers that cannot start leave the run on this engine alone (info.helperError says why)
      this.helpers = (count > 0 ? GradientHelpers.start({ ...o!, count }, init()) : Promise.resolve(null)).catch((e: Error) => {
        this.info.helperError = e?.message ?? String(e)
        return null
      })
      void this.helpers.then((h) => (this.info.workers = 1 + (h?.count ?? 0)))
    }
    return this.helpers
  }

  /** Mean log-prob margin per token and perplexities on the held-out pairs (no gradient). */
  evaluate(): EvalMetrics {
    const s = this.settings
    const sums = new Map<number, { rev: number; nRev: number; org: number; nOrg: number }>()
    let revCE = 0
    let revN = 0
    let orgCE = 0
    let orgN = 0
    const head = headWeight(this.model) as unknown as tf.Tensor2D
    for (const mb of microBatches(this.evalSet, s.microBatch, true, 'figa')) {
      const plan = this.plan(mb, 'eval')
      let ce: Float64Array<ArrayBufferLike>[] = []
      tf.tidy(() => {
        ce = batchLoss({ model: this.model, head, plan, weigh: (_g, c) => new Float64Array(c.length), trainHead: false }).ce
      })
      plan.groups.forEach((g, gi) => {
        const c = ce[gi]
        for (let i = 0; i < c.length; i++) {
          const id = mb[g.sel.pairOf[i]].id
          let e = sums.get(id)
          if (!e) sums.set(id, (e = { rev: 0, nRev: 0, org: 0, nOrg: 0 }))
          if (g.sel.isOriginal[i]) {
            e.org += c[i]
            e.nOrg++
            orgCE += c[i]
            orgN++
          } else {
            e.rev += c[i]
            e.nRev++
            revCE += c[i]
            revN++
          }
        }
      })
    }
    let margin = 0
    let withBoth = 0
    for (const e of sums.values()) {
      if (e.nRev && e.nOrg) {
        margin += -e.rev / e.nRev + e.org / e.nOrg
        withBoth++
      }
    }
    return {
      step: this._step,
      marginPerToken: withBoth ? margin / withBoth : NaN,
      pplRevised: revN ? Math.exp(revCE / revN) : NaN,
      pplOriginal: orgN ? Math.exp(orgCE / orgN) : NaN,
      pairs: this.evalSet.length,
    }
  }

  private content(resumable: boolean): CheckpointContent {
    const state: TrainerState = {
      format: STATE_FORMAT,
      version: STATE_VERSION,
      resumable,
      step: this._step,
      totalSteps: this.info.totalSteps,
      epoch: this.pos.epoch,
      cursor: this.pos.cursor,
      order: this.pos.order,
      rng: this.pos.rng,
      optimizerStep: this.optimizer.step,
      settings: this.settings,
      datasetHash: this.hash,
      trainPairs: this.train.length,
      evalPairs: this.evalSet.length,
      baseModel: this.baseModel,
      elapsedMs: this.elapsedMs,
      savedAt: new Date().toISOString(),
    }
    const shapes = new Map(this.trainable.slots.map((sl) => [sl.name, sl.shape]))
    const c: CheckpointContent = { model: this.model, state, tokenizerFrom: this.tokenizerFrom }
    if (resumable) c.moments = { m: this.optimizer.m, v: this.optimizer.v, shapes }
    if (this.trainable instanceof LoraTrainable) {
      const values = new Map([...this.trainable.values(), ...this.trainable.baseValues()])
      const all = new Map(shapes)
      for (const a of this.trainable.adapters) all.set(`${a.target}.base`, [a.inF, a.outF])
      c.lora = { values, shapes: all }
    }
    return c
  }

  /** Write the model (LoRA merged) and everything needed to resume exactly, atomically. */
  async saveCheckpoint(dir: string): Promise<void> {
    await writeCheckpoint(dir, this.content(true))
    this.lastSavedStep = this._step
  }

  /** Write final/: the trained model (LoRA merged) and trainer_state.json (not resumable). */
  async saveFinal(dir: string): Promise<void> {
    await writeCheckpoint(dir, this.content(false))
  }

  /** Train to the end (or until cancelled), evaluating and checkpointing on the way. */
  async run(opts: RunOptions = {}): Promise<RunResult> {
    const s = this.settings
    const total = this.info.totalSteps
    const canEval = this.evalSet.length > 0
    const checkpoint = async () => {
      const dir = path.join(this.outDir, `checkpoint-${this._step}`)
      await this.saveCheckpoint(dir)
      opts.onCheckpoint?.(dir, this._step)
      if (s.keepCheckpoints !== null) {
        const all = await listCheckpoints(this.outDir)
        for (const old of all.slice(0, Math.max(0, all.length - s.keepCheckpoints))) fs.rmSync(old.dir, { recursive: true, force: true })
      }
      return dir
    }
    while (this._step < total) {
      await yieldToEvents()
      const m = opts.signal?.aborted ? null : await this.trainStep(opts.signal)
      if (!m) {
        const dir = this.lastSavedStep === this._step ? path.join(this.outDir, `checkpoint-${this._step}`) : await checkpoint()
        return { finalDir: dir, steps: this._step, stoppedEarly: true }
      }
      opts.onStep?.(m)
      if (canEval && s.evalEvery > 0 && this._step % s.evalEvery === 0 && this._step < total) opts.onEval?.(this.evaluate())
      if (s.checkpointEvery > 0 && this._step % s.checkpointEvery === 0 && this._step < total) await checkpoint()
    }
    if (canEval) opts.onEval?.(this.evaluate())
    const finalDir = path.join(this.outDir, 'final')
    await this.saveFinal(finalDir)
    return { finalDir, steps: this._step, stoppedEarly: false }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    void this.helpers?.then((h) => h?.dispose()).catch(() => {})
    this.trainable.dispose()
    this.model.dispose()
  }
}

function adamOptions(s: TrainSettings) {
  return { beta1: s.adamBeta1, beta2: s.adamBeta2, eps: s.adamEps, weightDecay: s.weightDecay }
}

function prepare(examples: TrainExample[], tokenizer: TokenizerAdapter, settings: TrainSettings, model: CausalLM) {
  if (tokenizer.vocabSize > model.config.vocabSize) {
    throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens, the model only ${model.config.vocabSize}`)
  }
  const split = splitExamples(examples, settings.heldOut, settings.seed)
  const base = { tokenizer, settings, maxPositions: model.config.maxPositions }
  const train = prepareExamples(split.train, base)
  const evalSet = prepareExamples(split.eval, { ...base, keepAll: true })
  if (!train.pairs.length) {
    const r = train.report
    throw new Error(
      `no training pairs left (${r.examples} examples: ${r.skippedNoOriginal} without an original response` +
        `${settings.method === 'figa' ? ' — FIGA needs pairs; use SFT for rows without one' : ''}, ${r.droppedTooLong + r.droppedPromptTooLong} too long, ${r.skippedNoSignal} without a weighted token)`,
    )
  }
  return { train: train.pairs, eval: evalSet.pairs, report: train.report }
}

function makeInfo(model: CausalLM, s: TrainSettings, trainable: Trainable, data: { train: PreparedPair[]; eval: PreparedPair[]; report: PrepareReport }): TrainerInfo {
  const eff = s.microBatch * s.accumulation
  const perEpoch = Math.ceil(data.train.length / eff)
  const totalSteps = s.maxSteps ?? perEpoch * s.epochs
  const trainableParams = paramCountOf(trainable.slots)
  return {
    totalSteps,
    trainPairs: data.train.length,
    evalPairs: data.eval.length,
    report: data.report,
    paramCount: model.paramCount,
    trainableParams,
    estimatedBytes: estimateTrainingBytes(model.config, model.paramCount, s, memoryOptions(model, s, trainable, data.train)),
    backend: backendInfo()?.detail ?? tf.getBackend(),
    adjusted: null,
    workers: 1,
  }
}

function memoryOptions(model: CausalLM, s: TrainSettings, trainable: Trainable, train: PreparedPair[]) {
  let loraTargetParams = 0
  if (s.lora) for (const n of loraTargets(model, s.lora.targets)) loraTargetParams += model.params.get(n)!.size
  return {
    longest: train.reduce((m, p) => Math.max(m, p.revised.ids.length, s.method === 'figa' ? (p.original?.ids.length ?? 0) : 0), 0),
    loraParams: s.lora ? paramCountOf(trainable.slots) : 0,
    loraTargetParams,
  }
}

/**
 * On WASM (4 GiB, never shrinks): lower the micro-batch until the estimate fits, keeping the
 * effective batch (the loss is normalised over the whole step, so the gradient is the same); refuse
 * with the max length that would fit when even one pair does not.
 */
function fitToMemory(model: CausalLM, s: TrainSettings, trainable: Trainable, train: PreparedPair[]): { settings: TrainSettings; note: string | null } {
  const b = backendInfo()?.name ?? tf.getBackend()
  if (b !== 'wasm') return { settings: s, note: null }
  const o = memoryOptions(model, s, trainable, train)
  const f = fitMicroBatch(model.config, model.paramCount, s, WASM_MEMORY_BUDGET, o)
  const gib = (x: number) => (x / 1024 ** 3).toFixed(1)
  if (!f.fits) {
    const need = estimateTrainingBytes(model.config, model.paramCount, { ...s, microBatch: 1 }, o)
    throw new Error(
      `training needs about ${gib(need)} GiB of WASM memory even with one pair per micro-batch (the limit is ${gib(WASM_MEMORY_BUDGET)} GiB; ` +
        `the longest sequence has ${o.longest} tokens): set the max length to ${f.maxLength} or less, or install @tensorflow/tfjs-node`,
    )
  }
  if (f.microBatch === s.microBatch) return { settings: s, note: null }
  const accumulation = Math.ceil((s.microBatch * s.accumulation) / f.microBatch)
  return {
    settings: { ...s, microBatch: f.microBatch, accumulation },
    note: `micro-batch lowered from ${s.microBatch} to ${f.microBatch} pairs (× ${accumulation} accumulation, same pairs per step) to fit the WASM memory`,
  }
}

function yieldToEvents(): Promise<void> {
  return new Promise((r) => setImmediate(r))
}
