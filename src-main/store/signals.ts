// Queries over the per-pair signal cache, hand exclusions and saved selections.
import type { PairSignalSummary, ReviewFilters, Selection, SignalCounts, SignalStats } from '../api/types'
import { now, type Db } from './db'

export interface PairSignalRecord {
  original_tokens: number
  revised_tokens: number
  added: number
  deleted: number
  substituted: number
  same: number
  distance: number
  edit_ratio: number
}

export const HISTOGRAM_BINS = 20

/** Pairs of a dataset whose signals are not cached for this tokenizer fingerprint. */
export function pairsMissingSignals(db: Db, datasetId: number, fingerprint: string): Array<{ content_hash: string; original: string; revised: string }> {
  return db
    .prepare(`
      SELECT DISTINCT p.content_hash, p.original, p.revised FROM pairs p
      WHERE p.dataset_id = ? AND p.kind = 'pair'
        AND NOT EXISTS (SELECT 1 FROM pair_signals s WHERE s.tokenizer = ? AND s.content_hash = p.content_hash)`)
    .all(datasetId, fingerprint) as Array<{ content_hash: string; original: string; revised: string }>
}

export function signalWriter(db: Db, fingerprint: string) {
  const insert = db.prepare(`
    INSERT OR REPLACE INTO pair_signals (tokenizer, content_hash, original_tokens, revised_tokens, added, deleted, substituted, same, distance, edit_ratio)
    VALUES (@tokenizer, @content_hash, @original_tokens, @revised_tokens, @added, @deleted, @substituted, @same, @distance, @edit_ratio)`)
  return db.transaction((rows: Array<PairSignalRecord & { content_hash: string }>) => {
    for (const r of rows) insert.run({ tokenizer: fingerprint, ...r })
  })
}

/** The tokenizer fingerprints that have signals cached for this content. */
export function fingerprintsWithSignals(db: Db, contentHash: string): string[] {
  return db.prepare('SELECT tokenizer FROM pair_signals WHERE content_hash = ?').pluck().all(contentHash) as string[]
}

/** Drops cached signals that no pair refers to any more (edited or deleted pairs). */
export function pruneSignals(db: Db, fingerprint: string): number {
  return db.prepare('DELETE FROM pair_signals WHERE tokenizer = ? AND content_hash NOT IN (SELECT content_hash FROM pairs)').run(fingerprint).changes
}

// The filter as SQL over `p` (pairs), `s` (pair_signals, LEFT JOINed) and `x` (exclusions).
const CHANGED = '(s.added + s.deleted + s.substituted)'
function keptClause(f: ReviewFilters): { sql: string; params: Record<string, unknown> } {
  const parts = ['s.content_hash IS NOT NULL', 's.edit_ratio >= @minEditRatio', 's.edit_ratio <= @maxEditRatio', `${CHANGED} >= @minChanged`]
  if (f.dropNoop) parts.push('s.distance > 0')
  if (f.dropFullRewrite) parts.push('s.edit_ratio < @fullRewriteAt')
  if (f.dropExcluded) parts.push('x.pair_id IS NULL')
  return {
    sql: `(${parts.join(' AND ')})`,
    params: { minEditRatio: f.minEditRatio, maxEditRatio: f.maxEditRatio, minChanged: f.minChanged, fullRewriteAt: f.fullRewriteAt },
  }
}

const FROM = `
  FROM pairs p
  LEFT JOIN pair_signals s ON s.tokenizer = @fingerprint AND s.content_hash = p.content_hash
  LEFT JOIN pair_exclusions x ON x.pair_id = p.id
  WHERE p.dataset_id = @datasetId AND p.kind = 'pair'`

const SUMS = `
  coalesce(sum(s.added), 0) AS added, coalesce(sum(s.deleted), 0) AS deleted, coalesce(sum(s.substituted), 0) AS substituted,
  coalesce(sum(s.same), 0) AS same, coalesce(sum(s.original_tokens), 0) AS originalTokens, coalesce(sum(s.revised_tokens), 0) AS revisedTokens`

export function signalStats(db: Db, datasetId: number, tokenizer: string, fingerprint: string, filters: ReviewFilters): SignalStats {
  const kept = keptClause(filters)
  const params = { datasetId, fingerprint, ...kept.params }
  const head = db
    .prepare(`
      SELECT count(*) AS pairs, count(s.content_hash) AS computed,
        coalesce(sum(s.distance = 0), 0) AS noop, coalesce(sum(s.edit_ratio >= @fullRewriteAt), 0) AS fullRewrites,
        count(x.pair_id) AS excluded, coalesce(sum(${kept.sql}), 0) AS kept, ${SUMS} ${FROM}`)
    .get(params) as Record<string, number>
  const keptTotals = db.prepare(`SELECT ${SUMS} ${FROM} AND ${kept.sql}`).get(params) as SignalCounts
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0)
  const bins = db
    .prepare(`SELECT min(CAST(s.edit_ratio * ${HISTOGRAM_BINS} AS INTEGER), ${HISTOGRAM_BINS - 1}) AS bin, count(*) AS n ${FROM} AND s.content_hash IS NOT NULL GROUP BY bin`)
    .all(params) as Array<{ bin: number; n: number }>
  for (const b of bins) counts[b.bin] = b.n
  const totals: SignalCounts = {
    added: head.added, deleted: head.deleted, substituted: head.substituted, same: head.same,
    originalTokens: head.originalTokens, revisedTokens: head.revisedTokens,
  }
  return {
    datasetId, tokenizer, pairs: head.pairs, computed: head.computed, noop: head.noop, fullRewrites: head.fullRewrites,
    excluded: head.excluded, kept: head.kept, totals, keptTotals,
    histogram: { edges: Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => i / HISTOGRAM_BINS), counts },
  }
}

const ORDER: Record<string, string> = {
  position: 'p.position',
  editRatio: 's.edit_ratio, p.position',
  '-editRatio': 's.edit_ratio DESC, p.position',
  '-changed': `${CHANGED} DESC, p.position`,
}

export function signalPairs(
  db: Db,
  q: { datasetId: number; fingerprint: string; filters: ReviewFilters; show: 'all' | 'kept' | 'dropped'; sort: keyof typeof ORDER; offset: number; limit: number },
): { total: number; offset: number; rows: PairSignalSummary[] } {
  const kept = keptClause(q.filters)
  const params = { datasetId: q.datasetId, fingerprint: q.fingerprint, ...kept.params, limit: q.limit, offset: q.offset }
  const show = q.show === 'kept' ? `AND ${kept.sql}` : q.show === 'dropped' ? `AND NOT ${kept.sql}` : ''
  const total = db.prepare(`SELECT count(*) ${FROM} ${show}`).pluck().get(params) as number
  const rows = db
    .prepare(`
      SELECT p.id, p.position, substr(p.instruction, 1, 200) AS instruction, s.content_hash IS NOT NULL AS computed,
        s.distance, s.edit_ratio, s.added, s.deleted, s.substituted, s.same, s.original_tokens, s.revised_tokens,
        x.pair_id IS NOT NULL AS excluded, ${kept.sql} AS kept
      ${FROM} ${show} ORDER BY ${ORDER[q.sort]} LIMIT @limit OFFSET @offset`)
    .all(params) as Array<Record<string, number | string | null>>
  return {
    total,
    offset: q.offset,
    rows: rows.map((r) => ({
      pairId: r.id as number,
      position: r.position as number,
      instruction: r.instruction as string,
      distance: (r.distance as number | null) ?? 0,
      editRatio: (r.edit_ratio as number | null) ?? 0,
      counts: {
        added: (r.added as number) ?? 0, deleted: (r.deleted as number) ?? 0, substituted: (r.substituted as number) ?? 0,
        same: (r.same as number) ?? 0, originalTokens: (r.original_tokens as number) ?? 0, revisedTokens: (r.revised_tokens as number) ?? 0,
      },
      excluded: r.excluded === 1,
      computed: r.computed === 1,
      kept: r.kept === 1,
    })),
  }
}

export function setExcluded(db: Db, pairId: number, excluded: boolean): void {
  if (excluded) db.prepare('INSERT OR IGNORE INTO pair_exclusions (pair_id, excluded_at) VALUES (?, ?)').run(pairId, now())
  else db.prepare('DELETE FROM pair_exclusions WHERE pair_id = ?').run(pairId)
}

export function saveSelection(db: Db, s: { datasetId: number; name: string; tokenizer: string; fingerprint: string; filters: ReviewFilters }): number {
  const kept = keptClause(s.filters)
  return db.transaction(() => {
    const id = Number(
      db.prepare('INSERT INTO selections (dataset_id, name, tokenizer, filters, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(s.datasetId, s.name, s.tokenizer, JSON.stringify(s.filters), now()).lastInsertRowid,
    )
    db.prepare(`INSERT INTO selection_pairs (selection_id, pair_id) SELECT @id, p.id ${FROM} AND ${kept.sql}`)
      .run({ id, datasetId: s.datasetId, fingerprint: s.fingerprint, ...kept.params })
    return id
  })()
}

interface SelectionRecord {
  id: number
  dataset_id: number
  name: string
  tokenizer: string
  filters: string
  created_at: string
  pair_count: number
}

const SELECTION_SQL = 'SELECT s.*, (SELECT count(*) FROM selection_pairs sp WHERE sp.selection_id = s.id) AS pair_count FROM selections s'

function toSelection(r: SelectionRecord): Selection {
  return { id: r.id, datasetId: r.dataset_id, name: r.name, tokenizer: r.tokenizer, filters: JSON.parse(r.filters), pairCount: r.pair_count, createdAt: r.created_at }
}

export function listSelections(db: Db, datasetId: number): Selection[] {
  return (db.prepare(`${SELECTION_SQL} WHERE s.dataset_id = ? ORDER BY s.name`).all(datasetId) as SelectionRecord[]).map(toSelection)
}

export function getSelection(db: Db, id: number): Selection | undefined {
  const r = db.prepare(`${SELECTION_SQL} WHERE s.id = ?`).get(id) as SelectionRecord | undefined
  return r && toSelection(r)
}

export function deleteSelection(db: Db, id: number): boolean {
  return db.prepare('DELETE FROM selections WHERE id = ?').run(id).changes > 0
}

/** The pair ids of a selection, in dataset order (what training reads). */
export function selectionPairIds(db: Db, id: number): number[] {
  return db.prepare('SELECT p.id FROM selection_pairs sp JOIN pairs p ON p.id = sp.pair_id WHERE sp.selection_id = ? ORDER BY p.position').pluck().all(id) as number[]
}
