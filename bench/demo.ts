// The embedded demo, measured: (1) the one-click run — a fresh data folder, the demo world and
// model registered on first start, Train with the recommended preset, exactly as the app runs it
// (a worker, held-out evaluations and checkpoints included) — timed from the click to "done";
// (2) the demo study (`figa eval --demo`): the base model, SFT on the revised responses and FIGA
// from the same base at the same budget, several seeds each, scored on the held-out prompts.
//
//   npx tsx bench/demo.ts [--one-click 1] [--seeds 1,2,3] [--steps N] [--no-study] [--json FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createServices } from '../src-main/services'
import type { DemoStudyReport, RunSummary } from '../src-main/api/types'
import { formatDemoStudy } from '../src-main/cli/demo-study-view'
import { table } from '../src-main/cli/output'

const args = process.argv.slice(2)
const option = (name: string) => {
  const at = args.indexOf(name)
  return at >= 0 ? args[at + 1] : undefined
}
const oneClickRuns = Number(option('--one-click') ?? 1)
const seeds = (option('--seeds') ?? '1,2,3').split(',').map(Number)
const steps = option('--steps') === undefined ? undefined : Number(option('--steps'))
const jsonOut = option('--json')
const ctx = { host: 'cli' as const }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

const oneClick: Array<{ seconds: number; steps: number; preset: string | null }> = []
for (let i = 0; i < oneClickRuns; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'figa-bench-demo-'))
  const services = await createServices({ dataDir, seedDemo: true })
  try {
    const datasets = (await services.call('datasets.list', {}, ctx)) as Array<{ id: number; name: string }>
    const models = (await services.call('models.list', {}, ctx)) as Array<{ id: number; name: string }>
    const started = Date.now()
    const run = (await services.call('runs.start', { datasetId: datasets.find((d) => d.name === 'demo')!.id, modelId: models[0].id, method: 'figa' }, ctx)) as RunSummary
    const finished = await new Promise<RunSummary>((done) => {
      const poll = setInterval(async () => {
        const r = (await services.call('runs.get', { runId: run.id }, ctx)) as RunSummary
        if (r.state !== 'running') {
          clearInterval(poll)
          done(r)
        }
      }, 500)
    })
    if (finished.state !== 'done') throw new Error(`the one-click run ended ${finished.state}: ${finished.error}`)
    oneClick.push({ seconds: (Date.now() - started) / 1000, steps: finished.step, preset: finished.preset })
    process.stderr.write(`one-click run ${i + 1}/${oneClickRuns}: ${oneClick.at(-1)!.seconds.toFixed(0)} s\n`)
  } finally {
    await services.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
if (oneClick.length) {
  console.log(`One click on Train (demo dataset, demo-model, FIGA, recommended preset; WASM backend, ${oneClick.length} run(s))\n`)
  console.log(table(['preset', 'steps', 'median time', 'runs'], [[oneClick[0].preset ?? '—', oneClick[0].steps, `${median(oneClick.map((r) => r.seconds)).toFixed(0)} s`, oneClick.map((r) => `${r.seconds.toFixed(0)} s`).join(', ')]]))
  console.log('')
}

if (!args.includes('--no-study')) {
  const dataDir = mkdtempSync(join(tmpdir(), 'figa-bench-study-'))
  const services = await createServices({ dataDir, seedDemo: false })
  try {
    const report = (await services.runJob('eval.demo', { seeds, maxSteps: steps }, ctx, (p) => process.stderr.write(`\r${p.done}/${p.total} ${p.message}`.padEnd(100)))) as DemoStudyReport
    process.stderr.write('\n')
    console.log(formatDemoStudy(report))
    if (jsonOut) writeFileSync(resolve(jsonOut), JSON.stringify({ oneClick, report }, null, 2) + '\n')
  } finally {
    await services.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
process.exit(0)
