// The examples training and evaluation read from a dataset: its pairs (and, for SFT, its SFT
// rows), or a saved selection of them, with the prompt in FIGA's Alpaca format.
import { ApiError } from '../api/errors'
import { alpacaPrompt } from '../model/prompt'
import type { Db } from '../store/db'
import { selectionPairIds } from '../store/signals'
import type { TrainExample } from '../train/data'

/** A dataset's examples: a selection's pairs, or all of them (SFT rows too for SFT). */
export function loadExamples(db: Db, datasetId: number | null, selectionId: number | null, method: 'figa' | 'sft'): TrainExample[] {
  if (datasetId === null) throw new ApiError('not_found', 'the dataset was deleted')
  const ids = selectionId === null ? null : new Set(selectionPairIds(db, selectionId))
  const rows = db
    .prepare('SELECT id, kind, system, instruction, input, original, revised FROM pairs WHERE dataset_id = ? ORDER BY position')
    .all(datasetId) as Array<{ id: number; kind: 'pair' | 'sft'; system: string | null; instruction: string; input: string; original: string | null; revised: string }>
  const examples = rows
    .filter((r) => (ids === null || ids.has(r.id)) && (method === 'sft' || r.kind === 'pair'))
    .map((r) => ({ id: r.id, prompt: alpacaPrompt({ instruction: r.instruction, input: r.input, system: r.system }), original: r.original, revised: r.revised }))
  if (examples.length === 0) throw new ApiError('invalid_argument', method === 'figa' ? 'no pairs to train on (FIGA needs original and revised responses)' : 'no rows to train on')
  return examples
}
