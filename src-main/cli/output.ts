import cliProgress from 'cli-progress'
import type { JobProgress } from '../api/types'

/** A progress bar on stderr when it is a terminal; silent otherwise (logs, pipes, CI). */
export function progressBar(label: string): { update(p: JobProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update() {}, stop() {} }
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} {unit} | {eta_formatted} left`, hideCursor: true, formatValue: formatValue },
    cliProgress.Presets.shades_classic,
  )
  let started = false
  return {
    update(p) {
      const total = p.unit === 'bytes' ? Math.max(1, Math.round(p.total / 1024)) : Math.max(1, p.total)
      const done = p.unit === 'bytes' ? Math.round(p.done / 1024) : p.done
      const unit = p.unit === 'bytes' ? 'KiB' : p.unit
      if (!started) {
        bar.start(total, done, { unit })
        started = true
      } else bar.update(done, { unit })
    },
    stop() {
      if (started) bar.stop()
    },
  }
}

function formatValue(v: number, _o: unknown, type: string): string {
  return type === 'value' || type === 'total' ? v.toLocaleString('en-US') : String(v)
}

/** A plain aligned text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  return cells.map((r) => r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n')
}
