/**
 * Levenshtein edit operations between two sequences of token ids, with the semantics of
 * python-Levenshtein's `Levenshtein.editops(source, target)` (the C implementation of
 * python-Levenshtein 0.12, `lev_editops_find` + `editops_from_cost_matrix`).
 *
 * Semantics (source = original response y, target = revised response ŷ):
 *   - `replace src dst`: source[src] is replaced by target[dst];
 *   - `insert  src dst`: target[dst] is inserted before source[src] (src may equal source.length);
 *   - `delete  src dst`: source[src] is deleted; dst is the position in target where it was
 *     (dst may equal target.length).
 * Matches are not listed. The list is sorted by (src, dst) in edit order and its length is
 * the Levenshtein distance (unit costs).
 *
 * Tie-breaking (which optimal alignment is returned) follows python-Levenshtein 0.12 exactly:
 * it strips the common prefix and suffix, fills the cost matrix D of the middle parts and
 * walks back from the bottom-right corner, at each cell taking the first of
 *   1. keep going left (insert)  if the previous step was an insert and it is optimal;
 *   2. keep going up   (delete)  if the previous step was a delete and it is optimal;
 *   3. diagonal match           if the two tokens are equal;
 *   4. diagonal replace          if optimal;
 *   5. insert                    if optimal (and the previous step was not a delete);
 *   6. delete                    if optimal (and the previous step was not an insert).
 * We reproduce this walk without the full O(n·m) matrix: D is represented implicitly by the
 * Landau–Vishkin "furthest reaching" table L[e][k] (the last row on diagonal k = j − i whose
 * cost is ≤ e), which takes O(d²) memory and O((n+m)·d) time at worst, typically O(n + d²),
 * for distance d. Every question the walk asks ("is D at this neighbour equal to the current
 * cost − 1?") is answered exactly by one lookup: D[i][j] ≤ e ⟺ L[e][j − i] ≥ i. So the
 * result is identical to python-Levenshtein's for every input that takes this path.
 *
 * When the table would be larger than the cost matrix itself (heavy rewrites, d² ≳ n·m/2) we
 * fill the cost matrix and walk it literally, as python-Levenshtein does. If that matrix
 * would exceed MAX_TABLE_BYTES (thousands of edits between long sequences), only every
 * ⌈√n⌉-th row of it is kept and each block of rows is recomputed when the walk reaches it:
 * O(m·√n) memory, about twice the time, and still the same result.
 *
 * So the result equals python-Levenshtein 0.12's on every input. (Levenshtein ≥ 0.18, the
 * rapidfuzz-based rewrite that accepts lists of ints, breaks ties differently: see
 * README.md in this folder.)
 */

export type EditOpType = 'replace' | 'insert' | 'delete'

export interface EditOp {
  op: EditOpType
  /** position in the source (original y) */
  src: number
  /** position in the target (revised ŷ) */
  dst: number
}

/** Memory ceiling (bytes) for the furthest-reaching table or a full cost matrix; past it the
 * cost matrix is kept as checkpoint rows only (O(m·√n) memory). */
export const MAX_TABLE_BYTES = 48 * 1024 * 1024

type Seq = ArrayLike<number>

const NEG = -0x40000000 // "unreachable" in the furthest-reaching table (survives +1)

/**
 * Levenshtein distance with unit costs (Landau–Vishkin, two levels kept): O(max(n, m) · d)
 * time at worst, typically O(n + d²); O(n + m) memory.
 */
export function editDistance(a: Seq, b: Seq): number {
  let n = a.length
  let m = b.length
  let off = 0
  while (off < n && off < m && a[off] === b[off]) off++
  while (n > off && m > off && a[n - 1] === b[m - 1]) {
    n--
    m--
  }
  n -= off
  m -= off
  if (n === 0) return m
  if (m === 0) return n
  const delta = m - n
  const maxE = Math.max(n, m)
  // Two rows of the furthest-reaching table, indexed by k + maxE + 1 (with a guard cell each side).
  const width = 2 * maxE + 3
  let prev = new Int32Array(width).fill(NEG)
  let cur = new Int32Array(width).fill(NEG)
  const base = maxE + 1
  for (let e = 0; ; e++) {
    const kLo = Math.max(-e, -n)
    const kHi = Math.min(e, m)
    for (let k = kLo; k <= kHi; k++) {
      let row: number
      if (e === 0) row = 0
      else {
        row = prev[base + k] + 1
        const fromIns = prev[base + k - 1]
        if (fromIns > row) row = fromIns
        const fromDel = prev[base + k + 1] + 1
        if (fromDel > row) row = fromDel
        const lim = n < m - k ? n : m - k
        if (row > lim) row = lim
        if (row < 0) {
          cur[base + k] = NEG
          continue
        }
      }
      while (row < n && row + k < m && a[off + row] === b[off + row + k]) row++
      cur[base + k] = row
    }
    if (cur[base + delta] >= n) return e
    // Swap rows. Every stale cell of the reused row lies inside the next level's window
    // (the window only grows), so it is overwritten before it is read.
    const t = prev
    prev = cur
    cur = t
  }
}

/**
 * The edit operations turning `source` into `target`, exactly as python-Levenshtein 0.12's
 * `Levenshtein.editops(source, target)` returns them (see the module comment for ties).
 */
export function editops(source: Seq, target: Seq): EditOp[] {
  return editopsWith(source, target, DEFAULT_STRATEGY)
}

/** Which engine solves the middle part; 'auto' is what `editops` uses. Exposed for tests. */
export interface EditopsStrategy {
  engine: 'auto' | 'table' | 'matrix' | 'checkpoint'
  /** memory ceiling of the exact engines, bytes */
  maxTableBytes: number
  /** filled in by the call: which engine ran and how many bytes its table needed */
  stats?: { engine?: 'none' | 'table' | 'matrix' | 'checkpoint'; tableBytes?: number }
}

const DEFAULT_STRATEGY: EditopsStrategy = { engine: 'auto', maxTableBytes: MAX_TABLE_BYTES }

/** `editops` with an explicit engine choice (tests and benchmarks). Same result semantics. */
export function editopsWith(source: Seq, target: Seq, strategy: EditopsStrategy): EditOp[] {
  let n = source.length
  let m = target.length
  let off = 0
  while (off < n && off < m && source[off] === target[off]) off++
  while (n > off && m > off && source[n - 1] === target[m - 1]) {
    n--
    m--
  }
  n -= off
  m -= off
  const ops: EditOp[] = []
  if (strategy.stats) {
    strategy.stats.engine = 'none'
    strategy.stats.tableBytes = 0
  }
  solveMiddle(source, target, off, off, n, m, ops, strategy)
  return ops
}

/**
 * Appends the ops for source[sOff, sOff+n) → target[tOff, tOff+m) to `out`; the caller has
 * stripped the common prefix and suffix, as python-Levenshtein does.
 */
function solveMiddle(a: Seq, b: Seq, sOff: number, tOff: number, n: number, m: number, out: EditOp[], cfg: EditopsStrategy): void {
  if (n === 0) {
    for (let j = 0; j < m; j++) out.push({ op: 'insert', src: sOff, dst: tOff + j })
    return
  }
  if (m === 0) {
    for (let i = 0; i < n; i++) out.push({ op: 'delete', src: sOff + i, dst: tOff })
    return
  }
  const cellBytes = n + m < 0xffff ? 2 : 4
  const matrixBytes = cellBytes * (n + 1) * (m + 1)
  if (cfg.engine === 'auto' || cfg.engine === 'table') {
    // The table is worth it while it is smaller than the matrix (few edits); 64 KiB is free.
    // When even the matrix is over the ceiling, give the table at most 8 MiB (d ≈ 1400)
    // before switching to checkpoint rows, which need only O(m·√n).
    const limit =
      cfg.engine === 'table'
        ? Infinity
        : matrixBytes <= cfg.maxTableBytes
          ? Math.max(matrixBytes, 64 * 1024)
          : Math.min(cfg.maxTableBytes, 8 * 1024 * 1024)
    const table = furthestReaching(a, b, sOff, tOff, n, m, limit)
    if (table) {
      if (cfg.stats) {
        cfg.stats.engine = 'table'
        cfg.stats.tableBytes = 4 * (table.d + 1) * (table.d + 5)
      }
      walkTable(a, b, sOff, tOff, n, m, table.L, table.d, out)
      return
    }
  }
  let blockRows = n
  if (cfg.engine === 'checkpoint' || (cfg.engine === 'auto' && matrixBytes > cfg.maxTableBytes)) {
    blockRows = Math.ceil(Math.sqrt(n))
  }
  if (cfg.stats) {
    cfg.stats.engine = blockRows < n ? 'checkpoint' : 'matrix'
    cfg.stats.tableBytes = cellBytes * (m + 1) * (blockRows < n ? Math.ceil(n / blockRows) + 1 + blockRows + 3 : n + 1)
  }
  walkRows(a, b, sOff, tOff, n, m, blockRows, out)
}

// ---------------------------------------------------------------------------------------------
// Landau–Vishkin furthest-reaching table
// ---------------------------------------------------------------------------------------------

/**
 * L[e][k] for e = 0..d, k ∈ [−e, e]: the largest row i with D[i][i+k] ≤ e. Flattened with two
 * NEG guard cells on each side of every level, so the recurrence needs no range checks:
 * level e occupies [e² + 4e, e² + 6e + 5) and diagonal k of level e sits at levelZero(e) + k.
 * Returns null when the table would need more than `limitBytes`.
 */
function furthestReaching(
  a: Seq,
  b: Seq,
  sOff: number,
  tOff: number,
  n: number,
  m: number,
  limitBytes: number,
): { L: Int32Array; d: number } | null {
  const delta = m - n
  const maxCells = limitBytes / 4
  // Reuse one scratch table across calls (allocating typed arrays per pair dominates the cost
  // of short pairs). The result is consumed by walkTable before the next call can run.
  let L = scratchL
  // level 0
  L[0] = NEG
  L[1] = NEG
  let r = 0
  while (r < n && r < m && a[sOff + r] === b[tOff + r]) r++
  L[2] = r
  L[3] = NEG
  L[4] = NEG
  if (delta === 0 && r >= n) return { L, d: 0 }
  for (let e = 1; ; e++) {
    if (e > n + m) throw new Error('editops: furthest-reaching table did not converge (internal error)')
    const end = e * e + 6 * e + 5
    if (end > L.length) {
      if (end > maxCells) return null
      const grown = new Int32Array(Math.min(Math.max(2 * L.length, end), Math.max(end, Math.floor(maxCells))))
      grown.set(L.subarray(0, e * e + 4 * e))
      L = grown
      // Keep moderately sized tables for the next call; let huge ones go.
      if (grown.length <= SCRATCH_KEEP) scratchL = grown
    }
    const base = e * e + 5 * e + 2 // k = 0 of level e
    const pBase = base - 2 * e - 4 // k = 0 of level e − 1
    L[base - e - 2] = NEG
    L[base - e - 1] = NEG
    L[base + e + 1] = NEG
    L[base + e + 2] = NEG
    const kLo = e < n ? -e : -n
    const kHi = e < m ? e : m
    for (let k = -e; k < kLo; k++) L[base + k] = NEG // diagonals that start below the matrix
    for (let k = kHi + 1; k <= e; k++) L[base + k] = NEG // … or right of it
    for (let k = kLo; k <= kHi; k++) {
      let row = L[pBase + k] + 1 // replace
      const ins = L[pBase + k - 1] // insert: same row, from diagonal k − 1
      if (ins > row) row = ins
      const del = L[pBase + k + 1] + 1 // delete: next row, from diagonal k + 1
      if (del > row) row = del
      const lim = n < m - k ? n : m - k
      if (row > lim) row = lim
      while (row < lim && a[sOff + row] === b[tOff + row + k]) row++
      L[base + k] = row
    }
    if (delta >= -e && delta <= e && L[base + delta] >= n) return { L, d: e }
  }
}

const SCRATCH_KEEP = 1 << 20 // cells (4 MiB)
let scratchL = new Int32Array(64 * 64)

/** D[i][j] ≤ e, from the furthest-reaching table. */
function reach(L: Int32Array, e: number, i: number, j: number): boolean {
  if (e < 0) return false
  const k = j - i
  if (k < -e || k > e) return false
  return L[e * e + 5 * e + 2 + k] >= i
}

function walkTable(a: Seq, b: Seq, sOff: number, tOff: number, n: number, m: number, L: Int32Array, d: number, out: EditOp[]): void {
  const ops: EditOp[] = new Array(d)
  let pos = d
  let i = n
  let j = m
  let cur = d // D[i][j] along the walk
  let dir = 0 // −1 after an insert, +1 after a delete, 0 otherwise
  while (i > 0 || j > 0) {
    if (dir < 0 && j > 0 && reach(L, cur - 1, i, j - 1)) {
      j--
      cur--
      ops[--pos] = { op: 'insert', src: sOff + i, dst: tOff + j }
      continue
    }
    if (dir > 0 && i > 0 && reach(L, cur - 1, i - 1, j)) {
      i--
      cur--
      ops[--pos] = { op: 'delete', src: sOff + i, dst: tOff + j }
      continue
    }
    if (i > 0 && j > 0 && a[sOff + i - 1] === b[tOff + j - 1]) {
      i--
      j--
      dir = 0
      continue
    }
    if (i > 0 && j > 0 && reach(L, cur - 1, i - 1, j - 1)) {
      i--
      j--
      cur--
      ops[--pos] = { op: 'replace', src: sOff + i, dst: tOff + j }
      dir = 0
      continue
    }
    if (dir === 0 && j > 0 && reach(L, cur - 1, i, j - 1)) {
      j--
      cur--
      ops[--pos] = { op: 'insert', src: sOff + i, dst: tOff + j }
      dir = -1
      continue
    }
    if (dir === 0 && i > 0 && reach(L, cur - 1, i - 1, j)) {
      i--
      cur--
      ops[--pos] = { op: 'delete', src: sOff + i, dst: tOff + j }
      dir = 1
      continue
    }
    throw new Error('editops: lost in the cost matrix (internal error)')
  }
  for (let t = 0; t < d; t++) out.push(ops[t])
}

// ---------------------------------------------------------------------------------------------
// Cost matrix rows (heavy rewrites): the same walk, literally, on D itself
// ---------------------------------------------------------------------------------------------

/**
 * python-Levenshtein's walk on the cost matrix, keeping only every `blockRows`-th row of the
 * forward pass and recomputing one block of rows at a time during the walk (which goes
 * upwards): memory O(m · (n / blockRows + blockRows)), time at most twice the forward pass.
 * With blockRows ≥ n this is the plain full-matrix algorithm.
 */
function walkRows(a: Seq, b: Seq, sOff: number, tOff: number, n: number, m: number, blockRows: number, out: EditOp[]): void {
  const w = m + 1
  const B = Math.max(1, Math.min(blockRows, n))
  const small = n + m < 0xffff
  const newRow = (len: number) => (small ? new Uint16Array(len) : new Uint32Array(len))
  // Row i of D from row i − 1 (python-Levenshtein's recurrence).
  const fill = (D: Uint16Array | Uint32Array, prow: number, row: number, i: number) => {
    const ai = a[sOff + i - 1]
    let x = i
    D[row] = i
    for (let j = 1; j <= m; j++) {
      let c = D[prow + j - 1] + (ai === b[tOff + j - 1] ? 0 : 1)
      x++
      if (x > c) x = c
      c = D[prow + j] + 1
      if (x > c) x = c
      D[row + j] = x
    }
  }
  // Forward pass: keep rows 0, B, 2B, …
  const checkpoints: (Uint16Array | Uint32Array)[] = []
  const buf = newRow((B + 1) * w)
  for (let j = 0; j <= m; j++) buf[j] = j
  checkpoints.push(buf.slice(0, w))
  if (B < n) {
    const two = newRow(2 * w)
    two.set(buf.subarray(0, w))
    for (let i = 1; i <= n; i++) {
      const cur = (i & 1) * w
      fill(two, w - cur, cur, i)
      if (i % B === 0) checkpoints.push(two.slice(cur, cur + w))
    }
  }
  // Block q holds rows r0 = q·B … r1 = min(n, r0 + B) in buf.
  let r0 = -1
  const load = (q: number) => {
    r0 = q * B
    const r1 = Math.min(n, r0 + B)
    buf.set(checkpoints[q], 0)
    for (let i = r0 + 1; i <= r1; i++) fill(buf, (i - 1 - r0) * w, (i - r0) * w, i)
  }
  load(Math.max(0, Math.ceil(n / B) - 1))
  const ops: EditOp[] = []
  let i = n
  let j = m
  let dir = 0
  while (i > 0 || j > 0) {
    if (i > 0 && i === r0) load(i / B - 1)
    const p = (i - r0) * w + j
    const v = buf[p]
    if (dir < 0 && j > 0 && v === buf[p - 1] + 1) {
      j--
      ops.push({ op: 'insert', src: sOff + i, dst: tOff + j })
      continue
    }
    if (dir > 0 && i > 0 && v === buf[p - w] + 1) {
      i--
      ops.push({ op: 'delete', src: sOff + i, dst: tOff + j })
      continue
    }
    if (i > 0 && j > 0 && v === buf[p - w - 1] && a[sOff + i - 1] === b[tOff + j - 1]) {
      i--
      j--
      dir = 0
      continue
    }
    if (i > 0 && j > 0 && v === buf[p - w - 1] + 1) {
      i--
      j--
      ops.push({ op: 'replace', src: sOff + i, dst: tOff + j })
      dir = 0
      continue
    }
    if (dir === 0 && j > 0 && v === buf[p - 1] + 1) {
      j--
      ops.push({ op: 'insert', src: sOff + i, dst: tOff + j })
      dir = -1
      continue
    }
    if (dir === 0 && i > 0 && v === buf[p - w] + 1) {
      i--
      ops.push({ op: 'delete', src: sOff + i, dst: tOff + j })
      dir = 1
      continue
    }
    throw new Error('editops: lost in the cost matrix (internal error)')
  }
  for (let t = ops.length - 1; t >= 0; t--) out.push(ops[t])
}
