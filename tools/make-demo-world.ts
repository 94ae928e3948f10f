// Writes the demo world (src-main/demo/world.ts) as SPA files the app imports: the train split
// as demo-spa.jsonl (the embedded demo dataset) and the held-out split as demo-heldout.jsonl,
// each line {instruction, input, original_output, revised_output} in that key order.
//
//   npx tsx tools/make-demo-world.ts [--out resources/demo] [--seed 1]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { BEHAVIOURS, generateWorld, type DemoPair, type Split } from '../src-main/demo/world'

const args = process.argv.slice(2)
const option = (name: string, fallback: string) => {
  const at = args.indexOf(name)
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback
}
const out = resolve(option('--out', 'resources/demo'))
const seed = Number(option('--seed', '1'))
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${option('--seed', '1')}`)

const world = generateWorld(seed)
const spaLine = (p: DemoPair) =>
  JSON.stringify({ instruction: p.instruction, input: p.input, original_output: p.original_output, revised_output: p.revised_output })

mkdirSync(out, { recursive: true })
const files: [Split, string][] = [
  ['train', 'demo-spa.jsonl'],
  ['heldout', 'demo-heldout.jsonl'],
]
for (const [split, name] of files) {
  const pairs = world.filter((p) => p.split === split)
  writeFileSync(join(out, name), pairs.map(spaLine).join('\n') + '\n')
  console.log(`wrote ${pairs.length} ${split} pairs to ${join(out, name)}`)
}

console.log(`\nseed ${seed}`)
console.log(`${'behaviour'.padEnd(12)}${'train'.padStart(7)}${'heldout'.padStart(9)}`)
for (const { behaviour, description } of BEHAVIOURS) {
  const n = (split: Split) => world.filter((p) => p.behaviour === behaviour && p.split === split).length
  console.log(`${behaviour.padEnd(12)}${String(n('train')).padStart(7)}${String(n('heldout')).padStart(9)}   ${description}`)
}
const total = (split: Split) => world.filter((p) => p.split === split).length
console.log(`${'total'.padEnd(12)}${String(total('train')).padStart(7)}${String(total('heldout')).padStart(9)}`)
