// A gradient helper: a worker thread with its own WASM engine and a copy of the model, computing
// the gradient of the micro-batches the trainer sends it (data parallelism over the cores). WASM
// runs only its matmuls on several threads and every other kernel on one, so engines of one
// thread each, side by side, use the cores better than one engine with several threads.
//
// Protocol (one request at a time): `init` (the model's weights, LoRA adapters) → `ready`; `step`
// (the trained parameters as they are now, this helper's pairs of the step) → `grads` (its share
// of the step, gradient sums by parameter); any failure → `error` with the message.

import * as tf from '@tensorflow/tfjs'
import type { MessagePort } from 'node:worker_threads'
import { initBackend } from '../model/backend'
import type { CausalLM } from '../model/base'
import { parseConfig } from '../model/config'
import { randomModel } from '../model/model'
import type { PreparedPair } from './data'
import { LoraTrainable, type Trainable, fullTrainable } from './params'
import type { TrainSettings } from './settings'
import { type StepGradients, accumulateStep } from './step'

export type ToHelper =
  | {
      type: 'init'
      rawConfig: Record<string, unknown>
      settings: TrainSettings
      padId: number
      threads: number
      /** every weight of the trainer's model as it is now */
      weights: Map<string, Float32Array>
      /** LoRA: the adapters' state (`<target>.base`, `.lora_A`, `.lora_B`), as in a checkpoint */
      lora: Map<string, Float32Array> | null
    }
  | { type: 'step'; params: Map<string, Float32Array>; pairs: PreparedPair[] }

export type FromHelper = { type: 'ready' } | { type: 'grads'; grads: StepGradients } | { type: 'error'; message: string }

export function serveGradients(port: MessagePort): void {
  let model: CausalLM | null = null
  let trainable: Trainable | null = null
  let settings: TrainSettings | null = null
  let padId = 0
  // requests are handled one after another (the trainer waits for each reply)
  let queue = Promise.resolve()
  const handle = async (m: ToHelper): Promise<void> => {
    try {
      if (m.type === 'init') {
        await initBackend('wasm', { threads: m.threads })
        // the architecture from the config, then the trainer's weights (and LoRA adapters)
        model = randomModel(parseConfig(m.rawConfig), 0, m.rawConfig)
        for (const [name, v] of model.params) {
          const w = m.weights.get(name)
          if (!w) throw new Error(`gradient helper: no weights for ${name}`)
          const t = tf.tensor(w, v.shape, 'float32')
          v.assign(t)
          t.dispose()
        }
        trainable = m.settings.lora && m.lora ? LoraTrainable.fromState(model, m.settings.lora, m.lora) : fullTrainable(model)
        settings = m.settings
        padId = m.padId
        port.postMessage({ type: 'ready' } satisfies FromHelper)
        return
      }
      if (!model || !trainable || !settings) throw new Error('gradient helper: step before init')
      trainable.restore(m.params)
      const grads = (await accumulateStep({ model, trainable, pairs: m.pairs, settings, padId }))!
      port.postMessage({ type: 'grads', grads } satisfies FromHelper, [...grads.acc.values()].map((a) => a.buffer as ArrayBuffer))
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error)?.message ?? String(e) } satisfies FromHelper)
    }
  }
  port.on('message', (m: ToHelper) => {
    queue = queue.then(() => handle(m))
  })
}
