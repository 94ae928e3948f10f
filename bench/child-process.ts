// Benchmarks run each configuration in a child process of their own script (the WASM thread count
// is fixed per process, and a crash or OOM stays in the child). The child prints one
// `@@RESULT {json}` line; the parent reads it back, or an { ok: false, error } it can tabulate.
import { spawnSync } from 'node:child_process'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
const MARK = '@@RESULT '

/** Runs `script --mode <json args>` with tsx and returns what its child side reported. */
export function runChild<R extends { ok: boolean; error?: string }>(script: string, mode: string, args: unknown, timeoutMs: number): R {
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, mode, JSON.stringify(args)], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, FIGA_BACKEND: '', FIGA_WASM_THREADS: '' },
  })
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith(MARK))
  if (!line) return { ok: false, error: r.error?.message ?? ((r.stderr ?? '').trim().split('\n').slice(-3).join(' ') || `exit ${r.status}`) } as R
  return JSON.parse(line.slice(MARK.length))
}

/**
 * The script's entry: when started with one of `children`'s modes (e.g. `--child`), run that
 * child with its JSON arguments and print the result; otherwise run `parent`. Exits either way.
 */
export function childOrParent(children: Record<string, (args: never) => Promise<unknown>>, parent: () => Promise<void>): void {
  const mode = Object.keys(children).find((m) => process.argv.includes(m))
  if (mode) {
    const args = JSON.parse(process.argv[process.argv.indexOf(mode) + 1]) as never
    children[mode](args)
      .then((r) => process.stdout.write(`${MARK}${JSON.stringify(r)}\n`))
      .catch((e) => process.stdout.write(`${MARK}${JSON.stringify({ ok: false, error: String(e?.stack ?? e?.message ?? e) })}\n`))
      .finally(() => process.exit(0))
  } else {
    parent().then(
      () => process.exit(0),
      (e) => {
        console.error(e)
        process.exit(1)
      },
    )
  }
}
