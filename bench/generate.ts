// Generation benchmark: prefill and KV-cached decode speed of the TF.js engine per backend, next to
// PyTorch running the same weights (bench/peer/generate.py) in the same run.
//
//   npx tsx bench/generate.ts [--models llama15m,gpt2] [--backends wasm:1,wasm:2,cpu,tensorflow]
//                             [--prompt 64] [--new 64] [--runs 5] [--peer-threads 1,2] [--no-peer]
//
// Each configuration runs in its own process (the WASM thread count is fixed per process). Random
// weights are written once as safetensors to a temp folder and read by every runner. Reported:
// median tokens/s over --runs runs after one warm-up run. Prefill = prompt tokens / time to the
// first token's logits (LM head on the last position only, as generation does); decode = greedy
// single-token steps with the KV cache.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { childOrParent, runChild } from './child-process'
import { CONFIG } from './train-workload'

const here = fileURLToPath(import.meta.url)
const root = path.resolve(path.dirname(here), '..')

interface ChildArgs {
  dir: string
  backend: string
  threads: number
  prompt: number[]
  newTokens: number
  runs: number
}

interface RunResult {
  ok: boolean
  error?: string
  detail?: string
  prefill?: number[]
  decode?: number[]
  tokens?: number[]
}

const MODELS: Record<string, { label: string; config: Record<string, unknown> }> = {
  // stories15M-shaped (llama2.c): 15.2M parameters, tied embeddings
  llama15m: {
    label: 'Llama 15M (d288 L6 H6 V32000)',
    config: CONFIG,
  },
  // GPT-2 small: 124M parameters
  gpt2: {
    label: 'GPT-2 124M (d768 L12 H12 V50257)',
    config: {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      n_positions: 1024,
      n_inner: null,
      vocab_size: 50257,
      layer_norm_epsilon: 1e-5,
      activation_function: 'gelu_new',
      bos_token_id: 50256,
      eos_token_id: 50256,
    },
  },
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// ------------------------------------------------------------------------------------------------
// child: one backend configuration

async function child(args: ChildArgs): Promise<RunResult> {
  const { initBackend } = await import('../src-main/model/backend')
  const { loadModel } = await import('../src-main/model/model')
  const info = await initBackend(args.backend as 'wasm', { threads: args.threads })
  if (info.name !== args.backend) return { ok: false, error: `got ${info.name}`, detail: info.detail }
  const model = await loadModel(args.dir)
  const prefill: number[] = []
  const decode: number[] = []
  let tokens: number[] = []
  const argmax = (a: Float32Array) => {
    let b = 0
    for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i
    return b
  }
  for (let run = 0; run <= args.runs; run++) {
    const cache = model.newCache()
    const t0 = performance.now()
    let lg = model.forward([args.prompt], { cache, lastOnly: true })
    let tok = argmax((await lg.data()) as Float32Array)
    lg.dispose()
    const t1 = performance.now()
    const out = [tok]
    for (let i = 1; i < args.newTokens; i++) {
      lg = model.forward([[tok]], { cache, lastOnly: true })
      tok = argmax((await lg.data()) as Float32Array)
      lg.dispose()
      out.push(tok)
    }
    const t2 = performance.now()
    cache.dispose()
    if (run > 0) {
      prefill.push((args.prompt.length * 1000) / (t1 - t0))
      decode.push(((args.newTokens - 1) * 1000) / (t2 - t1))
    }
    tokens = out
  }
  model.dispose()
  return { ok: true, detail: info.detail, prefill, decode, tokens }
}

// ------------------------------------------------------------------------------------------------
// parent

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def
}


/**
 * The peer's BLAS: OpenBLAS with OpenMP (DESIGN §4: the pthread build oversubscribes with 2 torch
 * threads). OpenBLAS 0.3.21 misdetects some CPUs and falls back to SSE kernels (Sapphire Rapids);
 * then OPENBLAS_CORETYPE picks SkylakeX (AVX-512) or Haswell (AVX2). Elsewhere its own choice stands.
 */
function blasSetup(): { name: string; env: Record<string, string> } {
  const lib = '/usr/lib/x86_64-linux-gnu'
  let dir = ''
  if (fs.existsSync(`${lib}/openblas-openmp/libblas.so.3`)) dir = `${lib}/openblas-openmp`
  else if (fs.existsSync(`${lib}/openblas-pthread/libblas.so.3`)) dir = `${lib}/openblas-pthread`
  if (!dir) return { name: 'system BLAS', env: {} }
  const env: Record<string, string> = { LD_LIBRARY_PATH: dir }
  const probe = spawnSync(
    '/usr/bin/python3',
    ['-c', `import ctypes;h=ctypes.CDLL("${dir}/libopenblas.so.0");h.openblas_get_corename.restype=ctypes.c_char_p;print(h.openblas_get_corename().decode())`],
    { encoding: 'utf8', env: { ...process.env, OPENBLAS_CORETYPE: '' } },
  )
  const core = (probe.stdout ?? '').trim()
  const flags = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : ''
  const weak = /^(Prescott|Core2|Penryn|Dunnington|Nehalem|Atom|Katmai|Coppermine|Northwood|Banias|Opteron|Barcelona)$/i.test(core)
  if (weak && / avx512f/.test(flags)) env.OPENBLAS_CORETYPE = 'SkylakeX'
  else if (weak && / avx2/.test(flags)) env.OPENBLAS_CORETYPE = 'Haswell'
  const kind = dir.endsWith('openmp') ? 'openmp' : 'pthread'
  return { name: `OpenBLAS ${kind} ${env.OPENBLAS_CORETYPE ?? core}${env.OPENBLAS_CORETYPE ? ` (forced; detected ${core})` : ''}`, env }
}

function runPeer(dir: string, prompt: number[], newTokens: number, runs: number, threads: number, matmul: string, env: Record<string, string>): RunResult {
  const py = '/usr/bin/python3'
  if (!fs.existsSync(py)) return { ok: false, error: 'no /usr/bin/python3' }
  const r = spawnSync(py, [path.join(root, 'bench/peer/generate.py'), JSON.stringify({ dir, prompt, new_tokens: newTokens, runs, threads, matmul })], {
    encoding: 'utf8',
    timeout: 30 * 60_000,
    env: { ...process.env, OPENBLAS_CORETYPE: '', ...env, OMP_NUM_THREADS: String(threads) },
  })
  if (r.status !== 0) {
    const err = (r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''
    return { ok: false, error: /No module named 'torch'/.test(err) ? 'python3-torch not installed (apt-get install -y python3-torch libopenblas0-openmp)' : err || `exit ${r.status}` }
  }
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!)
  return { ok: true, prefill: j.prefill_tps, decode: j.decode_tps, tokens: j.tokens, detail: `torch ${j.torch}, ${j.blas}` }
}

function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—'
  return x >= 100 ? x.toFixed(0) : x.toFixed(1)
}

function agreeing(a: number[] | undefined, b: number[] | undefined): string {
  if (!a || !b) return ''
  let n = 0
  while (n < a.length && n < b.length && a[n] === b[n]) n++
  return n === a.length ? 'all' : `${n}/${a.length}`
}

async function parent(): Promise<void> {
  const models = flag('models', 'llama15m,gpt2').split(',')
  const backends = flag('backends', 'wasm:1,wasm:2,cpu,tensorflow').split(',')
  const promptLen = Number(flag('prompt', '64'))
  const newTokens = Number(flag('new', '64'))
  const runs = Number(flag('runs', '5'))
  const peerThreads = flag('peer-threads', '1,2').split(',').map(Number)
  const noPeer = process.argv.includes('--no-peer')

  const { initBackend } = await import('../src-main/model/backend')
  const { randomModel, saveModel } = await import('../src-main/model/model')
  const { parseConfig } = await import('../src-main/model/config')
  await initBackend('wasm', { threads: 1 })

  const cpu = os.cpus()
  console.log(`# generate bench — ${new Date().toISOString()}`)
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, Node ${process.version}; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`)
  console.log(`prompt ${promptLen} tokens, ${newTokens} new tokens (greedy, KV cache), median of ${runs} runs after 1 warm-up\n`)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'figa-bench-gen-'))
  try {
    for (const key of models) {
      const spec = MODELS[key]
      if (!spec) throw new Error(`unknown model ${key} (have ${Object.keys(MODELS).join(', ')})`)
      const cfg = parseConfig(spec.config)
      const dir = path.join(tmp, key)
      const m = randomModel(cfg, 1234, spec.config)
      const params = m.paramCount
      await saveModel(m, dir)
      m.dispose()
      const prompt = Array.from({ length: promptLen }, (_, i) => (i * 7919 + 13) % cfg.vocabSize)
      const rows: string[][] = []
      let peerBest = 0
      let peerTokens: number[] | undefined
      const results: { name: string; r: RunResult }[] = []
      for (const b of backends) {
        const [name, th] = b.split(':')
        const threads = Number(th ?? 1)
        // the pure-JS backend is ~30x slower: fewer runs and tokens
        const slow = name === 'cpu'
        const a: ChildArgs = { dir, backend: name, threads, prompt: slow ? prompt.slice(0, 16) : prompt, newTokens: slow ? 8 : newTokens, runs: slow ? 1 : runs }
        process.stderr.write(`${key}: ${b} …\n`)
        const r = runChild<RunResult>(here, '--child', a, 20 * 60_000)
        results.push({ name: name === 'wasm' ? `tfjs wasm ${threads}t` : `tfjs ${name}`, r })
      }
      const peers: { name: string; r: RunResult }[] = []
      if (!noPeer) {
        const blas = blasSetup()
        for (const mm of ['linear', 'gemv']) {
          for (const t of peerThreads) {
            process.stderr.write(`${key}: pytorch ${mm} ${t} thread(s) …\n`)
            const r = runPeer(dir, prompt, newTokens, runs, t, mm, blas.env)
            peers.push({ name: `PyTorch ${mm === 'linear' ? 'F.linear' : 'mv decode'} ${t}t`, r })
            if (r.ok) {
              const d = median(r.decode!)
              if (d > peerBest) {
                peerBest = d
                peerTokens = r.tokens
              }
            }
          }
        }
      }
      for (const { name, r } of [...results, ...peers]) {
        if (!r.ok) {
          rows.push([name, '—', '—', '—', r.error ?? 'failed'])
          continue
        }
        const pre = median(r.prefill!)
        const dec = median(r.decode!)
        const pct = peerBest ? `${((100 * dec) / peerBest).toFixed(0)}%` : '—'
        const note = [r.detail, peerTokens && !name.startsWith('PyTorch') && r.tokens!.length === peerTokens.length ? `greedy tokens = peer: ${agreeing(r.tokens, peerTokens)}` : '']
          .filter(Boolean)
          .join('; ')
        rows.push([name, fmt(pre), fmt(dec), name.startsWith('PyTorch') ? '' : pct, note])
      }
      console.log(`## ${spec.label}, ${(params / 1e6).toFixed(1)}M parameters`)
      printTable(['runner', 'prefill tok/s', 'decode tok/s', 'decode vs best peer', 'notes'], rows)
      console.log('')
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log(`load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share the cores: compare rows of the same run)`)
}

function printTable(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => `| ${r.map((c, i) => (i > 0 && i < 4 ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ')} |`
  console.log(line(head))
  console.log(`|${w.map((n, i) => (i > 0 && i < 4 ? ' ' + '-'.repeat(n) + ':|' : ' ' + '-'.repeat(n) + ' |')).join('')}`)
  for (const r of rows) console.log(line(r))
}

childOrParent({ '--child': child }, parent)
