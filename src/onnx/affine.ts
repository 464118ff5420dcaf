import { sizeOf } from './graph.js'

/**
 * A pending affine map y = A·x + b over the concatenation of some emitted tensors (`bases`),
 * in CSR form. ONNX's constant linear ops (Gemm, MatMul, Add/Sub/Mul by constants, Reshape…)
 * compose into one such map, so a chain of them becomes a single linear step: one
 * requantisation instead of one per ONNX node.
 */
export interface Affine {
  shape: number[]
  bases: { id: number; size: number }[]
  rowPtr: Int32Array
  cols: Int32Array
  vals: Float64Array
  bias: Float64Array
}

export function identity(id: number, shape: number[]): Affine {
  const n = sizeOf(shape)
  return {
    shape,
    bases: [{ id, size: n }],
    rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => i),
    cols: Int32Array.from({ length: n }, (_, i) => i),
    vals: new Float64Array(n).fill(1),
    bias: new Float64Array(n),
  }
}

/** True when every row is exactly one base element with coefficient 1: a pure index map. */
export function isIndexMap(a: Affine): boolean {
  for (let j = 0; j < a.bias.length; j++) {
    if (a.bias[j] !== 0 || a.rowPtr[j + 1] - a.rowPtr[j] !== 1 || a.vals[a.rowPtr[j]] !== 1) return false
  }
  return true
}

/** One output row as a combination of input rows: y[o] = Σ w[i]·x[idx[i]] + bias. */
export interface RowTerms {
  idx: ArrayLike<number>
  w: ArrayLike<number>
  bias: number
}

/**
 * New affine y[o] = Σ_t w_t · a[idx_t] + bias_o: composes a linear transform onto `a`.
 * Rows are accumulated densely over the base width, then compressed (exact zeros dropped).
 */
export function compose(a: Affine, shape: number[], row: (o: number) => RowTerms): Affine {
  const n = sizeOf(shape)
  const width = a.bases.reduce((s, b) => s + b.size, 0)
  const scratch = new Float64Array(width)
  // Typed buffers, not JS arrays: a 4096×2048 layer has 8M entries, and growing number[] to
  // that size (then copying it) took most of the lowering time of large models.
  let touched = new Int32Array(Math.max(16, width))
  let touchedCount = 0
  const rowPtr = new Int32Array(n + 1)
  let cols = new Int32Array(Math.max(16, a.cols.length))
  let vals = new Float64Array(cols.length)
  let count = 0
  const bias = new Float64Array(n)
  for (let o = 0; o < n; o++) {
    const { idx, w, bias: b } = row(o)
    let acc = b
    for (let t = 0; t < idx.length; t++) {
      const r = idx[t]
      const wt = w[t]
      if (wt === 0) continue
      acc += wt * a.bias[r]
      for (let k = a.rowPtr[r]; k < a.rowPtr[r + 1]; k++) {
        const c = a.cols[k]
        if (scratch[c] === 0) {
          // A column whose sum cancels to 0 is recorded again, so a row may touch more than `width`.
          if (touchedCount === touched.length) {
            const t2 = new Int32Array(2 * touched.length)
            t2.set(touched)
            touched = t2
          }
          touched[touchedCount++] = c
        }
        scratch[c] += wt * a.vals[k]
      }
    }
    // Ascending column order (a typed sort is numeric); of a column recorded twice, the second copy reads 0 and is skipped.
    const sorted = touched.subarray(0, touchedCount).sort()
    if (count + touchedCount > cols.length) {
      const capacity = Math.max(2 * cols.length, count + touchedCount)
      const c2 = new Int32Array(capacity)
      c2.set(cols.subarray(0, count))
      cols = c2
      const v2 = new Float64Array(capacity)
      v2.set(vals.subarray(0, count))
      vals = v2
    }
    for (let i = 0; i < touchedCount; i++) {
      const c = sorted[i]
      if (scratch[c] !== 0) {
        cols[count] = c
        vals[count] = scratch[c]
        count++
      }
      scratch[c] = 0
    }
    touchedCount = 0
    bias[o] = acc
    rowPtr[o + 1] = count
  }
  return { shape, bases: a.bases, rowPtr, cols: cols.slice(0, count), vals: vals.slice(0, count), bias }
}

/** Re-expresses `a` over a wider base list that contains all of a's bases. */
function rebase(a: Affine, bases: Affine['bases']): Affine {
  const offsetOf = new Map<number, number>()
  let at = 0
  for (const b of bases) {
    offsetOf.set(b.id, at)
    at += b.size
  }
  const remap = new Int32Array(a.cols.length)
  let from = 0
  const starts = a.bases.map((b) => {
    const s = from
    from += b.size
    return s
  })
  for (let k = 0; k < a.cols.length; k++) {
    let bi = starts.length - 1
    while (starts[bi] > a.cols[k]) bi--
    remap[k] = offsetOf.get(a.bases[bi].id)! + (a.cols[k] - starts[bi])
  }
  return { ...a, bases, cols: remap }
}

/** y = a + sign·b elementwise (same shape), over the union of both base lists. */
export function add(a: Affine, b: Affine, sign: 1 | -1): Affine {
  const bases = [...a.bases, ...b.bases.filter((x) => !a.bases.some((y) => y.id === x.id))]
  const ra = rebase(a, bases)
  const rb = rebase(b, bases)
  const stacked: Affine = {
    shape: a.shape,
    bases,
    rowPtr: Int32Array.from([...ra.rowPtr, ...Array.from(rb.rowPtr.subarray(1), (p) => p + ra.cols.length)]),
    cols: Int32Array.from([...ra.cols, ...rb.cols]),
    vals: Float64Array.from([...ra.vals, ...rb.vals]),
    bias: Float64Array.from([...ra.bias, ...rb.bias]),
  }
  const n = a.bias.length
  return compose(stacked, a.shape, (o) => ({ idx: [o, n + o], w: [1, sign], bias: 0 }))
}
