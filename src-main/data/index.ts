// Public API of the dataset reading layer.

export type {
  DatasetRow, Message, NormalizedRow, PreviewRow, ReadOptions, RowProblem, Shape, SourceFormat, SourceInfo,
} from './types'
export { FileFormatError } from './errors'
export { detectFormat, readHead } from './formats'
export { CANONICAL_FIELDS, parseMappingArgs, validateMapping, type CanonicalField } from './shapes'
export { openDataset, previewDataset } from './dataset'
export { contentHash } from './hash'
export { toSpaRecord } from './spa-export'
