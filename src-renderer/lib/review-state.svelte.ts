// State of the Review screen that outlives the screen (switching tabs keeps it): the chosen
// tokenizer, FIGA parameters and view mode (also remembered across sessions in localStorage),
// the filters, list order and the open pair.
import type { FigaParams, ReviewFilters } from '../../src-main/api/types'
import { parseParams } from './figa-weights'
import { DEFAULT_FILTERS } from './review-filters'

export { DEFAULT_FILTERS }

export type ShowMode = 'all' | 'kept' | 'dropped'
export type SortMode = 'position' | 'editRatio' | '-editRatio' | '-changed'
export type DiffMode = 'side' | 'inline'

const KEYS = { tokenizer: 'figa.review.tokenizer', params: 'figa.review.params', mode: 'figa.review.mode', boundaries: 'figa.review.boundaries' }

function read(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value)
  } catch {
    // storage full or disabled: the choice lasts for this session only
  }
}

export const reviewState = $state<{
  tokenizer: string | null
  params: FigaParams
  filters: ReviewFilters
  show: ShowMode
  sort: SortMode
  mode: DiffMode
  boundaries: boolean
  openPairId: number | null
  /** The dataset the open pair and filters belong to. */
  datasetId: number | null
  /** Filters of the other datasets visited in this session (thresholds depend on the data). */
  filtersByDataset: Record<number, ReviewFilters>
}>({
  tokenizer: read(KEYS.tokenizer),
  params: parseParams(read(KEYS.params)),
  filters: { ...DEFAULT_FILTERS },
  show: 'all',
  sort: 'position',
  mode: read(KEYS.mode) === 'inline' ? 'inline' : 'side',
  boundaries: read(KEYS.boundaries) === '1',
  openPairId: null,
  datasetId: null,
  filtersByDataset: {},
})

export function rememberTokenizer(key: string): void {
  reviewState.tokenizer = key
  write(KEYS.tokenizer, key)
}

export function rememberParams(): void {
  write(KEYS.params, JSON.stringify(reviewState.params))
}

export function rememberView(): void {
  write(KEYS.mode, reviewState.mode)
  write(KEYS.boundaries, reviewState.boundaries ? '1' : '0')
}

/** True when the keyboard event targets a text field (shortcuts must not fire while typing). */
export function isTyping(event: KeyboardEvent): boolean {
  const t = event.target as HTMLElement | null
  if (!t) return false
  if (t.isContentEditable) return true
  const tag = t.tagName
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true
  if (tag === 'INPUT') {
    const type = (t as HTMLInputElement).type
    return !['range', 'checkbox', 'radio', 'button', 'submit'].includes(type)
  }
  return false
}
