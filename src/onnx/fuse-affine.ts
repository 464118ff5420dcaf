import type { FloatAffine } from './graph.js'

/**
 * The affine maps of src/onnx/fuse-elementwise.ts: which affine steps apply one function to
 * every element (a sum of per-element terms with coefficients shared by every row), and which
 * two affine steps are one map up to a scale and an offset (an exported GELU's x / √2 and x).
 */

/** Where the concatenated inputs of a step start: element `c` of the concatenation is in input k at c - offsets[k]. */
export function offsetsOf(inputs: readonly number[], sizes: ReadonlyMap<number, number>): number[] {
  const offsets: number[] = []
  let at = 0
  for (const t of inputs) {
    offsets.push(at)
    at += sizes.get(t)!
  }
  offsets.push(at)
  return offsets
}

/** The input element `c` of the concatenation lies in. */
function inputAt(c: number, offsets: readonly number[]): number {
  let k = 0
  while (c >= offsets[k + 1]) k++
  return k
}

/** The one input every position of `positions` lies in, or -1 (several, or a position < 0). */
export function inputOf(positions: ArrayLike<number>, offsets: readonly number[]): number {
  if (positions.length === 0 || positions[0] < 0 || positions[0] >= offsets[offsets.length - 1]) return -1
  const k = inputAt(positions[0], offsets)
  for (let i = 0; i < positions.length; i++) if (positions[i] < offsets[k] || positions[i] >= offsets[k + 1]) return -1
  return k
}

/**
 * An affine step's rows split by input: a `term` input is read once by every row with one
 * coefficient `a` shared by every row (row i reads its element `at[i]`); the `wide` inputs are
 * the rest (a matrix product, per-channel constants), which a fused function may only hold as a
 * multiple of its source. `bias` is the bias when every row has the same one, else null.
 */
export interface AffineParts {
  terms: { k: number; a: number; at: Int32Array }[]
  wide: number[]
  bias: number | null
}

export function affineParts(op: FloatAffine, offsets: readonly number[]): AffineParts {
  const rows = op.bias.length
  const inputs = offsets.length - 1
  const count = Array.from({ length: inputs }, () => new Int32Array(rows))
  const at = Array.from({ length: inputs }, () => new Int32Array(rows))
  const coefficient = Array.from({ length: inputs }, () => new Float64Array(rows))
  for (let j = 0; j < rows; j++)
    for (let p = op.rowPtr[j]; p < op.rowPtr[j + 1]; p++) {
      const k = inputAt(op.cols[p], offsets)
      count[k][j]++
      at[k][j] = op.cols[p] - offsets[k]
      coefficient[k][j] = op.vals[p]
    }
  const terms: AffineParts['terms'] = []
  const wide: number[] = []
  for (let k = 0; k < inputs; k++) {
    if (count[k].every((c) => c === 0)) continue
    // Exactly equal: a scalar Mul/Add composes into the same float in every row; anything else
    // (per-channel constants) is not one function of the tensor.
    const a = coefficient[k][0]
    if (rows > 0 && count[k].every((c) => c === 1) && coefficient[k].every((v) => v === a))
      terms.push({ k, a, at: at[k] })
    else wide.push(k)
  }
  const b = op.bias[0]
  return { terms, wide, bias: op.bias.every((v) => v === b) ? b : null }
}

const close = (x: number, y: number) => Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y))

/**
 * A's rows restricted to its inputs `part` (all of them by default) equal α·B's rows, row by
 * row, and A's bias is α·B's plus one β: then A = α·B + β + (A's other terms) elementwise. B's
 * inputs must be A's `part`, in order. α and β hold to 1e-12 relative: composing the same weights
 * with a scalar rounds differently from composing them alone.
 */
export function proportional(
  A: FloatAffine,
  B: FloatAffine,
  sizes: ReadonlyMap<number, number>,
  part: readonly number[] = A.inputs.map((_, k) => k),
): { alpha: number; beta: number } | null {
  const rows = A.bias.length
  if (B.bias.length !== rows || B.inputs.length !== part.length || part.some((k, i) => A.inputs[k] !== B.inputs[i]))
    return null
  const offA = offsetsOf(A.inputs, sizes),
    offB = offsetsOf(B.inputs, sizes)
  let alpha = Number.NaN
  for (let j = 0; j < rows; j++) {
    let q = B.rowPtr[j]
    for (let p = A.rowPtr[j]; p < A.rowPtr[j + 1]; p++) {
      const k = inputAt(A.cols[p], offA)
      const i = part.indexOf(k)
      if (i < 0) continue
      if (q >= B.rowPtr[j + 1] || B.cols[q] !== A.cols[p] - offA[k] + offB[i]) return null
      if (Number.isNaN(alpha)) alpha = A.vals[p] / B.vals[q]
      else if (!close(A.vals[p], alpha * B.vals[q])) return null
      q++
    }
    if (q !== B.rowPtr[j + 1]) return null
  }
  if (!Number.isFinite(alpha) || alpha === 0) return null
  const beta = A.bias[0] - alpha * B.bias[0]
  let scale = Math.abs(beta)
  for (let j = 0; j < rows; j++) scale = Math.max(scale, Math.abs(A.bias[j]), Math.abs(alpha * B.bias[j]))
  for (let j = 0; j < rows; j++) if (Math.abs(A.bias[j] - alpha * B.bias[j] - beta) > 1e-12 * scale) return null
  // A β within the tolerance of 0 is rounding (x / √2 from x), and 0 keeps the name readable.
  return { alpha, beta: Math.abs(beta) <= 1e-12 * scale ? 0 : beta }
}
