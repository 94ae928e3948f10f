/**
 * Benchmark: FIGA token signals for 20,000 (y, ŷ) pairs of ~200 token ids with ~15 % edits
 * (each token of y deleted, replaced or followed by an insertion with probability 0.05 each;
 * both end with the same EOS id, as in the official code).
 *
 *   ours        computeSignals (python-Levenshtein-exact editops, classes, counts) plus
 *               figaWeights with the EOS rule: everything the trainer needs for a pair.
 *   python      the official FIGA collator's mask building (RUCAIBox/FIGA train.py,
 *               transform_tensor + the two mask loops incl. the EOS scan) on python-Levenshtein
 *               0.12 (ids mapped to str with chr, as 0.12 only takes strings), in
 *               /usr/bin/python3. The released collator calls editops twice per pair (once
 *               per mask); the "one editops call" row is the same work with a single call.
 *               Python lists replace the torch tensors (torch indexing would be slower).
 *
 * Both sides get the same pairs (written to a temp file), time only the loop (no start-up,
 * no I/O), repeat it RUNS times and report the median. The mask totals of both sides are
 * compared as a sanity check.
 *
 *   npx tsx bench/signals.ts [pairs] [runs]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { editops } from '../src-main/signals/editops'
import { computeSignals, DEFAULT_FIGA_PARAMS, figaWeights } from '../src-main/signals/weights'

const PAIRS = Number(process.argv[2] ?? 20000)
const RUNS = Number(process.argv[3] ?? 5)
const LENGTH = 200
const EDIT_RATE = 0.15
const VOCAB = 32000
const EOS = 2

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function makePairs(): [number[], number[]][] {
  const r = mulberry32(42)
  const tok = () => 3 + Math.floor(r() * (VOCAB - 3))
  const pairs: [number[], number[]][] = []
  for (let p = 0; p < PAIRS; p++) {
    const n = LENGTH - 20 + Math.floor(r() * 41)
    const y = Array.from({ length: n }, tok)
    const yhat: number[] = []
    for (const x of y) {
      const u = r()
      if (u < EDIT_RATE / 3) continue
      else if (u < (2 * EDIT_RATE) / 3) yhat.push(tok())
      else if (u < EDIT_RATE) yhat.push(x, tok())
      else yhat.push(x)
    }
    y.push(EOS)
    yhat.push(EOS)
    pairs.push([y, yhat])
  }
  return pairs
}

const PYTHON = String.raw`
import json, sys, time
import Levenshtein
from importlib.metadata import version
pairs = json.load(open(sys.argv[1]))
EOS = int(sys.argv[3])

def transform_tensor(source, target):
    # official: Levenshtein.editops(source.tolist(), target.tolist()); 0.12 needs str
    operations = Levenshtein.editops(''.join(map(chr, source)), ''.join(map(chr, target)))
    return [i[2] for i in operations if i[0] != 'delete'], [i[1] for i in operations if i[0] != 'insert']

def official(raw, lab):
    my_mask = [0] * len(lab)
    my_mask_neg = [0] * len(raw)
    operations, op = transform_tensor(raw, lab)
    for j in operations:
        my_mask[j] = 1
    for j, _ in enumerate(lab):
        if lab[j] == EOS:
            my_mask[j] = 1
            break
    op, operations = transform_tensor(raw, lab)
    for j in operations:
        my_mask_neg[j] = -1
    for j, _ in enumerate(raw):
        if raw[j] == EOS:
            my_mask_neg[j] = 1
            break
    return my_mask, my_mask_neg

def single(raw, lab):
    my_mask = [0] * len(lab)
    my_mask_neg = [0] * len(raw)
    good, bad = transform_tensor(raw, lab)
    for j in good:
        my_mask[j] = 1
    my_mask[len(lab) - 1] = 1
    for j in bad:
        my_mask_neg[j] = -1
    return my_mask, my_mask_neg

check = sys.argv[2] == 'check'
out = {'python': sys.version.split()[0], 'levenshtein': version('python-Levenshtein')}
for name, fn in (('official', official), ('single', single)):
    t0 = time.perf_counter()
    for raw, lab in pairs:
        fn(raw, lab)
    out[name] = {'time': time.perf_counter() - t0}
    if check:
        good = bad = 0
        for raw, lab in pairs:  # untimed: totals for the cross-check
            m, n = fn(raw, lab)
            good += sum(1 for v in m[:-1] if v == 1)
            bad += sum(1 for v in n if v == -1)
        out[name].update(good=good, bad=bad)
print(json.dumps(out))
`

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function main(): void {
  const pairs = makePairs()
  const meanLen = pairs.reduce((n, [y]) => n + y.length, 0) / pairs.length
  let meanDist = 0

  const dir = mkdtempSync(join(tmpdir(), 'figa-bench-'))
  const file = join(dir, 'pairs.json')
  writeFileSync(file, JSON.stringify(pairs))
  type PyRun = { python: string; levenshtein: string; official: { time: number; good?: number; bad?: number }; single: { time: number; good?: number; bad?: number } }
  const python = (check: boolean): PyRun => {
    const res = spawnSync('/usr/bin/python3', ['-c', PYTHON, file, check ? 'check' : 'time', String(EOS)], { encoding: 'utf8', maxBuffer: 1 << 24 })
    if (res.status !== 0) {
      console.error(res.stderr || res.error?.message)
      console.error('python side failed: needs /usr/bin/python3 with python3-levenshtein (apt-get install -y python3-levenshtein)')
      process.exit(1)
    }
    return JSON.parse(res.stdout) as PyRun
  }

  // Runs alternate between the two sides so that a busy machine slows both alike.
  // Our run 0 warms up the JIT and is not reported; the Python check run is not timed either.
  const oursTimes: number[] = []
  const opsTimes: number[] = []
  const pyOfficial: number[] = []
  const pySingle: number[] = []
  const py: PyRun = python(true)
  try {
    for (let run = 0; run <= RUNS; run++) {
      const t0 = performance.now()
      for (const [y, yhat] of pairs) figaWeights(computeSignals(y, yhat), DEFAULT_FIGA_PARAMS, { revisedEos: true })
      const dt = (performance.now() - t0) / 1000
      const t1 = performance.now()
      for (const [y, yhat] of pairs) editops(y, yhat)
      const dt2 = (performance.now() - t1) / 1000
      if (run === 0) continue
      oursTimes.push(dt)
      opsTimes.push(dt2)
      const p = python(false)
      pyOfficial.push(p.official.time)
      pySingle.push(p.single.time)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  let good = 0
  let bad = 0
  for (const [y, yhat] of pairs) {
    // untimed: totals for the cross-check with Python
    const s = computeSignals(y, yhat)
    const w = figaWeights(s, DEFAULT_FIGA_PARAMS, { revisedEos: true })
    for (let t = 0; t < w.revised.length - 1; t++) if (w.revised[t] !== 0) good++
    for (let t = 0; t < w.original.length; t++) if (w.original[t] !== 0) bad++
    meanDist += s.distance / pairs.length
  }

  const rate = (times: number[]) => PAIRS / median(times)
  const ours = rate(oursTimes)
  const rows: [string, number][] = [
    ['ours: computeSignals + figaWeights (TS)', ours],
    ['ours: editops only (TS)', rate(opsTimes)],
    ['python: official collator (editops ×2 + masks)', rate(pyOfficial)],
    ['python: one editops call + masks', rate(pySingle)],
  ]
  const agree = py.official.good === good && py.official.bad === bad && py.single.good === good && py.single.bad === bad

  console.log(`FIGA signals benchmark — ${PAIRS} pairs, mean |y| ${meanLen.toFixed(0)} tokens, mean distance ${meanDist.toFixed(1)}, median of ${RUNS} runs`)
  console.log(`node ${process.version}, python ${py.python}, python-Levenshtein ${py.levenshtein}, ${cpus()[0]?.model ?? 'cpu'} (1 thread each)`)
  console.log('')
  const w = Math.max(...rows.map(([n]) => n.length))
  console.log(`${'implementation'.padEnd(w)} | ${'pairs/s'.padStart(9)} | ${'µs/pair'.padStart(8)} | ours ×`)
  console.log(`${'-'.repeat(w)}-|-${'-'.repeat(9)}-|-${'-'.repeat(8)}-|-------`)
  for (const [name, r] of rows) {
    console.log(`${name.padEnd(w)} | ${Math.round(r).toString().padStart(9)} | ${(1e6 / r).toFixed(1).padStart(8)} | ${(ours / r).toFixed(1).padStart(5)}×`)
  }
  console.log('')
  console.log(`marked tokens: ours good ${good} bad ${bad}; python good ${py.official.good} bad ${py.official.bad} → ${agree ? 'identical' : 'DIFFERENT'}`)
  if (!agree) process.exitCode = 1
}

main()
