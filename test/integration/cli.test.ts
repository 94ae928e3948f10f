// The figa command as a shell user runs it: real processes, exit codes, messages.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DemoStudyReport } from '../../src-main/api/types'
import { openDb } from '../../src-main/store/db'
import { spaRecords, tempDir, toJsonl } from '../helpers/temp'

const root = join(import.meta.dirname, '..', '..')
const t = tempDir('figa-cli-')
afterAll(() => t.cleanup())

function figa(args: string[], dataDir = join(t.dir, 'data')) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'figa.js'), '--data-dir', dataDir, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('figa CLI', () => {
  it('prints help and refuses unknown commands and options with exit code 2', () => {
    const help = figa(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/import.*datasets.*export.*serve/s)
    expect(figa(['frobnicate']).code).toBe(2)
    const bad = figa(['import', 'x.jsonl', '--format', 'xml'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/xml/)
  })

  it('imports, lists and exports a dataset that re-imports identically', () => {
    const src = join(t.dir, 'pairs.jsonl')
    writeFileSync(src, toJsonl(spaRecords(25)))
    const imp = figa(['import', src, '--dataset', 'cli-set'])
    expect(imp.stderr).toBe('')
    expect(imp.code).toBe(0)
    expect(imp.stdout).toMatch(/imported 25 rows \(25 pairs, 0 SFT\) into "cli-set"/)

    const list = figa(['datasets', '--json'])
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ name: 'cli-set', pairCount: 25 })])
    expect(figa(['datasets']).stdout).toMatch(/cli-set\s+25/)

    const out = join(t.dir, 'out.jsonl')
    expect(figa(['export', 'cli-set', '--out', out]).code).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(src, 'utf8'))
    expect(figa(['import', out, '--dataset', 'again']).code).toBe(0)
    expect(figa(['export', 'again', '--out', '-']).stdout).toBe(readFileSync(src, 'utf8'))
  })

  it('refuses a dataset name that exists, and a missing file, with exit code 1', () => {
    const src = join(t.dir, 'pairs.jsonl')
    const dup = figa(['import', src, '--dataset', 'cli-set'])
    expect(dup.code).toBe(1)
    expect(dup.stderr).toMatch(/exists already/)
    const missing = figa(['import', join(t.dir, 'nope.jsonl')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/nope\.jsonl/)
  })

  it('lists bad rows with line numbers, imports nothing, and with --skip-bad imports the rest and saves the report', () => {
    const src = join(t.dir, 'bad.jsonl')
    const rows = spaRecords(5)
    writeFileSync(src, toJsonl(rows.slice(0, 2)) + 'not json\n' + toJsonl(rows.slice(2)))
    const strict = figa(['import', src])
    expect(strict.code).toBe(1)
    expect(strict.stderr).toMatch(/line 3/)
    expect(strict.stderr).toMatch(/nothing imported/)
    expect(JSON.parse(figa(['datasets', '--json']).stdout).some((d: { name: string }) => d.name === 'bad')).toBe(false)

    const report = join(t.dir, 'report.json')
    const lenient = figa(['import', src, '--skip-bad', '--report', report])
    expect(lenient.code).toBe(0)
    expect(lenient.stdout).toMatch(/imported 5 rows/)
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ badCount: 1, imported: 5, bad: [expect.objectContaining({ location: 'line 3' })] })
  })

  it('reports duplicates and drops them with --dedupe', () => {
    const src = join(t.dir, 'dups.jsonl')
    const rows = spaRecords(4)
    writeFileSync(src, toJsonl([...rows, rows[1], rows[1]]))
    const kept = figa(['import', src, '--dataset', 'dups-kept'])
    expect(kept.stdout).toMatch(/imported 6 rows/)
    expect(kept.stderr).toMatch(/2 duplicate rows.*\n\s+line 5 repeats line 2/)
    const dropped = figa(['import', src, '--dataset', 'dups-dropped', '--dedupe', '--json'])
    expect(JSON.parse(dropped.stdout)).toMatchObject({ imported: 4, duplicateCount: 2, duplicatesSkipped: 2 })
  })

  it('lists the contract and calls any method', () => {
    expect(figa(['methods']).stdout).toMatch(/datasets\.import\s+job/)
    const info = figa(['call', 'app.info'])
    expect(JSON.parse(info.stdout)).toMatchObject({ name: 'FIGA Studio', host: 'cli' })
    const bad = figa(['call', 'pairs.list', '{"datasetId":"x"}'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/datasetId/)
  })

  it('loses nothing when an import is killed: the database stays intact and holds no partial dataset', async () => {
    const dataDir = join(t.dir, 'kill-data')
    const src = join(t.dir, 'big.jsonl')
    writeFileSync(src, toJsonl(spaRecords(150_000, 600)))
    expect(figa(['import', join(t.dir, 'pairs.jsonl'), '--dataset', 'before'], dataDir).code).toBe(0)

    const child = spawn(process.execPath, [join(root, 'bin', 'figa.js'), '--data-dir', dataDir, 'import', src, '--dataset', 'killed'], { stdio: 'ignore' })
    // Kill it once the import has begun writing (the WAL grows).
    await expect.poll(() => existsSync(join(dataDir, 'figa.db-wal')) && readFileSync(join(dataDir, 'figa.db-wal')).length > 4_000_000, { timeout: 30_000, interval: 50 }).toBe(true)
    child.kill('SIGKILL')
    await new Promise((r) => child.on('exit', r))

    const db = openDb(dataDir)
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
      expect(db.prepare('SELECT name FROM datasets ORDER BY name').pluck().all()).toEqual(['before'])
      expect(db.prepare('SELECT count(*) FROM pairs').pluck().get()).toBe(25)
    } finally {
      db.close()
    }
  })

  it('serves the app on 127.0.0.1 with a token and registers the demo world in an empty store', async () => {
    const dataDir = join(t.dir, 'serve-data')
    const child = spawn(process.execPath, [join(root, 'bin', 'figa.js'), '--data-dir', dataDir, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      await expect.poll(() => /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64})/.test(out), { timeout: 30_000 }).toBe(true)
      const openUrl = /Open (\S+)/.exec(out)![1]
      const url = new URL(openUrl)
      expect((await fetch(`${url.origin}/`)).status).toBe(401)
      const res = await fetch(`${url.origin}/api/call/datasets.list`, { method: 'POST', headers: { 'X-Figa-Token': url.searchParams.get('token')! }, body: '{}' })
      const { result } = (await res.json()) as { result: Array<{ name: string; pairCount: number }> }
      expect(result.map((d) => d.name).sort()).toEqual(['demo', 'demo-heldout'])
      expect(result.find((d) => d.name === 'demo')!.pairCount).toBeGreaterThanOrEqual(600)
      const models = await fetch(`${url.origin}/api/call/models.list`, { method: 'POST', headers: { 'X-Figa-Token': url.searchParams.get('token')! }, body: '{}' })
      expect(((await models.json()) as { result: Array<{ name: string }> }).result.map((m) => m.name)).toEqual(['demo-model'])
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise((r) => child.on('exit', r))
      }
    }
  })
})

describe('figa signals', () => {
  it('prints dataset statistics and one pair as a diff', () => {
    const dataDir = join(t.dir, 'signals-data')
    const src = join(t.dir, 'signals.jsonl')
    writeFileSync(src, toJsonl([
      { instruction: 'Pet?', input: '', original_output: 'The cat sat.', revised_output: 'The dog sat.' },
      { instruction: 'Same?', input: '', original_output: 'same', revised_output: 'same' },
    ]))
    expect(figa(['import', src, '--dataset', 's'], dataDir).code).toBe(0)
    const stats = figa(['signals', 's', '--tokenizer', 'byte', '--beta', '0'], dataDir)
    expect(stats.stderr).toBe('')
    expect(stats.code).toBe(0)
    expect(stats.stdout).toMatch(/2 pairs · signals computed for 2/)
    expect(stats.stdout).toMatch(/no-op pairs 1/)
    // One kept pair: 3 substituted ŷ tokens + its EOS; β = 0 penalises nothing.
    expect(stats.stdout).toMatch(/weighted tokens over the kept pairs \(α=1, β=0, γ=0\): 4 = 4 rewarded in ŷ \+ 0 penalised in y/)
    const json = JSON.parse(figa(['signals', 's', '--tokenizer', 'byte', '--json'], dataDir).stdout)
    expect(json.weightedTokens).toEqual({ revised: 4, original: 3, total: 7 })

    const diff = figa(['signals', 's', '--tokenizer', 'byte', '--show', '1'], dataDir)
    expect(diff.stdout).toContain('The [-c-]{+d+}[-a-]{+o+}[-t-]{+g+} sat.')
    expect(figa(['signals', 's', '--tokenizer', 'byte', '--show', '9'], dataDir).stderr).toMatch(/no row 9/)
    expect(figa(['signals', 's', '--tokenizer', '/nonexistent/model'], dataDir).stderr).toMatch(/nonexistent/)
  })
})

describe('figa models, generate, logits, engine', () => {
  const dataDir = join(t.dir, 'model-data')
  const demo = join(root, 'resources', 'demo-model')

  it('adds a model, lists it, and explains why a folder cannot be added', () => {
    const add = figa(['models', 'add', demo, '--name', 'demo'], dataDir)
    expect(add.stderr).toBe('')
    expect(add.stdout).toMatch(/added "demo": LlamaForCausalLM, 1\.8M parameters, F32/)
    expect(figa(['models'], dataDir).stdout).toMatch(/demo\s+LlamaForCausalLM\s+1\.8M/)
    const bad = figa(['models', 'add', join(t.dir)], dataDir)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/config\.json is missing/)
  })

  it('streams a seeded generation reproducibly, by name or folder', () => {
    const a = figa(['generate', '--model', 'demo', 'Hello', '--seed', '5', '--max-new', '10'], dataDir)
    expect(a.code).toBe(0)
    expect(a.stderr).toMatch(/\[(length|eos) · \d+ tokens · prompt \d+ tokens/)
    const b = figa(['generate', '--model', demo, 'Hello', '--seed', '5', '--max-new', '10'], join(t.dir, 'other-data'))
    expect(b.stdout).toBe(a.stdout)
    expect(figa(['generate', '--model', 'nope', 'Hi'], dataDir).stderr).toMatch(/neither a model folder nor the name/)
  })

  it('prints logits and greedy ids that match the parity reference', () => {
    const dir = join(root, 'test', 'fixtures', 'parity', 'llama-tiny-gqa')
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { inputs: number[][]; logits: number[][][]; greedy: number[][] }
    const out = figa(['logits', '--model', dir, '--ids', ref.inputs[1].join(','), '--greedy', '12'])
    expect(out.stderr).toBe('')
    const json = JSON.parse(out.stdout) as { logits: number[][]; greedy: number[] }
    let maxDiff = 0
    json.logits.forEach((row, i) => row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - ref.logits[1][i][j])))))
    expect(maxDiff).toBeLessThan(1e-4)
    expect(json.greedy).toEqual(ref.greedy[1])
    expect(figa(['logits', '--model', dir, '--ids', '5,x']).code).toBe(2)
    expect(figa(['logits', '--model', dir, '--ids', '99999']).stderr).toMatch(/outside the vocabulary/)
  })

  it('shows and sets the backend', () => {
    expect(figa(['engine'], dataDir).stdout).toMatch(/^backend (wasm|tensorflow|cpu) \(preference auto/)
    expect(figa(['engine', '--set', 'cpu'], dataDir).stdout).toMatch(/^backend cpu \(preference cpu/)
    expect(figa(['engine'], dataDir).stdout).toMatch(/preference cpu/)
  })
})

describe('figa chat and eval', () => {
  const dataDir = join(t.dir, 'chat-data')
  const demo = join(root, 'resources', 'demo-model')

  it('chats with two models side by side from piped input, keeping the conversation', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'figa.js'), '--data-dir', dataDir, 'chat', '--model', demo, '--compare', demo, '--max-new', '6', '--seed', '2'], {
      input: 'Hello\nAgain\n/quit\n', encoding: 'utf8', timeout: 120_000,
    })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^chatting with demo-model and demo-model \(alpaca template\)/)
    expect(r.stdout.match(/demo-model> /g)).toHaveLength(4)
    const list = JSON.parse(figa(['call', 'chat.list'], dataDir).stdout) as Array<{ turns: number }>
    expect(list[0].turns).toBe(2)
  })

  it('evaluates two models on a dataset and writes per-pair scores', () => {
    expect(figa(['import', join(root, 'test', 'fixtures', 'train', 'tiny-pairs.jsonl'), '--dataset', 'tiny'], dataDir).code).toBe(0)
    const out = join(t.dir, 'eval.csv')
    const r = figa(['eval', '--a', demo, '--b', demo, '--dataset', 'tiny', '--split', 'all', '--limit', '3', '--out', out], dataDir)
    expect(r.stderr).toMatch(/per-pair scores written/)
    expect(r.stdout).toMatch(/3 +pairs of tiny/)
    expect(r.stdout).toMatch(/demo-model\s+-?\d+\.\d{4}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d%/)
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(4)
  })

  it('says what eval needs without --demo', () => {
    const r = figa(['eval', '--a', demo], dataDir)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('eval needs --b, --dataset (or --demo)')
  })

  it('runs the demo study: base, SFT and FIGA trained from the demo model, scored on held-out prompts', () => {
    const out = join(t.dir, 'study.json')
    const r = spawnSync(process.execPath, [join(root, 'bin', 'figa.js'), '--data-dir', dataDir, 'eval', '--demo', '--seeds', '4', '--steps', '2', '--gamma', '0.25', '--limit', '10', '--answer-tokens', '12', '--out', out], {
      encoding: 'utf8', timeout: 300_000,
    })
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/Demo study: 650 training pairs, 10 held-out prompts/)
    expect(r.stdout).toMatch(/every run: 2 steps, 32 pairs per step, lr 0\.0003; FIGA α 1 β 0\.5 γ 0\.25 τ 0\.6/)
    for (const model of ['base model', 'SFT on revised', 'FIGA']) expect(r.stdout).toMatch(new RegExp(`^${model} +(—|1) +\\d+\\.\\d%`, 'm'))
    const report = JSON.parse(readFileSync(out, 'utf8')) as DemoStudyReport
    expect(report.rows.map((row) => [row.model, row.seed])).toEqual([['base', null], ['sft', 4], ['figa', 4]])
    expect(report.settings).toMatchObject({ gamma: 0.25, maxSteps: 2, lr: 3e-4 })
    for (const row of report.rows) {
      expect(row.pairs).toBe(10)
      expect(row.defectRate + row.fixRate + row.otherRate).toBeCloseTo(1, 9)
      expect(Object.values(row.byBehaviour).reduce((n, b) => n + b.pairs, 0)).toBe(10)
      expect(Number.isFinite(row.marginPerToken)).toBe(true)
    }
    // Two steps move the weights: the tuned models' margins differ from the base model's.
    expect(report.rows[1].marginPerToken).not.toBe(report.rows[0].marginPerToken)
    expect(report.rows[2].marginPerToken).not.toBe(report.rows[0].marginPerToken)
    // The report is also kept in the data folder, and the runs' scratch folders are gone.
    expect(readdirSync(join(dataDir, 'demo-study')).filter((f) => f.endsWith('.json'))).toHaveLength(1)
  }, 320_000)
})
