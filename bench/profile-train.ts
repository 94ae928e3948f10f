// Profile of one training step: the gradient of one optimizer step (accumulateStep: 2 pairs × 4
// micro-batches, bench/train.ts's model and pairs), timed as a whole and per WASM kernel (each
// registered kernel function wrapped with performance.now(); WASM kernels run synchronously).
//
//   npx tsx bench/profile-train.ts [--steps 3] [--threads 1] [--tau none|0.6] [--micro 2] [--kernels] [--shapes] [--top 30]
//
// --shapes splits the main kernels by input shapes (and transpose perm). The WASM heap size printed at
// the end is its high-water mark (it never shrinks).

import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src-main/model/backend'
import { parseConfig } from '../src-main/model/config'
import { randomModel } from '../src-main/model/model'
import { prepareExamples } from '../src-main/train/data'
import { fullTrainable } from '../src-main/train/params'
import { TrainRng } from '../src-main/train/rng'
import { withDefaults } from '../src-main/train/settings'
import { accumulateStep } from '../src-main/train/step'
import { CONFIG, EOS, idTokenizer, makePairs } from './train-workload'

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** Wrap every WASM kernel; returns the per-key totals and a switch. */
function instrumentKernels(withShapes: boolean) {
  const stats = new Map<string, { n: number; ms: number }>()
  const state = { on: false }
  for (const k of tf.getKernelsForBackend('wasm')) {
    const f = k.kernelFunc
    ;(k as { kernelFunc: tf.KernelFunc }).kernelFunc = (args) => {
      if (!state.on) return f(args)
      const t0 = performance.now()
      const out = f(args)
      const dt = performance.now() - t0
      let key = k.kernelName
      if (withShapes) {
        const shapes = Object.values(args.inputs).map((t) => t?.shape.join('x'))
        const perm = (args.attrs as { perm?: number[] } | undefined)?.perm
        key += ` ${shapes.join(',')}${perm ? ` perm ${perm.join('')}` : ''}`
      }
      const s = stats.get(key) ?? { n: 0, ms: 0 }
      s.n++
      s.ms += dt
      stats.set(key, s)
      return out
    }
  }
  return { stats, state }
}

async function main(): Promise<void> {
  const steps = Number(flag('steps', '3'))
  const tauFlag = flag('tau', 'none')
  const tau = tauFlag === 'none' ? null : Number(tauFlag)
  const info = await initBackend('wasm', { threads: Number(flag('threads', '1')) })
  const model = randomModel(parseConfig(CONFIG), 1234, CONFIG)
  const micro = Number(flag('micro', '2'))
  const accum = 8 / micro
  const raw = makePairs(micro * accum * 4, 60, 200, 0.15, 42)
  const examples = raw.map((p, i) => ({ id: i, prompt: p.prompt.join(' '), original: p.original.join(' '), revised: p.revised.join(' ') }))
  const settings = withDefaults({ method: 'figa', tau, microBatch: micro, accumulation: accum, maxLength: 1024, seed: 0 })
  const all = prepareExamples(examples, { tokenizer: idTokenizer(), settings, maxPositions: 1024 }).pairs
  const pairs = new TrainRng(0).permutation(all.length).slice(0, micro * accum).map((i) => all[i])
  const trainable = fullTrainable(model)
  const prof = process.argv.includes('--kernels') ? instrumentKernels(process.argv.includes('--shapes')) : null
  const times: number[] = []
  for (let i = 0; i <= steps; i++) {
    if (prof) prof.state.on = i > 0
    const t0 = performance.now()
    const g = (await accumulateStep({ model, trainable, pairs, settings, padId: EOS }))!
    if (i > 0) times.push((performance.now() - t0) / 1000)
    else {
      let sum = 0
      for (const a of g.acc.values()) for (let j = 0; j < a.length; j += 97) sum += a[j]
      console.log(`${info.detail}; τ ${tau ?? 'none'}; ${g.computedTokens} tokens through the model, N ${g.n}; loss parts ${g.positive.toFixed(4)} / ${g.negative.toFixed(4)}; gradient checksum ${sum.toExponential(6)}`)
    }
  }
  console.log(`gradient of one step: median ${median(times).toFixed(3)} s [${times.map((t) => t.toFixed(3)).join(', ')}]`)
  if (prof) {
    const perStep = [...prof.stats.entries()].map(([k, s]) => ({ k, ms: s.ms / steps, n: s.n / steps })).sort((a, b) => b.ms - a.ms)
    const total = perStep.reduce((a, s) => a + s.ms, 0)
    console.log(`kernel time per step ${(total / 1000).toFixed(3)} s`)
    for (const s of perStep.slice(0, Number(flag('top', '30')))) console.log(`${s.k.padEnd(40)} ${s.ms.toFixed(1).padStart(8)} ms ${s.n.toFixed(0).padStart(6)} calls ${((100 * s.ms) / total).toFixed(1).padStart(5)} %`)
  }
  const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length
  if (heap) console.log(`WASM heap ${(heap / 2 ** 20).toFixed(0)} MiB`)
  model.dispose()
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  },
)
