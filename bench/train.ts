// Training benchmark: pairs/s and tokens/s of FIGA training (src-main/train) on a ~15M Llama-shaped
// model with random weights and SPA-like synthetic pairs, next to the official FIGA recipe
// re-implemented in PyTorch (bench/peer/train.py) on the same weights and the same batches, in the
// same run; plus each saving of the trainer (shared prefix, sparse head, bucketing, pruning of
// filtered y rows) switched off in turn, and all of them off.
//
//   npx tsx bench/train.ts [--runs 3] [--repeat 2] [--micro 4] [--accum 2] [--peer-micro 2,4] [--engines 2x1,1x2] [--blas openmp,pthread]
//                          [--pairs-prompt 60] [--response 200] [--edit 0.15] [--tau 0.6|none] [--no-peer]
//                          [--no-ablation] [--ablation-threads 1] [--ablation-rounds 3]
//
// Part 1: the trainer with every saving on — as the app runs it on WASM, one engine per core (the
// trainer plus gradient helpers, one thread each), and one engine with all the threads — and the
// recipe, each in its own process (the WASM thread count is fixed per process), interleaved `--repeat` times, medians
// reported, because other processes share this machine's cores. Part 2: each saving switched off in
// turn, all configurations alternating inside one process (robust ratios on a busy machine). A step = one optimizer step over micro × accum pairs
// (forward, backward, AdamW); one warm-up step is not timed. Tokens are counted as the recipe
// feeds them: len(prompt + ŷ + EOS) + len(prompt + y + EOS) per pair.
//
// MFU = 6 · parameters · tokens/s / peak FLOP/s, with the peak = cores × 32 fp32 FLOP/cycle (two
// 256-bit FMA pipes per core: AVX2/AVX-512 on Zen 4 and Intel server cores) × the clock that
// /proc/cpuinfo reports. The WASM backend uses 128-bit SIMD, so its own ceiling is half of that.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { childOrParent, runChild } from './child-process'
import { CONFIG, EOS, idTokenizer, makePairs, type Pair } from './train-workload'

const here = fileURLToPath(import.meta.url)
const root = path.resolve(path.dirname(here), '..')

interface Efficiency {
  sharedPrefix: boolean
  sparseHead: boolean
  bucketing: boolean
  pruneFiltered: boolean
}

interface ChildArgs {
  tau: number | null
  dir: string
  data: string
  threads: number
  /** engines: the trainer plus gradient helpers (data parallel), each with `threads` WASM threads */
  engines: number
  micro: number
  accum: number
  runs: number
  efficiency: Efficiency
}

interface RunResult {
  ok: boolean
  error?: string
  detail?: string
  stepS?: number[]
  losses?: number[]
  pairs?: number
  heapMiB?: number
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// ------------------------------------------------------------------------------------------------
// child: one trainer configuration

async function child(a: ChildArgs): Promise<RunResult> {
  const tf = await import('@tensorflow/tfjs')
  const { initBackend } = await import('../src-main/model/backend')
  const { Trainer } = await import('../src-main/train/trainer')
  const info = await initBackend('wasm', { threads: a.threads })
  const pairs: Pair[] = JSON.parse(fs.readFileSync(a.data, 'utf8')).pairs
  const examples = pairs.map((p, i) => ({ id: i, prompt: p.prompt.join(' '), original: p.original.join(' '), revised: p.revised.join(' ') }))
  const { spawnWorker } = await import('../src-main/services/spawn-worker')
  const t = await Trainer.start({
    helpers: a.engines > 1 ? { count: a.engines - 1, threads: a.threads, spawn: () => spawnWorker('gradients') } : undefined,
    modelDir: a.dir,
    examples,
    tokenizer: idTokenizer(),
    outDir: fs.mkdtempSync(path.join(os.tmpdir(), 'figa-bench-train-out-')),
    settings: {
      method: 'figa',
      tau: a.tau,
      microBatch: a.micro,
      accumulation: a.accum,
      lr: 1e-5,
      heldOut: 0,
      maxSteps: 1000,
      seed: 0,
      maxLength: 1024,
      evalEvery: 0,
      checkpointEvery: 0,
      efficiency: a.efficiency,
    },
  })
  const stepS: number[] = []
  const losses: number[] = []
  for (let i = 0; i <= a.runs; i++) {
    const t0 = performance.now()
    const m = (await t.trainStep())!
    if (i > 0) stepS.push((performance.now() - t0) / 1000)
    losses.push(m.loss)
  }
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm
  const heapMiB = wasm?.HEAPU8 ? wasm.HEAPU8.length / 2 ** 20 : undefined
  t.dispose()
  return { ok: true, detail: info.detail, stepS, losses, pairs: a.micro * a.accum, heapMiB }
}

// ------------------------------------------------------------------------------------------------
// ablation child: every efficiency configuration in one process, alternating, on the same model and
// the same step's pairs (the shared machine's load then hits every configuration alike). Times the
// gradient of one optimizer step (accumulateStep) and adds the AdamW update, timed separately (it
// is the same for every configuration); weights are not updated, so every round sees the same work.

interface AblationArgs {
  dir: string
  data: string
  threads: number
  micro: number
  accum: number
  rounds: number
  tau: number | null
  configs: { name: string; efficiency: Efficiency }[]
}

interface AblationResult {
  ok: boolean
  error?: string
  detail?: string
  stepS?: Record<string, number[]>
  optimizerS?: number
  pruned?: Record<string, number>
  computed?: Record<string, number>
}

async function ablationChild(a: AblationArgs): Promise<AblationResult> {
  const { initBackend } = await import('../src-main/model/backend')
  const { loadModel } = await import('../src-main/model/model')
  const { prepareExamples } = await import('../src-main/train/data')
  const { fullTrainable } = await import('../src-main/train/params')
  const { accumulateStep } = await import('../src-main/train/step')
  const { AdamW } = await import('../src-main/train/optimizer')
  const { withDefaults } = await import('../src-main/train/settings')
  const { TrainRng } = await import('../src-main/train/rng')
  const info = await initBackend('wasm', { threads: a.threads })
  const raw: Pair[] = JSON.parse(fs.readFileSync(a.data, 'utf8')).pairs
  const examples = raw.map((p, i) => ({ id: i, prompt: p.prompt.join(' '), original: p.original.join(' '), revised: p.revised.join(' ') }))
  const model = await loadModel(a.dir)
  const base = withDefaults({ method: 'figa', tau: a.tau, microBatch: a.micro, accumulation: a.accum, maxLength: 1024, seed: 0 })
  const all = prepareExamples(examples, { tokenizer: idTokenizer(), settings: base, maxPositions: model.config.maxPositions }).pairs
  const order = new TrainRng(0).permutation(all.length)
  const pairs = order.slice(0, a.micro * a.accum).map((i) => all[i])
  const trainable = fullTrainable(model)
  const stepS: Record<string, number[]> = {}
  const pruned: Record<string, number> = {}
  const computed: Record<string, number> = {}
  let acc: Map<string, Float32Array> | null = null
  for (let round = 0; round <= a.rounds; round++) {
    for (const c of a.configs) {
      const t0 = performance.now()
      const g = (await accumulateStep({ model, trainable, pairs, settings: { ...base, efficiency: c.efficiency }, padId: EOS }))!
      const dt = (performance.now() - t0) / 1000
      if (round > 0) (stepS[c.name] ??= []).push(dt)
      pruned[c.name] = g.prunedBranches
      computed[c.name] = g.computedTokens
      acc = g.acc
    }
  }
  // the AdamW update of every parameter, as a trainer step does it (lr 0: the weights stay)
  const opt = new AdamW(trainable.slots, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 })
  const optTimes: number[] = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    opt.begin()
    trainable.apply((slot, p) => opt.update(slot, p, acc!.get(slot.name)!, 0, 1))
    optTimes.push((performance.now() - t0) / 1000)
  }
  model.dispose()
  return { ok: true, detail: info.detail, stepS, optimizerS: median(optTimes), pruned, computed }
}

// ------------------------------------------------------------------------------------------------
// parent

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def
}


interface PeerSetup {
  name: string
  env: Record<string, string>
}

/** The BLAS builds the recipe runs with; `--blas openmp|pthread` keeps one (default: both). */
function peerSetups(): PeerSetup[] {
  const lib = '/usr/lib/x86_64-linux-gnu'
  const want = flag('blas', 'openmp,pthread').split(',')
  const out: PeerSetup[] = []
  if (want.includes('openmp') && fs.existsSync(`${lib}/openblas-openmp/libblas.so.3`)) {
    out.push({ name: 'OpenBLAS 0.3.21 openmp, SkylakeX (AVX-512) kernels', env: { LD_LIBRARY_PATH: `${lib}/openblas-openmp`, OPENBLAS_CORETYPE: 'SkylakeX' } })
  }
  if (want.includes('pthread') && fs.existsSync(`${lib}/openblas-pthread/libblas.so.3`)) {
    out.push({ name: 'OpenBLAS 0.3.21 pthread, SkylakeX (AVX-512) kernels', env: { LD_LIBRARY_PATH: `${lib}/openblas-pthread`, OPENBLAS_CORETYPE: 'SkylakeX' } })
  }
  if (!out.length) out.push({ name: 'system libblas', env: {} })
  return out
}

function runPeer(dir: string, data: string, micro: number, accum: number, runs: number, threads: number, setup: PeerSetup, tau: number | null): RunResult & { blas?: string } {
  const py = '/usr/bin/python3'
  if (!fs.existsSync(py)) return { ok: false, error: 'no /usr/bin/python3' }
  const args = { dir, data, micro_batch: micro, accumulation: accum, steps: runs, warmup_steps: 1, threads, alpha: 1, beta: 0.5, tau: tau ?? 1e30, lr: 1e-5 }
  const r = spawnSync(py, [path.join(root, 'bench/peer/train.py'), JSON.stringify(args)], {
    encoding: 'utf8',
    timeout: 60 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...setup.env, OMP_NUM_THREADS: String(threads) },
  })
  if (r.status !== 0) {
    const err = (r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''
    return { ok: false, error: /No module named 'torch'/.test(err) ? 'python3-torch not installed (apt-get install -y python3-torch libopenblas0-pthread)' : err || `exit ${r.status}` }
  }
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!)
  return { ok: true, stepS: j.step_s, losses: j.losses, detail: `torch ${j.torch}, ${j.threads} thread(s), ${path.basename(path.dirname(j.blas))}/${path.basename(j.blas)}`, blas: j.blas }
}

function cpuPeak(): { flops: number; text: string } {
  const cpus = os.cpus()
  let mhz = cpus[0]?.speed ?? 0
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))
    if (m) mhz = Number(m[1])
  } catch {
    // not Linux
  }
  const flops = cpus.length * 32 * mhz * 1e6
  return { flops, text: `${cpus.length} cores × 32 fp32 FLOP/cycle × ${(mhz / 1000).toFixed(2)} GHz = ${(flops / 1e9).toFixed(0)} GFLOP/s` }
}

async function parent(): Promise<void> {
  const runs = Number(flag('runs', '3'))
  // the trainer's micro-batch: 4 pairs (packed rows, so no padding cost; fits the WASM memory here)
  const micro = Number(flag('micro', '4'))
  const accum = Number(flag('accum', '2'))
  // the recipe pads and batches: its own micro-batch(es) (same pairs per optimizer step)
  const peerMicros = flag('peer-micro', '2,4').split(',').map(Number)
  // trainer configurations, engines × WASM threads each: one engine per core (the trainer's default
  // on WASM, gradient helpers) and one engine with all the threads
  const cores = os.availableParallelism()
  const engineList = flag('engines', `${Math.min(4, cores)}x1,1x${Math.min(4, cores)}`)
    .split(',')
    .map((c) => c.split('x').map(Number) as [number, number])
  const promptLen = Number(flag('pairs-prompt', '60'))
  const respLen = Number(flag('response', '200'))
  const edit = Number(flag('edit', '0.15'))
  const repeat = Number(flag('repeat', '2'))
  const tauFlag = flag('tau', '0.6')
  const tau = tauFlag === 'none' ? null : Number(tauFlag)
  const noPeer = process.argv.includes('--no-peer')
  const noAblation = process.argv.includes('--no-ablation')

  const { initBackend } = await import('../src-main/model/backend')
  const { randomModel, saveModel } = await import('../src-main/model/model')
  const { parseConfig } = await import('../src-main/model/config')
  const { TrainRng } = await import('../src-main/train/rng')
  const { computeSignals } = await import('../src-main/signals/weights')
  await initBackend('wasm', { threads: 1 })

  const cpu = os.cpus()
  const peak = cpuPeak()
  console.log(`# train bench — ${new Date().toISOString()}`)
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, Node ${process.version}; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  console.log(`peak (for MFU): ${peak.text}`)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'figa-bench-train-'))
  try {
    const cfg = parseConfig(CONFIG)
    const dir = path.join(tmp, 'model')
    const m = randomModel(cfg, 1234, CONFIG)
    const params = m.paramCount
    await saveModel(m, dir)
    m.dispose()
    const eff = micro * accum
    const n = eff * (runs + 1)
    const pairs = makePairs(n, promptLen, respLen, edit, 42)
    // the trainer's data order (seed 0, no held-out split, no LoRA): the peer gets the same batches
    const order = new TrainRng(0).permutation(n)
    const peerPairs = order.map((i) => pairs[i])
    const data = path.join(tmp, 'pairs.json')
    fs.writeFileSync(data, JSON.stringify({ pairs, eos: EOS }))
    const peerData = path.join(tmp, 'peer-pairs.json')
    fs.writeFileSync(peerData, JSON.stringify({ pairs: peerPairs, eos: EOS }))
    const tokensPerPair = pairs.reduce((s, p) => s + 2 * p.prompt.length + p.original.length + p.revised.length + 2, 0) / n
    let edited = 0
    let total = 0
    let shared = 0
    for (const p of pairs) {
      const sg = computeSignals(p.original, p.revised)
      edited += sg.counts.added + 2 * sg.counts.substituted + sg.counts.deleted
      total += p.original.length + p.revised.length
      let c = 0
      while (c < p.original.length && c < p.revised.length && p.original[c] === p.revised[c]) c++
      shared += p.prompt.length + c
    }
    console.log(
      `model: Llama d288 L6 H6 V32000 (stories15M shape), ${(params / 1e6).toFixed(1)}M parameters, random weights; ` +
        `pairs: prompt ${promptLen}, responses ${respLen} (±20 %), ${((100 * edited) / total).toFixed(0)} % of response tokens weighted (ŷ added/substituted, y deleted/substituted), ` +
        `${tokensPerPair.toFixed(0)} tokens per pair (both sequences), shared prefix ${(shared / n).toFixed(0)} tokens`,
    )
    if (peerMicros.some((pm) => (micro * accum) % pm)) throw new Error('--peer-micro must divide micro × accum')
    console.log(
      `step: ${eff} pairs (trainer: ${micro} pairs × ${accum} micro-batches; recipe: ${peerMicros.map((pm) => `${pm} × ${eff / pm}`).join(' or ')}), AdamW; ` +
        `median of ${runs} steps × ${repeat} round(s) after 1 warm-up step; FIGA α 1, β 0.5, γ 0, ${tau === null ? 'no τ filter' : `τ ${tau}`}\n`,
    )

    const on: Efficiency = { sharedPrefix: true, sparseHead: true, bucketing: true, pruneFiltered: true }
    const configs: { name: string; threads: number; engines: number; efficiency: Efficiency }[] = []
    for (const [e, t] of engineList)
      configs.push({ name: e > 1 ? `tfjs wasm ${e} engines × ${t}t, all savings on` : `tfjs wasm ${t}t, all savings on`, threads: t, engines: e, efficiency: on })
    const results = new Map<string, { stepS: number[]; r: RunResult }>()
    const peers = noPeer
      ? []
      : peerSetups().flatMap((s) => peerMicros.map((pm) => ({ name: `PyTorch recipe, ${s.name}, 2t${peerMicros.length > 1 ? `, micro-batch ${pm}` : ''}`, setup: s, threads: 2, micro: pm })))
    for (let round = 0; round < repeat; round++) {
      for (const c of configs) {
        process.stderr.write(`[${round + 1}/${repeat}] ${c.name} …\n`)
        const r = runChild<RunResult>(here, '--child', { dir, data, threads: c.threads, engines: c.engines, micro, accum, runs, efficiency: c.efficiency, tau } satisfies ChildArgs, 60 * 60_000)
        const e = results.get(c.name) ?? { stepS: [], r }
        if (r.ok) e.stepS.push(...r.stepS!)
        e.r = r.ok ? r : e.r.ok ? e.r : r
        results.set(c.name, e)
      }
      for (const p of peers) {
        process.stderr.write(`[${round + 1}/${repeat}] ${p.name} …\n`)
        const r = runPeer(dir, peerData, p.micro, (micro * accum) / p.micro, runs, p.threads, p.setup, tau)
        const e = results.get(p.name) ?? { stepS: [], r }
        if (r.ok) e.stepS.push(...r.stepS!)
        e.r = r.ok ? r : e.r.ok ? e.r : r
        results.set(p.name, e)
      }
    }
    let peerBest = 0
    for (const p of peers) {
      const e = results.get(p.name)!
      if (e.stepS.length) peerBest = Math.max(peerBest, eff / median(e.stepS))
    }
    const rows: string[][] = []
    const row = (name: string, s: number, note: string, isPeer: boolean) => {
      const pps = eff / s
      const tps = pps * tokensPerPair
      const mfu = (6 * params * tps) / peak.flops
      rows.push([name, s.toFixed(2), pps.toFixed(2), tps.toFixed(0), `${(100 * mfu).toFixed(1)}%`, isPeer || !peerBest ? '' : `${(pps / peerBest).toFixed(2)}×`, note])
    }
    for (const name of [...configs.map((c) => c.name), ...peers.map((p) => p.name)]) {
      const e = results.get(name)!
      if (!e.stepS.length) {
        rows.push([name, '—', '—', '—', '—', '—', e.r.error ?? 'failed'])
        continue
      }
      const note = [e.r.detail, e.r.heapMiB ? `WASM heap ${e.r.heapMiB.toFixed(0)} MiB` : '', e.r.losses ? `loss step 1 ${e.r.losses[0].toFixed(4)}` : ''].filter(Boolean).join('; ')
      row(name, median(e.stepS), note, name.startsWith('PyTorch'))
    }
    console.log(`## Trainer vs the recipe (separate processes, interleaved; median of ${runs} steps × ${repeat} rounds)`)
    console.log(
      '(loss step 1: the recipe divides each micro-batch by its own N and averages them (HF accumulation); the trainer divides the step by its N — the same number when one micro-batch holds the step)',
    )
    printTable(['runner', 's/step', 'pairs/s', 'tokens/s', 'MFU', 'vs best peer', 'notes'], rows)
    rows.length = 0
    if (!noAblation) {
      const abThreads = Number(flag('ablation-threads', '1'))
      const rounds = Number(flag('ablation-rounds', '3'))
      const ab = [
        { name: 'all savings on', efficiency: on },
        { name: 'shared prefix off', efficiency: { ...on, sharedPrefix: false } },
        { name: 'sparse head off', efficiency: { ...on, sparseHead: false } },
        { name: 'bucketing off', efficiency: { ...on, bucketing: false } },
        { name: 'pruning of filtered y off', efficiency: { ...on, pruneFiltered: false } },
        { name: 'all savings off', efficiency: { sharedPrefix: false, sparseHead: false, bucketing: false, pruneFiltered: false } },
      ]
      process.stderr.write(`ablation (${abThreads}t, ${rounds} rounds) …\n`)
      const r = runChild<AblationResult>(here, '--ablation', { dir, data, threads: abThreads, micro, accum, rounds, tau, configs: ab } satisfies AblationArgs, 60 * 60_000)
      if (!r.ok) console.log(`\nablation failed: ${r.error}`)
      else {
        const onS = median(r.stepS!['all savings on']) + r.optimizerS!
        for (const c of ab) {
          const s = median(r.stepS![c.name]) + r.optimizerS!
          row(`tfjs wasm ${abThreads}t, ${c.name}`, s, `×${(s / onS).toFixed(2)} the time of all on; ${r.computed![c.name]} tokens through the model; y rows pruned in ${r.pruned![c.name]} of ${accum} micro-batches`, false)
        }
        console.log(
          `\n## Each saving off in turn (one process, configurations alternating, median of ${rounds} rounds; gradient of the step + the AdamW update (${r.optimizerS!.toFixed(2)} s))`,
        )
        printTable(['runner', 's/step', 'pairs/s', 'tokens/s', 'MFU', 'vs best peer', 'notes'], rows)
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log(`\nload average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share the cores: compare rows of the same run)`)
}

function printTable(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const num = (i: number) => i > 0 && i < 6
  const line = (r: string[]) => `| ${r.map((c, i) => (num(i) ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ')} |`
  console.log(line(head))
  console.log(`|${w.map((n, i) => (num(i) ? ' ' + '-'.repeat(n) + ':|' : ' ' + '-'.repeat(n) + ' |')).join('')}`)
  for (const r of rows) console.log(line(r))
}

childOrParent({ '--child': child, '--ablation': ablationChild }, parent)
