import { Readable } from 'node:stream'
import { toSpaRecord } from '../data'
import type { Db } from '../store/db'
import { pairsAfter, toNormalizedRow } from '../store/pairs'

const PAGE = 1000

/** The dataset as JSONL in SPA shape, page by page so a large dataset never sits in memory. */
export function exportJsonl(db: Db, datasetId: number): Readable {
  return Readable.from(
    (function* () {
      let after = -1
      for (;;) {
        const rows = pairsAfter(db, datasetId, after, PAGE)
        if (rows.length === 0) return
        yield rows.map((p) => JSON.stringify(toSpaRecord(toNormalizedRow(p))) + '\n').join('')
        after = rows[rows.length - 1].position
      }
    })(),
  )
}
