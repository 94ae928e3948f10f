// The signals job: tokenizes and aligns every pair of a dataset that has no cached signal for
// this tokenizer, writing the per-pair statistics in batches (a cache: a cancelled run keeps
// what it finished, and the next run picks up the rest).
import { openDb } from '../store/db'
import { pairsMissingSignals, pruneSignals, signalWriter, type PairSignalRecord } from '../store/signals'
import { pairSignals } from '../signals/pair-view'
import type { PairSignals } from '../signals/weights'
import { ApiError } from '../api/errors'
import type { TaskContext } from './tasks'
import { resolveTokenizer } from './tokenizers'

export interface SignalsTaskArgs {
  dataDir: string
  datasetId: number
  tokenizer: string
}

const BATCH = 500

export function signalRecord(s: PairSignals, contentHash: string): PairSignalRecord & { content_hash: string } {
  return {
    content_hash: contentHash,
    original_tokens: s.original.ids.length, revised_tokens: s.revised.ids.length,
    added: s.counts.added, deleted: s.counts.deleted, substituted: s.counts.substituted, same: s.counts.same,
    distance: s.distance, edit_ratio: s.editRatio,
  }
}

export async function runSignals(args: SignalsTaskArgs, ctx: TaskContext): Promise<{ total: number; computed: number; cached: number }> {
  const { adapter, fingerprint } = await resolveTokenizer(args.tokenizer)
  const db = openDb(args.dataDir)
  try {
    const total = db.prepare("SELECT count(DISTINCT content_hash) FROM pairs WHERE dataset_id = ? AND kind = 'pair'").pluck().get(args.datasetId) as number
    const missing = pairsMissingSignals(db, args.datasetId, fingerprint)
    const write = signalWriter(db, fingerprint)
    let batch: Array<PairSignalRecord & { content_hash: string }> = []
    let done = 0
    ctx.progress(0, missing.length, 'pairs', `aligning with ${adapter.name}`)
    for (const pair of missing) {
      if (ctx.signal.aborted) throw new ApiError('cancelled', 'cancelled')
      batch.push(signalRecord(pairSignals(adapter, pair.original, pair.revised), pair.content_hash))
      if (batch.length === BATCH) {
        write(batch)
        batch = []
        // Let the cancel message in between batches.
        await new Promise((resolve) => setImmediate(resolve))
      }
      done++
      if (done % 100 === 0 || done === missing.length) ctx.progress(done, missing.length, 'pairs', `aligning with ${adapter.name}`)
    }
    write(batch)
    pruneSignals(db, fingerprint)
    return { total, computed: missing.length, cached: total - missing.length }
  } finally {
    db.close()
  }
}
