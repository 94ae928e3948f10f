// Terminal rendering of the fine-grained signal: dataset statistics and one pair as a diff.
import type { FigaParams, PairSignalView, SignalStats } from '../api/types'
import { weightedTokens } from '../signals/weighted-counts'
import { table } from './output'

export function formatStats(s: SignalStats, p: FigaParams): string {
  const w = weightedTokens(s.keptTotals, s.kept, p)
  const t = s.totals
  const lines = [
    `${s.pairs.toLocaleString()} pairs · signals computed for ${s.computed.toLocaleString()} · tokenizer ${s.tokenizer}`,
    `no-op pairs ${s.noop} · full rewrites ${s.fullRewrites} · excluded by hand ${s.excluded} · kept by the filters ${s.kept}`,
    '',
    table(
      ['tokens', 'original (y)', 'revised (ŷ)'],
      [
        ['total', t.originalTokens, t.revisedTokens],
        ['added', 0, t.added],
        ['deleted', t.deleted, 0],
        ['substituted', t.substituted, t.substituted],
        ['unchanged', t.same, t.same],
      ],
    ),
    '',
    `weighted tokens over the kept pairs (α=${p.alpha}, β=${p.beta}, γ=${p.gamma}): ${w.total.toLocaleString()} = ${w.revised.toLocaleString()} rewarded in ŷ + ${w.original.toLocaleString()} penalised in y`,
    '',
    'edit ratio   pairs',
    ...histogramLines(s.histogram),
  ]
  return lines.join('\n')
}

function histogramLines(h: SignalStats['histogram']): string[] {
  const max = Math.max(1, ...h.counts)
  return h.counts.map((n, i) => `${h.edges[i].toFixed(2)}–${h.edges[i + 1].toFixed(2)} ${String(n).padStart(6)} ${'█'.repeat(Math.round((40 * n) / max))}`)
}

const COLOR = { red: '\x1b[31m', green: '\x1b[32m', strike: '\x1b[9m', dim: '\x1b[2m', reset: '\x1b[0m' }

/** Inline diff: deletions struck in red, insertions in green (or [-…-]{+…+} without colour). */
export function formatPairDiff(v: PairSignalView, color: boolean): string {
  const del = (s: string) => (color ? `${COLOR.red}${COLOR.strike}${s}${COLOR.reset}` : `[-${s}-]`)
  const ins = (s: string) => (color ? `${COLOR.green}${s}${COLOR.reset}` : `{+${s}+}`)
  let out = ''
  for (const row of v.alignment) {
    const o = row.o === null ? '' : v.original[row.o].text
    const r = row.r === null ? '' : v.revised[row.r].text
    if (row.op === 'same') out += r
    else if (row.op === 'delete') out += del(o)
    else if (row.op === 'insert') out += ins(r)
    else out += del(o) + ins(r)
  }
  const eos = v.revised.find((t) => t.eos)
  if (eos) out += color ? `${COLOR.dim}${eos.text}${COLOR.reset}` : eos.text
  const c = v.counts
  return `${out}\n\n${c.added} added, ${c.deleted} deleted, ${c.substituted} substituted, ${c.same} unchanged · edit distance ${v.distance} · edit ratio ${v.editRatio.toFixed(3)}`
}
