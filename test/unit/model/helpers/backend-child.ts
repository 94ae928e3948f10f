// Run by backend.test.ts in a fresh process: initialise a given backend, check the parity fixtures'
// logits there, print one JSON line, and exit on its own (no process.exit: a live WASM thread pool
// must not keep the process alive).
import fs from 'node:fs'
import path from 'node:path'
import { type BackendPref, initBackend } from '../../../../src-main/model/backend'
import { loadModel } from '../../../../src-main/model/model'

const [pref, threads, ...fixtures] = process.argv.slice(2)
const info = await initBackend(pref as BackendPref, { threads: Number(threads) })
const diffs: Record<string, number> = {}
for (const name of fixtures) {
  const dir = path.resolve(import.meta.dirname, '../../../fixtures/parity', name)
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8'))
  const model = await loadModel(dir)
  let m = 0
  for (let i = 0; i < ref.inputs.length; i++) {
    const lg = model.forward([ref.inputs[i]])
    const d = (await lg.data()) as Float32Array
    lg.dispose()
    const V = model.config.vocabSize
    ref.logits[i].forEach((row: number[], t: number) => row.forEach((x: number, v: number) => (m = Math.max(m, Math.abs(d[t * V + v] - x)))))
  }
  model.dispose()
  diffs[name] = m
}
console.log(JSON.stringify({ info, diffs }))
