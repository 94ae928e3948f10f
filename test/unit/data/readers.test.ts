import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parquetWriteFile } from 'hyparquet-writer'
import { afterAll, describe, expect, it } from 'vitest'
import { FileFormatError, openDataset, previewDataset } from '../../../src-main/data/index'
import { readRecords } from '../../../src-main/data/readers/index'
import { collect, fixture, readAll, rejection, tempDir } from './helpers'

const temp = tempDir()
afterAll(temp.cleanup)

const locations = (rows: { location: string }[]) => rows.map((r) => r.location)

describe('JSON Lines', () => {
  it('numbers records by physical line, skipping blank lines', async () => {
    const rows = await readAll(fixture('spa.jsonl'))
    expect(locations(rows)).toEqual(['line 1', 'line 3', 'line 4'])
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2])
  })

  it('reads a file with a UTF-8 BOM exactly like one without', async () => {
    const plain = await readAll(fixture('spa.jsonl'))
    const bom = await readAll(fixture('spa-bom.jsonl'))
    expect(bom).toEqual(plain)
  })

  it('reports invalid JSON and non-object lines as bad rows with the parser position', async () => {
    const rows = await readAll(fixture('broken-rows.jsonl'))
    expect(rows[1].problem).toEqual({ index: 1, location: 'line 2', reason: 'line is not valid JSON: Expected double-quoted property name at column 75' })
    expect(rows.find((r) => r.location === 'line 7')?.problem?.reason).toBe('line is not a JSON object (got array)')
  })

  it('accepts CRLF line endings and a last line without a newline', async () => {
    const path = join(temp.dir, 'crlf.jsonl')
    writeFileSync(path, '{"instruction": "a", "output": "b"}\r\n\r\n{"instruction": "c", "output": "d"}')
    const rows = await readAll(path)
    expect(locations(rows)).toEqual(['line 1', 'line 3'])
    expect(rows[1].row?.revised).toBe('d')
  })
})

describe('JSON', () => {
  it('reads a top-level array and an object holding one identically, numbering items', async () => {
    const array = await readAll(fixture('spa.json'))
    const wrapped = await readAll(fixture('spa-data.json'))
    expect(locations(array)).toEqual(['item 1', 'item 2', 'item 3'])
    expect(wrapped).toEqual(array)
    expect(array.map((r) => r.row)).toEqual((await readAll(fixture('spa.jsonl'))).map((r) => r.row))
  })

  it('names the line and column of a syntax error', async () => {
    const error = await rejection(readAll(fixture('broken.json')))
    expect(error).toBeInstanceOf(FileFormatError)
    expect(error).toMatchObject({ location: 'line 9, column 5', detail: "invalid JSON: expected ','" })
    expect(error.message).toContain('broken.json, line 9, column 5')
  })

  it('rejects JSON without an array of records', async () => {
    const path = join(temp.dir, 'no-array.json')
    writeFileSync(path, '{"instruction": "a", "meta": {"rows": [1]}}')
    expect((await rejection(openDataset(path))).message).toMatch(/expected a JSON array of records/)
  })

  it('reports non-object items as bad rows', async () => {
    const path = join(temp.dir, 'mixed.json')
    writeFileSync(path, JSON.stringify({ rows: [{ instruction: 'a', output: 'b' }, 'text', null] }))
    const rows = await readAll(path)
    expect(rows.map((r) => r.problem?.reason)).toEqual([undefined, 'item is not a JSON object (got string)', 'item is not a JSON object (got null)'])
  })
})

describe('CSV and TSV', () => {
  it('handles quotes, embedded newlines, commas and CRLF, locating records by their first line', async () => {
    const rows = await readAll(fixture('spa.csv'))
    expect(locations(rows)).toEqual(['line 2', 'line 3', 'line 8'])
    expect(rows[0].row?.input).toBe('Paris, the capital of France, is known for the Eiffel Tower, the Louvre, and its cafés.')
    expect(rows[1].row?.original).toBe('Leaves fall down\nit is cold\nautumn is here')
    expect(rows[2].row?.instruction).toBe('What does "idempotent" mean?')
    expect(rows[0].row?.reference).toBeNull() // an empty cell is no value
  })

  it('reads TSV with a quoted tab and newline', async () => {
    const rows = await readAll(fixture('spa.tsv'))
    expect(rows[2]).toMatchObject({ location: 'line 4', row: { input: 'a\tb', revised: '| a | b |\n|---|---|' } })
  })

  it('sniffs a semicolon delimiter and parses a JSON history cell', async () => {
    const { info, rows } = await previewDataset(fixture('spa-history.csv'))
    expect(info.format).toBe('csv')
    expect(rows[0].row?.history).toEqual([
      { role: 'user', content: 'Hi, can you help me with Python?' },
      { role: 'assistant', content: 'Of course; what do you need?' },
    ])
  })

  it('reports records whose field count differs from the header, and goes on', async () => {
    const rows = await readAll(fixture('broken-columns.csv'))
    expect(rows.map((r) => [r.location, r.problem?.reason ?? 'ok'])).toEqual([
      ['line 2', 'ok'],
      ['line 3', 'expected 4 fields (as in the header), found 3'],
      ['line 4', 'ok'],
      ['line 6', 'expected 4 fields (as in the header), found 5'],
      ['line 7', 'ok'],
    ])
  })

  it('fails the file on an unterminated quote, naming the line where it opens', async () => {
    const error = await rejection(readAll(fixture('unterminated.csv')))
    expect(error).toBeInstanceOf(FileFormatError)
    expect(error).toMatchObject({ location: 'line 3' })
    expect(error.message).toMatch(/never closed/)
  })

  it('fails the file on a stray quote, naming the line', async () => {
    const error = await rejection(readAll(fixture('bad-quote.csv')))
    expect(error).toMatchObject({ location: 'line 3' })
    expect(error.message).toMatch(/Invalid Opening Quote/)
  })

  it('strips the BOM that spreadsheet programs put before the header', async () => {
    const path = join(temp.dir, 'excel.csv')
    writeFileSync(path, '\ufeffinstruction,output\r\nSay hi.,Hello!\r\n')
    const { info, rows } = await previewDataset(path)
    expect(info.columns).toEqual(['instruction', 'output'])
    expect(rows[0].row?.revised).toBe('Hello!')
  })

  it('rejects a header that names a column twice', async () => {
    const path = join(temp.dir, 'dup.csv')
    writeFileSync(path, 'instruction,output,output\na,b,c\n')
    expect((await rejection(openDataset(path))).message).toMatch(/names the column "output" twice/)
  })
})

describe('Parquet', () => {
  it('reads flat columns across row groups, numbering rows', async () => {
    const rows = await readAll(fixture('spa.parquet'))
    const jsonl = await readAll(fixture('spa.jsonl'))
    expect(locations(rows)).toEqual(['row 1', 'row 2', 'row 3'])
    // The Parquet twin has no system/history columns.
    expect(rows.map((r) => r.row)).toEqual(jsonl.map((r) => ({ ...r.row, system: null, history: null })))
  })

  it('reads list<struct> message columns like their JSONL twin', async () => {
    const parquet = await readAll(fixture('ultrafeedback.parquet'))
    const jsonl = await readAll(fixture('ultrafeedback.jsonl'))
    expect(parquet.map((r) => r.row)).toEqual(jsonl.map((r) => r.row))
  })

  it('gives plain JSON values in the raw preview: INT64 as number, every column present', async () => {
    const { rows } = await previewDataset(fixture('spa.parquet'))
    expect(rows[0].raw.id).toBe(1)
    expect(rows[1].raw.output).toBeNull()
  })

  it('reads gzip-compressed files', async () => {
    const { gzipSync } = await import('node:zlib')
    const path = join(temp.dir, 'gzip.parquet')
    parquetWriteFile({
      filename: path,
      codec: 'GZIP',
      compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
      columnData: [{ name: 'instruction', data: ['Say hi.'], type: 'STRING' }, { name: 'output', data: ['Hello!'], type: 'STRING' }],
    })
    expect((await readAll(path))[0].row?.revised).toBe('Hello!')
  })

  it('rejects a damaged file with a FileFormatError', async () => {
    const path = join(temp.dir, 'damaged.parquet')
    const bytes = readFileSync(fixture('spa.parquet'))
    writeFileSync(path, Buffer.concat([bytes.subarray(0, 200), bytes.subarray(-8)]))
    const error = await rejection(readAll(path))
    expect(error).toBeInstanceOf(FileFormatError)
  })
})

describe('encoding', () => {
  it('rejects Latin-1 with the line, byte offset and an iconv hint', async () => {
    const error = await rejection(readAll(fixture('latin1.csv')))
    expect(error).toBeInstanceOf(FileFormatError)
    expect(error).toMatchObject({ location: 'line 3 (byte offset 100)' })
    expect(error.message).toContain('convert it to UTF-8 (e.g. iconv -f LATIN1 -t UTF-8 in.csv > out.csv)')
  })

  it('rejects a UTF-16 file', async () => {
    const error = await rejection(openDataset(fixture('utf16.jsonl')))
    expect(error).toBeInstanceOf(FileFormatError)
    expect(error.message).toMatch(/UTF-16/)
  })

  // Chunks are 256 KiB: put characters right on the boundary.
  const CHUNK = 256 * 1024
  /** A JSONL file whose last record's instruction is `bytes`, starting at byte `offset`. */
  function fileWithBytesAt(name: string, offset: number, bytes: number[]): string {
    const line = Buffer.from('{"instruction": "i", "output": "o"}\n')
    const open = Buffer.from('\n{"instruction": "')
    const filler = Buffer.concat(Array.from({ length: Math.ceil(offset / line.length) }, () => line))
    const path = join(temp.dir, name)
    writeFileSync(path, Buffer.concat([filler.subarray(0, offset - open.length), open, Buffer.from(bytes), Buffer.from('", "output": "o"}\n')]))
    expect(readFileSync(path).indexOf(Buffer.from(bytes))).toBe(offset)
    return path
  }

  it('decodes a multi-byte character split across chunks', async () => {
    const path = fileWithBytesAt('split-ok.jsonl', CHUNK - 1, [0xe2, 0x82, 0xac]) // "€" straddles the boundary
    const rows = await readAll(path)
    expect(rows.at(-1)?.row?.instruction).toBe('€')
  })

  it('locates a bad byte in a later chunk', async () => {
    const offset = CHUNK + 1000
    const path = fileWithBytesAt('split-bad.jsonl', offset - 3, [0x63, 0x61, 0x66, 0xe9])
    const line = readFileSync(path).subarray(0, offset).toString('latin1').split('\n').length
    const error = await rejection(readAll(path))
    expect(error).toMatchObject({ location: `line ${line} (byte offset ${offset})` })
  })

  it('locates a bad continuation right after a chunk boundary', async () => {
    const path = fileWithBytesAt('split-bad2.jsonl', CHUNK - 1, [0xe2, 0x41]) // the lead byte ends the chunk
    const error = await rejection(readAll(path))
    expect(error).toMatchObject({ location: expect.stringContaining(`(byte offset ${CHUNK - 1})`) })
  })
})

describe('progress and cancellation', () => {
  it('reports increasing bytes read, ending at the file size', async () => {
    for (const name of ['spa.jsonl', 'spa.json', 'spa.csv', 'spa.parquet']) {
      const calls: [number, number][] = []
      await readAll(fixture(name), { onProgress: (read, total) => calls.push([read, total]) })
      const size = readFileSync(fixture(name)).length
      expect(calls.at(-1)).toEqual([size, size])
      expect(calls.every(([read], i) => i === 0 || read >= calls[i - 1][0])).toBe(true)
    }
  })

  const MANY: Record<string, string> = {
    'many.jsonl': '{"instruction": "a", "output": "b"}\n'.repeat(50_000),
    'many.json': JSON.stringify(Array.from({ length: 50_000 }, () => ({ instruction: 'a', output: 'b' }))),
    'many.csv': 'instruction,output\n' + 'a,b\n'.repeat(50_000),
  }

  it.each(Object.keys(MANY))('stops %s with an AbortError when the signal fires mid-stream', async (name) => {
    const path = join(temp.dir, name)
    writeFileSync(path, MANY[name])
    const controller = new AbortController()
    const { rows } = await openDataset(path, { signal: controller.signal })
    let seen = 0
    const error = await rejection((async () => {
      for await (const _ of rows) if (++seen === 100) controller.abort()
    })())
    expect(error.name).toBe('AbortError')
    expect(seen).toBe(100)
  })

  it('does not even start when the signal has already fired', async () => {
    const controller = new AbortController()
    controller.abort()
    for (const name of ['spa.jsonl', 'spa.json', 'spa.csv', 'spa.parquet']) {
      const error = await rejection(openDataset(fixture(name), { signal: controller.signal }))
      expect(error.name).toBe('AbortError')
    }
  })

  it('lets a reader be abandoned after a few records', async () => {
    for (const name of ['spa.jsonl', 'spa.json', 'spa.csv', 'spa.parquet']) {
      const records = readRecords(fixture(name), name.endsWith('parquet') ? 'parquet' : name.endsWith('csv') ? 'csv' : name.endsWith('json') ? 'json' : 'jsonl')
      const first = await records.next()
      expect(first.value?.index).toBe(0)
      await records.return(undefined)
      expect(await collect(records)).toEqual([])
    }
  })
})
