// bench/import: import 100k generated SPA pairs (~1 KB each) from JSONL through the same job
// the app runs (worker thread, one transaction), in a fresh process per run, and print the
// wall time and the process's peak RSS (main thread + worker). Target on the 2-core dev
// machine: ≤ 10 s and ≤ 500 MB.
//
//   npx tsx bench/import.ts [--pairs 100000] [--runs 3]
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ImportReport } from '../src-main/api/types'
import { createServices } from '../src-main/services'
import { spaRecords } from '../test/helpers/temp'

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}

if (args[0] === '--child') {
  // One measured import in this process.
  const [, file, dataDir] = args
  const services = await createServices({ dataDir })
  const fileId = services.files.registerPath(file).fileId
  const started = performance.now()
  const report = (await services.runJob('datasets.import', { fileId, name: 'bench' }, { host: 'cli' })) as ImportReport
  const ms = performance.now() - started
  await services.close()
  process.stdout.write(JSON.stringify({ ms, imported: report.imported, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n')
  process.exit(0)
}

const pairs = option('--pairs', 100_000)
const runs = option('--runs', 3)
const dir = mkdtempSync(join(tmpdir(), 'figa-bench-import-'))
const file = join(dir, 'pairs.jsonl')

// ~1 KB per line: instruction + input + two ~310-byte responses.
const chunk = 10_000
writeFileSync(file, '')
for (let start = 0; start < pairs; start += chunk) {
  const rows = spaRecords(Math.min(chunk, pairs - start), 930, start + 1).map((r, i) => ({ ...r, instruction: `#${start + i} ${r.instruction}` }))
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n', { flag: 'a' })
}
const sizeMb = statSync(file).size / 1024 ** 2

const results: Array<{ ms: number; imported: number; maxRssMb: number }> = []
for (let run = 0; run < runs; run++) {
  const dataDir = join(dir, `data-${run}`)
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', file, dataDir], { encoding: 'utf8' })
  if (child.status !== 0) throw new Error(`run ${run} failed: ${child.stderr}`)
  results.push(JSON.parse(child.stdout.trim().split('\n').pop()!))
  rmSync(dataDir, { recursive: true, force: true })
}
rmSync(dir, { recursive: true, force: true })

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ms = median(results.map((r) => r.ms))
const rss = median(results.map((r) => r.maxRssMb))
console.log(`bench/import: ${pairs.toLocaleString()} SPA pairs, ${sizeMb.toFixed(0)} MB JSONL, ${runs} runs (median), node ${process.versions.node}`)
console.log('')
console.log('| what | time (s) | rows/s | MB/s | peak RSS (MB) | target |')
console.log('|---|---|---|---|---|---|')
console.log(`| figa import (worker, one transaction) | ${(ms / 1000).toFixed(2)} | ${Math.round(pairs / (ms / 1000)).toLocaleString()} | ${(sizeMb / (ms / 1000)).toFixed(1)} | ${rss.toFixed(0)} | ≤ 10 s, ≤ 500 MB |`)
console.log('')
console.log(`runs: ${results.map((r) => `${(r.ms / 1000).toFixed(2)} s / ${r.maxRssMb.toFixed(0)} MB`).join(', ')}`)
