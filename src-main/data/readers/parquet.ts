// Parquet, one row group at a time (a group is the smallest unit Parquet lets us decode), so
// memory holds one group, not the file. List/struct columns arrive as arrays/objects.

import zlib from 'node:zlib'
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema, toJson, type AsyncBuffer, type Compressors, type FileMetaData } from 'hyparquet'
import { FileFormatError } from '../errors'
import type { SourceRecord } from '../types'
import type { ReaderOptions } from './record'

// hyparquet decodes Snappy itself; add the codecs Node's zlib can decompress. Zstandard
// (the Polars default) needs Node >= 22.15.
const zstdDecompressSync = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Uint8Array }).zstdDecompressSync
const COMPRESSORS: Compressors = {
  GZIP: (input) => zlib.unzipSync(input),
  BROTLI: (input) => zlib.brotliDecompressSync(input),
  ...(zstdDecompressSync ? { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } : {}),
}

export async function* readParquet(file: string, opts: ReaderOptions = {}): AsyncGenerator<SourceRecord> {
  const source = trackProgress(await asyncBufferFromFile(file), opts)
  const metadata = await readMetadata(file, source, opts.signal)
  const columns = parquetSchema(metadata).children.map((child) => child.element.name)
  const end = Math.min(Number(metadata.num_rows), opts.limit ?? Infinity)
  let groupStart = 0
  for (const group of metadata.row_groups) {
    if (groupStart >= end) break
    const rowEnd = Math.min(groupStart + Number(group.num_rows), end)
    const rows = await readRows(file, { file: source, metadata, rowStart: groupStart, rowEnd, compressors: COMPRESSORS }, opts.signal)
    for (let i = 0; i < rows.length; i++) {
      const index = groupStart + i
      yield { index, location: `row ${index + 1}`, value: plainRecord(rows[i], columns) }
    }
    groupStart += Number(group.num_rows)
  }
}

/**
 * Every schema column, null where the row has none (as a CSV row has every header column), with
 * plain JSON values like the other formats': INT64 → number, timestamps → ISO strings.
 */
function plainRecord(row: Record<string, unknown>, columns: string[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((column) => [column, toJson(row[column])]))
}

/** Reports bytes fetched as progress and stops fetching once aborted. */
function trackProgress(buffer: AsyncBuffer, opts: ReaderOptions): AsyncBuffer {
  let fetched = 0
  return {
    byteLength: buffer.byteLength,
    async slice(start, end) {
      opts.signal?.throwIfAborted()
      const bytes = await buffer.slice(start, end)
      fetched = Math.min(fetched + bytes.byteLength, buffer.byteLength)
      opts.onProgress?.(fetched, buffer.byteLength)
      return bytes
    },
  }
}

async function readMetadata(file: string, source: AsyncBuffer, signal?: AbortSignal): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(source)
  } catch (error) {
    throw wrapError(file, error, 'not a valid Parquet file', signal)
  }
}

type ReadObjectsOptions = Parameters<typeof parquetReadObjects>[0]

async function readRows(file: string, options: ReadObjectsOptions, signal?: AbortSignal): Promise<Record<string, unknown>[]> {
  try {
    return await parquetReadObjects(options)
  } catch (error) {
    throw wrapError(file, error, 'cannot decode the Parquet data', signal)
  }
}

/** hyparquet's errors as FileFormatErrors; an abort stays an abort. */
function wrapError(file: string, error: unknown, what: string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason
  if (!(error instanceof Error)) return error
  const codec = /unsupported compression codec: (\w+)/.exec(error.message)?.[1]
  if (codec) {
    return new FileFormatError(`the file is compressed with ${codec}, which cannot be read here; save it with Snappy, gzip or no compression (e.g. pandas: df.to_parquet(path, compression="snappy"))`, file)
  }
  return new FileFormatError(`${what}: ${error.message}`, file)
}
