// The WASM kernels that backend.ts replaces (Identity, same-dtype Cast, Slice, SplitV) give the same
// values as plain JS indexing, and shared buffers outlive the tensor they came from.

import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src-main/model/backend'

beforeAll(async () => {
  await initBackend('wasm')
})

/** values of x[begin .. begin+size] by index arithmetic */
function expectedSlice(shape: number[], begin: number[], size: number[]): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1))
  const out: number[] = []
  const idx = size.map(() => 0)
  const total = size.reduce((a, b) => a * b, 1)
  for (let n = 0; n < total; n++) {
    out.push(idx.reduce((off, j, k) => off + (begin[k] + j) * strides[k], 0))
    for (let k = size.length - 1; k >= 0; k--) {
      if (++idx[k] < size[k]) break
      idx[k] = 0
    }
  }
  return out
}

describe('patched WASM kernels', () => {
  it('runs on the WASM backend', () => {
    expect(tf.getBackend()).toBe('wasm')
  })

  it.each([
    [[7], [2], [4]],
    [[4, 5], [1, 2], [2, 3]],
    [[4, 5], [1, 0], [2, 5]],
    [[3, 4, 5], [1, 1, 0], [2, 2, 5]],
    [[3, 4, 5], [2, 0, 0], [1, 4, 5]],
    [[2, 3, 4, 5], [1, 0, 1, 2], [1, 3, 2, 3]],
    [[2, 2, 3, 2, 3], [0, 1, 1, 0, 1], [2, 1, 2, 2, 2]],
    [[3, 4], [1, 1], [0, 2]],
  ])('slice of %j at %j, size %j', (shape, begin, size) => {
    tf.tidy(() => {
      const n = shape.reduce((a, b) => a * b, 1)
      const x = tf.range(0, n, 1, 'float32').reshape(shape)
      const y = tf.slice(x, begin, size)
      expect(y.shape).toEqual(size)
      expect(Array.from(y.dataSync())).toEqual(expectedSlice(shape, begin, size))
      const xi = tf.range(0, n, 1, 'int32').reshape(shape)
      expect(Array.from(tf.slice(xi, begin, size).dataSync())).toEqual(expectedSlice(shape, begin, size))
    })
  })

  it('split along each axis equals the slices', () => {
    tf.tidy(() => {
      const shape = [2, 6, 4]
      const x = tf.range(0, 48, 1, 'float32').reshape(shape)
      for (const [axis, sizes] of [
        [0, [1, 1]],
        [1, [2, 3, 1]],
        [2, [1, 3]],
      ] as const) {
        const parts = tf.split(x, [...sizes], axis)
        let at = 0
        parts.forEach((p, i) => {
          const begin = [0, 0, 0]
          const size = [...shape]
          begin[axis] = at
          size[axis] = sizes[i]
          at += sizes[i]
          expect(p.shape).toEqual(size)
          expect(Array.from(p.dataSync())).toEqual(expectedSlice(shape, begin, size))
        })
      }
    })
  })

  it('clone and a same-dtype cast share the buffer and keep it alive', () => {
    const before = tf.memory().numTensors
    const x = tf.tensor1d([1, 2, 3])
    const c = tf.clone(x)
    const f = tf.cast(x, 'float32')
    const i = tf.cast(x, 'int32')
    x.dispose()
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3])
    expect(Array.from(f.dataSync())).toEqual([1, 2, 3])
    expect(i.dtype).toBe('int32')
    c.dispose()
    expect(Array.from(f.dataSync())).toEqual([1, 2, 3])
    f.dispose()
    i.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
