// Streaming: a ~50 MB file must go through with memory that does not grow with the file.

import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { openDataset } from '../../../src-main/data/index'
import { tempDir } from './helpers'

const temp = tempDir()
afterAll(temp.cleanup)

// Collect garbage on demand so the check measures what the reader retains, not GC timing.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const MB = 1024 * 1024

function record(i: number): string {
  return JSON.stringify({
    instruction: `Explain item ${i} in detail.`,
    input: '',
    original_output: `${'The answer is roughly this. '.repeat(8)}"${i}"\n`,
    revised_output: `${'The answer is precisely this. '.repeat(8)}${i}`,
  })
}

/** Writes ~`bytes` of records as JSONL or as {"data": [...]}; returns the record count. */
async function writeDataset(path: string, format: 'jsonl' | 'json', bytes: number): Promise<number> {
  const out = createWriteStream(path)
  let written = 0
  let count = 0
  if (format === 'json') out.write('{"data": [\n')
  while (written < bytes) {
    const text = format === 'json' ? `${count ? ',\n' : ''}${record(count)}` : `${record(count)}\n`
    count++
    written += text.length
    if (!out.write(text)) await once(out, 'drain')
  }
  out.end(format === 'json' ? '\n]}\n' : '')
  await once(out, 'finish')
  return count
}

describe('streaming a large file', () => {
  it.each(['jsonl', 'json'] as const)('reads 50 MB of %s with bounded memory', async (format) => {
    const path = join(temp.dir, `big.${format}`)
    const expected = await writeDataset(path, format, 50 * MB)
    gc()
    const baseline = process.memoryUsage().heapUsed
    let peak = 0
    let count = 0
    const { rows } = await openDataset(path)
    for await (const row of rows) {
      if (!row.row) throw new Error(`unexpected problem: ${row.problem?.reason}`)
      if (++count % 20_000 === 0) {
        gc()
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline)
      }
    }
    expect(count).toBe(expected)
    // Holding the file would retain well over 50 MB; a streaming reader keeps a few chunks.
    expect(peak).toBeLessThan(16 * MB)
  })
})
