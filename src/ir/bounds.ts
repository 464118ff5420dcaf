import { FieldOverflowError, LookupDomainError, OperandRangeError } from './errors.js'
import { divValue, isqrtValue, requantValue } from './ops.js'
import type { IrModel, LinearOp, MaxOp, OpKind, PrimitiveOp, TensorBounds, TensorId } from './types.js'
import { sizeOf } from '../util/shape.js'

/**
 * Values are safe while |v| < 2^SAFE_BITS: far below the BN254 scalar field (~2^253.6), so
 * every bit decomposition in the circuit (value bits + shift bits + sign) stays under 253
 * bits and field arithmetic equals integer arithmetic.
 */
export const SAFE_BITS = 240

const bitLength = (v: bigint): number => (v < 0n ? -v : v).toString(2).length

function concatBounds(b: Map<TensorId, TensorBounds>, ids: readonly TensorId[]): TensorBounds {
  if (ids.length === 1) return b.get(ids[0])!
  return { lo: ids.flatMap((id) => b.get(id)!.lo), hi: ids.flatMap((id) => b.get(id)!.hi) }
}

/** Interval rule of each primitive op, elementwise and exact for the op itself. */
const RULES: { [K in OpKind]: (op: Extract<PrimitiveOp, { op: K }>, x: TensorBounds) => TensorBounds } = {
  linear: (op, x) => {
    const lo: bigint[] = [],
      hi: bigint[] = []
    for (let j = 0; j < op.bias.length; j++) {
      let a = op.bias[j],
        b = op.bias[j]
      for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++) {
        const w = op.vals[k],
          c = op.cols[k]
        if (w >= 0n) {
          a += w * x.lo[c]
          b += w * x.hi[c]
        } else {
          a += w * x.hi[c]
          b += w * x.lo[c]
        }
      }
      lo.push(a)
      hi.push(b)
    }
    return { lo, hi }
  },
  // requant is monotone in x: non-decreasing for mul ≥ 0, non-increasing for mul < 0 (the
  // quantiser emits mul > 0 and the circuit emitter refuses others; the optimistic path takes any).
  requant: (op, x) => {
    const [from, to] = op.mul < 0n ? [x.hi, x.lo] : [x.lo, x.hi]
    return { lo: from.map((v) => requantValue(v, op)), hi: to.map((v) => requantValue(v, op)) }
  },
  gather: (op, x) => ({
    lo: Array.from(op.index, (i) => (i < 0 ? op.fill : x.lo[i])),
    hi: Array.from(op.index, (i) => (i < 0 ? op.fill : x.hi[i])),
  }),
  // max is monotone in every operand: the bounds are the max of the bounds.
  max: (op, x) => {
    const lo: bigint[] = [],
      hi: bigint[] = []
    for (let i = 0; i + 1 < op.rowPtr.length; i++) {
      let a = x.lo[op.cols[op.rowPtr[i]]],
        b = x.hi[op.cols[op.rowPtr[i]]]
      for (let k = op.rowPtr[i] + 1; k < op.rowPtr[i + 1]; k++) {
        const c = op.cols[k]
        if (x.lo[c] > a) a = x.lo[c]
        if (x.hi[c] > b) b = x.hi[c]
      }
      lo.push(a)
      hi.push(b)
    }
    return { lo, hi }
  },
  // The product's range is spanned by the four corner products (exact for independent operands);
  // a square (one element times itself: a variance's x·x) is ≥ 0, exactly [min x², max x²].
  mul: (op, x) => {
    const lo: bigint[] = [],
      hi: bigint[] = []
    for (let i = 0; i < op.left.length; i++) {
      const a = op.left[i],
        b = op.right[i]
      if (a === b) {
        const [l, h] = [x.lo[a], x.hi[a]]
        const [sl, sh] = [l * l, h * h]
        lo.push(l <= 0n && h >= 0n ? 0n : sl < sh ? sl : sh)
        hi.push(sl > sh ? sl : sh)
        continue
      }
      const c = [x.lo[a] * x.lo[b], x.lo[a] * x.hi[b], x.hi[a] * x.lo[b], x.hi[a] * x.hi[b]]
      lo.push(c.reduce((m, v) => (v < m ? v : m)))
      hi.push(c.reduce((m, v) => (v > m ? v : m)))
    }
    return { lo, hi }
  },
  // Exact: the min and max of the table over the element's input range (checked to be inside the domain).
  lookup: (op, x) => {
    const lo: bigint[] = [],
      hi: bigint[] = []
    const last = op.offset + BigInt(op.table.length) - 1n
    for (let i = 0; i < x.lo.length; i++) {
      if (x.lo[i] < op.offset || x.hi[i] > last)
        throw new LookupDomainError({ element: i, lo: x.lo[i], hi: x.hi[i], domainLo: op.offset, domainHi: last })
      let a = op.table[Number(x.lo[i] - op.offset)],
        b = a
      for (let v = Number(x.lo[i] - op.offset); v <= Number(x.hi[i] - op.offset); v++) {
        const t = op.table[v]
        if (t < a) a = t
        if (t > b) b = t
      }
      lo.push(a)
      hi.push(b)
    }
    return { lo, hi }
  },
  // round(a·2^s/d) is non-decreasing in a and, for d ≥ 1, monotone in d (down for a ≥ 0, up for
  // a < 0): the bounds are the extremes over the four corners.
  div: (op, x) => {
    const lo: bigint[] = [],
      hi: bigint[] = []
    for (let i = 0; i < op.num.length; i++) {
      const n = op.num[i],
        d = op.den[i]
      if (x.lo[d] < 1n) throw new OperandRangeError({ op: 'div', element: i, lo: x.lo[d], hi: x.hi[d] })
      const [alo, ahi] = n < 0 ? [1n, 1n] : [x.lo[n], x.hi[n]]
      const c = [alo, ahi].flatMap((a) => [x.lo[d], x.hi[d]].map((dv) => divValue(a, dv, op.shift)))
      lo.push(c.reduce((m, v) => (v < m ? v : m)))
      hi.push(c.reduce((m, v) => (v > m ? v : m)))
    }
    return { lo, hi }
  },
  // floor(√x) is non-decreasing.
  isqrt: (_op, x) => {
    x.lo.forEach((v, i) => {
      if (v < 0n) throw new OperandRangeError({ op: 'isqrt', element: i, lo: v, hi: x.hi[i] })
    })
    return { lo: x.lo.map(isqrtValue), hi: x.hi.map(isqrtValue) }
  },
}

/**
 * Interval analysis over the whole model: proven elementwise bounds of every tensor for
 * every input in the declared input domains. Refuses a model whose values could leave the
 * safe range of the field.
 *
 * `known`: bounds already analysed for a prefix of the same model (inputs and earlier steps),
 * extended in place — the quantiser asks after every step it pushes, and redoing the whole
 * model each time is quadratic in a transformer's steps.
 */
export function analyzeBounds(
  model: IrModel,
  known: Map<TensorId, TensorBounds> = new Map(),
): Map<TensorId, TensorBounds> {
  const bounds = known
  for (const i of model.inputs) {
    if (bounds.has(i.id)) continue
    const n = sizeOf(i.shape)
    bounds.set(i.id, { lo: new Array(n).fill(i.lo), hi: new Array(n).fill(i.hi) })
  }
  const maxes = new Map<TensorId, MaxOp>()
  for (const step of model.steps) {
    if (step.op.op === 'max') maxes.set(step.output.id, step.op)
    if (bounds.has(step.output.id)) continue
    const rule = RULES[step.op.op] as (op: PrimitiveOp, x: TensorBounds) => TensorBounds
    const x = concatBounds(bounds, step.op.inputs)
    if (step.op.op === 'requant') {
      // The circuit sees x·mul + 2^(shift-1) before the shift: bound that too.
      const extra = BigInt(step.op.mul) << 1n
      for (const v of [...x.lo, ...x.hi]) checkBits(step.output.name, v * extra + (1n << BigInt(step.op.shift)))
    }
    let b: TensorBounds
    try {
      b = rule(step.op, x)
    } catch (e) {
      if (e instanceof LookupDomainError) throw new LookupDomainError({ ...e.params, step: step.origin })
      if (e instanceof OperandRangeError) throw new OperandRangeError({ ...e.params, step: step.origin })
      throw e
    }
    if (step.op.op === 'linear') belowRowMax(step.op, maxes, (id) => bounds.get(id)!.lo.length, b)
    if (step.op.op === 'div') checkDivIdentity(step.output.name, step.op.num, step.op.den, step.op.shift, x)
    for (let i = 0; i < b.lo.length; i++) {
      checkBits(step.output.name, b.lo[i])
      checkBits(step.output.name, b.hi[i])
    }
    bounds.set(step.output.id, b)
  }
  return bounds
}

/** The element `col` of the concatenation of `ids` as [tensor, index], or null past the end. */
function locate(ids: readonly TensorId[], size: (id: TensorId) => number, col: number): [TensorId, number] | null {
  for (const id of ids) {
    const n = size(id)
    if (col < n) return [id, col]
    col -= n
  }
  return null
}

/**
 * Softmax's x − max: an output that is w·x[c] − w·m[r] + bias, where m is a max step whose row
 * r holds x[c] itself, is ≤ bias (w > 0; ≥ bias for w < 0). Interval arithmetic cannot see it
 * (it bounds x and m independently: [−255, 255] for int8 scores instead of [−255, 0]), and the
 * requant that clamps x − max at 0 then pays a zero test and a sign bit's range it never uses.
 * Sound wherever the bounds are trusted: every backend proves m equal to the row's maximum
 * (each pairwise Max2 selects an operand by the sign bit of their difference; the executor and
 * the one-step compute the max), so m[r] ≥ x[c] in every accepted witness. A masked position
 * is left out of its max row, so it is never tightened.
 */
function belowRowMax(
  op: LinearOp,
  maxes: ReadonlyMap<TensorId, MaxOp>,
  size: (id: TensorId) => number,
  b: TensorBounds,
): void {
  for (let j = 0; j < op.bias.length; j++) {
    const k = op.rowPtr[j]
    if (op.rowPtr[j + 1] - k !== 2 || op.vals[k] + op.vals[k + 1] !== 0n) continue
    for (const [xk, mk] of [
      [k, k + 1],
      [k + 1, k],
    ]) {
      const x = locate(op.inputs, size, op.cols[xk])
      const m = locate(op.inputs, size, op.cols[mk])
      const max = m && maxes.get(m[0])
      if (!x || !m || !max) continue
      let inRow = false
      for (let q = max.rowPtr[m[1]]; q < max.rowPtr[m[1] + 1] && !inRow; q++) {
        const e = locate(max.inputs, size, max.cols[q])
        inRow = e !== null && e[0] === x[0] && e[1] === x[1]
      }
      if (!inRow) continue
      const w = op.vals[xk]
      if (w > 0n && b.hi[j] > op.bias[j]) b.hi[j] = op.bias[j]
      if (w < 0n && b.lo[j] < op.bias[j]) b.lo[j] = op.bias[j]
      break
    }
  }
}

/**
 * The circuit's Div gadget checks y·2d = 2^(shift+1)·a + d − r: bound the right-hand side
 * too. It is linear in a and d, so its extremes are at the corners (a = 1 where num is -1).
 */
function checkDivIdentity(step: string, num: Int32Array, den: Int32Array, shift: number, x: TensorBounds): void {
  const s = BigInt(shift + 1)
  for (let i = 0; i < num.length; i++) {
    const n = num[i],
      d = den[i]
    for (const a of n < 0 ? [1n] : [x.lo[n], x.hi[n]])
      for (const dv of [x.lo[d], x.hi[d]]) checkBits(step, (a << s) + dv)
  }
}

function checkBits(step: string, v: bigint): void {
  const bits = bitLength(v)
  if (bits > SAFE_BITS) throw new FieldOverflowError({ step, bits, limitBits: SAFE_BITS })
}
