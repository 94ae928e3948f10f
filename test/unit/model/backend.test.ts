import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { backendInfo, initBackend } from '../../../src-main/model/backend'

const child = path.resolve(__dirname, 'helpers/backend-child.ts')
const root = path.resolve(__dirname, '../../..')

function run(pref: string, threads: number, fixtures: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, pref, String(threads), ...fixtures], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, FIGA_BACKEND: '', FIGA_WASM_THREADS: '' },
  })
  expect(r.error, 'the child process timed out (did a thread pool keep it alive?)').toBeUndefined()
  expect(r.status, r.stderr).toBe(0)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { info: { name: string; threads: number; simd: boolean; detail: string }; diffs: Record<string, number> }
}

describe('backend selection', () => {
  it('auto picks WASM with SIMD here (tfjs-node is not installed) and is idempotent', async () => {
    const info = await initBackend()
    expect(info.name).toBe('wasm')
    expect(info.simd).toBe(true)
    expect(info.threads).toBeGreaterThanOrEqual(1)
    expect(info.detail).toMatch(/WASM SIMD/)
    expect(await initBackend('cpu')).toBe(info)
    expect(backendInfo()).toBe(info)
  })

  it('multi-threaded WASM gives the same logits and lets the process exit', () => {
    const r = run('wasm', 2, ['gpt2-tiny', 'llama-tiny-gqa'])
    expect(r.info.name).toBe('wasm')
    expect(r.info.threads).toBe(2)
    for (const d of Object.values(r.diffs)) expect(d).toBeLessThanOrEqual(1e-4)
  })

  it('the pure-JS cpu backend passes parity too', () => {
    const r = run('cpu', 1, ['gpt2-tiny', 'qwen2-tiny'])
    expect(r.info.name).toBe('cpu')
    for (const d of Object.values(r.diffs)) expect(d).toBeLessThanOrEqual(1e-4)
  })

  it('an explicit tensorflow preference fails clearly when tfjs-node is absent', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, 'tensorflow', '1'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/TensorFlow backend unavailable: @tensorflow\/tfjs-node-gpu not available; @tensorflow\/tfjs-node not available/)
  })
})
