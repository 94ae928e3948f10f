#!/usr/bin/env node
// `npm test`: type-check, build the renderer the end-to-end tests load, run every test
// (unit, integration, end-to-end in Chromium), then print "N passed, N failed".
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env }).status ?? 1

const steps = [
  ['type-check', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['svelte-check', bin('svelte-check'), ['--tsconfig', './tsconfig.json', '--threshold', 'error', '--output', 'human']],
  ['build', bin('electron-vite'), ['build']],
]
for (const [name, cmd, args] of steps) {
  console.log(`\n── ${name}`)
  if (run(cmd, args) !== 0) {
    console.log(`\n${name} failed`)
    console.log('0 passed, 1 failed')
    process.exit(1)
  }
}

console.log('\n── tests')
const report = join(root, '.vitest-report.json')
rmSync(report, { force: true })
const status = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)])

let passed = 0
let failed = 0
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'))
  passed = r.numPassedTests
  // A test file that fails to load has no test results of its own: count it as one failure.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length
  failed = r.numFailedTests + brokenFiles
} else {
  failed = 1
}
if (status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed`)
process.exit(status === 0 && failed === 0 ? 0 : 1)
