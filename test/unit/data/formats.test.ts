import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { firstInvalidUtf8 } from '../../../src-main/data/encoding'
import { sniffDelimiter } from '../../../src-main/data/formats'
import { FileFormatError, detectFormat, readHead } from '../../../src-main/data/index'
import { fixture, tempDir } from './helpers'

const temp = tempDir()
afterAll(temp.cleanup)

function detectText(name: string, text: string | Buffer): string {
  return detectFormat(name, Buffer.isBuffer(text) ? text : Buffer.from(text))
}

describe('detectFormat', () => {
  it.each([
    ['spa.jsonl', 'jsonl'],
    ['spa-bom.jsonl', 'jsonl'],
    ['spa.json', 'json'],
    ['spa-data.json', 'json'],
    ['spa.csv', 'csv'],
    ['spa-history.csv', 'csv'],
    ['spa.tsv', 'tsv'],
    ['spa.parquet', 'parquet'],
    ['ultrafeedback.parquet', 'parquet'],
  ])('detects %s as %s', async (name, format) => {
    const path = fixture(name)
    expect(detectFormat(path, await readHead(path))).toBe(format)
  })

  it('lets the content correct the extension', () => {
    expect(detectText('rows.json', '{"a": 1}\n{"a": 2}\n')).toBe('jsonl')
    expect(detectText('rows.jsonl', '[\n {"a": 1}\n]')).toBe('json')
    expect(detectText('rows.csv', 'instruction\toutput\nx\ty\n')).toBe('tsv')
    expect(detectText('rows.bin', Buffer.from('PAR1\0\0\0\0'))).toBe('parquet')
  })

  it('keeps a pretty-printed or single-line .json file as JSON', () => {
    expect(detectText('rows.json', '{\n  "data": [\n')).toBe('json')
    expect(detectText('rows.json', '{"data": [{"a": 1}]}\n')).toBe('json')
  })

  it('sniffs files without a known extension', () => {
    expect(detectText('rows.txt', '{"a": 1}\n{"a": 2}\n')).toBe('jsonl')
    expect(detectText('rows.txt', '  [{"a": 1}]')).toBe('json')
    expect(detectText('rows.txt', 'a\tb\n1\t2\n')).toBe('tsv')
    expect(detectText('rows.txt', 'a,b\n1,2\n')).toBe('csv')
    expect(() => detectText('rows.txt', 'just some words\n')).toThrow(/cannot tell the format/)
  })

  it('lets an explicit format win', () => {
    expect(detectFormat('rows.json', Buffer.from('[1]'), 'jsonl')).toBe('jsonl')
  })

  it('rejects a .parquet file without the PAR1 magic', () => {
    expect(() => detectText('rows.parquet', 'a,b\n')).toThrow(FileFormatError)
  })

  it('rejects UTF-16 and NUL bytes before reading records', () => {
    const utf16 = Buffer.from('\ufeff{"a": 1}', 'utf16le')
    expect(() => detectText('rows.jsonl', utf16)).toThrow(/UTF-16.*iconv -f UTF-16 -t UTF-8/)
    expect(() => detectText('rows.csv', Buffer.from('a\0,\0b\0'))).toThrow(/NUL bytes/)
  })

  it('reads at most the requested head', async () => {
    const path = join(temp.dir, 'head.txt')
    writeFileSync(path, 'x'.repeat(100))
    expect((await readHead(path, 10)).length).toBe(10)
    expect((await readHead(path)).length).toBe(100)
  })
})

describe('sniffDelimiter', () => {
  it('counts delimiters outside quotes only', () => {
    expect(sniffDelimiter('"a,b,c";"d,e";f')).toBe(';')
    expect(sniffDelimiter('a|b|c')).toBe('|')
    expect(sniffDelimiter('a,b\tc,d')).toBe(',')
    expect(sniffDelimiter('single')).toBeNull()
  })
})

describe('firstInvalidUtf8', () => {
  it.each([
    ['valid text', [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80], -1],
    ['a Latin-1 é', [0x63, 0x61, 0x66, 0xe9, 0x0a], 3],
    ['an overlong encoding', [0x41, 0xc0, 0xaf], 1],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80], 0],
    ['a stray continuation byte', [0x41, 0x80], 1],
    ['a sequence cut off at the end', [0x41, 0xe2, 0x82], -1],
  ])('handles %s', (_, bytes, expected) => {
    expect(firstInvalidUtf8(Uint8Array.from(bytes))).toBe(expected)
  })
})
