import { type Affine, identity } from '../affine.js'
import { sizeOf } from '../graph.js'
import { broadcastIndex } from '../shapes.js'
import { type AffineSym, type Ctx, LoweringError, type Sym, remap, shapeOf } from './common.js'
import { MASK_FILL, maskFill } from './mask-fill.js'

/**
 * Hugging Face's padding mask: an int32/int64 input `attention_mask` [batch, seq] of 0/1,
 * exported as scores + (1 − m)·(−big) before a Softmax (−big: float32's lowest, −1e9, −1e4).
 * Kept additive, −big would reach the integer model as a value: the scores' calibrated range,
 * and so their scale, would span it. So the Softmax splits it off its input instead (here),
 * and weighs each exp by m (src/onnx/ops/normalization.ts): a masked position's exp is then
 * 0·exp = 0 exactly in the integer model, whatever its score, and the scores keep their range.
 *
 * The input is then a declared-binary input (FloatGraph input `binary`): integers in [0, 1]
 * at scale 1, which the circuit range-checks, so no proof can use a mask of other values.
 * A Softmax input reading the mask both so and otherwise is refused.
 */

/** The mask split off a Softmax's input: per position of the input, the mask element weighing it (-1: none). */
export interface InputMask {
  input: number
  /** The mask input's element count. */
  size: number
  index: Int32Array
}

/** Coefficients of the mask at or beyond this size are the additive mask (no real score is scaled so). */
const BIG = -MASK_FILL / 2

/**
 * X = S + w·m + b with, at every position reading the mask, a huge w and b ≈ −w (masked when
 * m = 0): returns S with bias b + w (the unmasked value) and the mask's element per position.
 * Null when X reads no int32/int64 input (other than token ids) with a mask-sized coefficient.
 * A mask read otherwise besides (a small coefficient, two mask elements in one position, a
 * bias that does not mask) is refused.
 */
export function splitInputMask(ctx: Ctx, X: Sym): { scores: AffineSym; mask: InputMask } | null {
  if (X.kind !== 'affine') return null
  const a = X.a
  const k = a.bases.findIndex((b) => ctx.tokenIds.candidates.has(b.id) && !ctx.tokenIds.domains.has(b.id))
  if (k === -1) return null
  const base = a.bases[k]
  const from = a.bases.slice(0, k).reduce((s, b) => s + b.size, 0)
  const to = from + base.size
  // An int input added as a value (no mask-sized coefficient) is an ordinary input: not a mask.
  if (!a.cols.some((c, j) => c >= from && c < to && Math.abs(a.vals[j]) >= BIG)) return null
  const n = sizeOf(a.shape)
  const index = new Int32Array(n).fill(-1)
  const bias = Float64Array.from(a.bias)
  const rowPtr = new Int32Array(n + 1)
  const cols: number[] = [],
    vals: number[] = []
  const refuse = (why: string) =>
    new LoweringError({
      node: ctx.node,
      problem: `input "${ctx.tokenIds.candidates.get(base.id)}" reaches the Softmax ${why}`,
      details: [
        'An int32/int64 input other than token ids is accepted as a 0/1 attention mask added to the scores as (1 − mask)·(−big), as Hugging Face exports it.',
      ],
    })
  for (let o = 0; o < n; o++) {
    for (let j = a.rowPtr[o]; j < a.rowPtr[o + 1]; j++) {
      const c = a.cols[j]
      if (c < from || c >= to) {
        cols.push(c >= to ? c - base.size : c)
        vals.push(a.vals[j])
        continue
      }
      const w = a.vals[j]
      if (index[o] !== -1) throw refuse(`twice in one score (position ${o})`)
      if (!(w >= BIG && a.bias[o] <= -BIG))
        throw refuse(`with weight ${w} and offset ${a.bias[o]}, not as an additive mask (1 − mask)·(−big)`)
      index[o] = c - from
      // The unmasked value: b + w. −big reaches here as MASK_FILL (src/onnx/ops/linear.ts), so a
      // score's own bias (a relative position bias) survives the sum in float64.
      bias[o] += w
    }
    rowPtr[o + 1] = cols.length
  }
  ctx.maskInputs.add(base.id)
  const scores: Affine = {
    shape: a.shape,
    bases: a.bases.filter((_, i) => i !== k),
    rowPtr,
    cols: Int32Array.from(cols),
    vals: Float64Array.from(vals),
    bias,
  }
  return { scores: { kind: 'affine', a: scores }, mask: { input: base.id, size: base.size, index } }
}

/** The mask's values at the Softmax input's positions (1 where no mask element weighs it). */
export function maskValues(mask: InputMask, shape: number[]): Sym {
  const input: AffineSym = { kind: 'affine', a: identity(mask.input, [mask.size]) }
  return remap(input, shape, (o) => mask.index[o], 1)
}

/**
 * An elementwise function of values that each depend on at most one element of an
 * int32/int64 input, the same one per position (a mask expanded, 1 − m, Cast to bool, a
 * Where on it): affine in that element, f(0) + (f(1) − f(0))·m, whatever f, once the input is
 * declared binary, which this does (FloatGraph input `binary`: the quantiser range-checks it
 * to 0 and 1, so the interpolation is exact on every admissible input). −inf and other mask
 * fills become MASK_FILL (src/onnx/ops/mask.ts). Null when some value depends on anything else.
 */
export function ofBinaryInput(ctx: Ctx, syms: Sym[], shape: number[], f: (v: number[]) => number): Sym | null {
  const pending = syms.filter((s): s is AffineSym => s.kind === 'affine')
  const ids = new Set(pending.flatMap((s) => s.a.bases.map((b) => b.id)))
  const [id] = ids
  if (ids.size !== 1 || !ctx.tokenIds.candidates.has(id) || ctx.tokenIds.domains.has(id)) return null
  const size = pending[0].a.bases[0].size
  const n = sizeOf(shape)
  const maps = syms.map((s) => broadcastIndex(shapeOf(s), shape))
  const at = new Int32Array(n).fill(-1)
  const lo = new Float64Array(n),
    hi = new Float64Array(n)
  const v0 = new Array<number>(syms.length),
    v1 = new Array<number>(syms.length)
  for (let o = 0; o < n; o++) {
    for (let i = 0; i < syms.length; i++) {
      const s = syms[i],
        r = maps[i][o]
      if (s.kind === 'const') {
        v0[i] = v1[i] = s.data[r]
        continue
      }
      const { rowPtr, cols, vals, bias } = s.a
      if (rowPtr[r + 1] - rowPtr[r] > 1) return null
      v0[i] = v1[i] = bias[r]
      if (rowPtr[r + 1] === rowPtr[r]) continue
      if (at[o] !== -1 && at[o] !== cols[rowPtr[r]]) return null
      at[o] = cols[rowPtr[r]]
      v1[i] += vals[rowPtr[r]]
    }
    lo[o] = maskFill(f(v0))
    hi[o] = maskFill(f(v1))
  }
  ctx.maskInputs.add(id)
  const cols: number[] = [],
    vals: number[] = []
  const rowPtr = new Int32Array(n + 1)
  for (let o = 0; o < n; o++) {
    if (at[o] !== -1 && hi[o] !== lo[o]) {
      cols.push(at[o])
      vals.push(hi[o] - lo[o])
    }
    rowPtr[o + 1] = cols.length
  }
  if (cols.length === 0) return { kind: 'const', dims: shape, data: lo }
  const a: Affine = {
    shape,
    bases: [{ id, size }],
    rowPtr,
    cols: Int32Array.from(cols),
    vals: Float64Array.from(vals),
    bias: lo,
  }
  return { kind: 'affine', a }
}
