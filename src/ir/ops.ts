import type { DivOp, GatherOp, LinearOp, LookupOp, MaxOp, MulOp, OpKind, PrimitiveOp, RequantOp } from './types.js'

/**
 * Reference semantics of each primitive op, one element at a time. These functions are
 * the definition the circuit, the fraud-proof trace and the Solidity one-step executor
 * must equal bit for bit.
 */

/** floor(a / 2^s) for any sign of a (bigint `>>` is an arithmetic shift, i.e. floor). */
export function floorShift(a: bigint, shift: number): bigint {
  return a >> BigInt(shift)
}

export function requantValue(x: bigint, op: Omit<RequantOp, 'op' | 'inputs'>): bigint {
  const half = op.shift > 0 ? 1n << BigInt(op.shift - 1) : 0n
  const t = x * op.mul + half
  let q = floorShift(t, op.shift)
  // Half-even: a tie is exactly when t is a multiple of 2^shift; an odd result then goes down.
  if (op.rounding === 'half-even' && op.shift > 0 && (t & ((1n << BigInt(op.shift)) - 1n)) === 0n && (q & 1n) === 1n)
    q -= 1n
  q += op.zeroPoint
  if (op.lo !== null && q < op.lo) q = op.lo
  if (op.hi !== null && q > op.hi) q = op.hi
  return q
}

export function linearElement(op: LinearOp, x: readonly bigint[], j: number): bigint {
  let acc = op.bias[j]
  for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++) acc += op.vals[k] * x[op.cols[k]]
  return acc
}

export function gatherElement(op: GatherOp, x: readonly bigint[], i: number): bigint {
  const src = op.index[i]
  return src < 0 ? op.fill : x[src]
}

export function maxElement(op: MaxOp, x: readonly bigint[], i: number): bigint {
  let m = x[op.cols[op.rowPtr[i]]]
  for (let k = op.rowPtr[i] + 1; k < op.rowPtr[i + 1]; k++) if (x[op.cols[k]] > m) m = x[op.cols[k]]
  return m
}

export function lookupValue(op: Omit<LookupOp, 'op' | 'inputs'>, v: bigint): bigint {
  const at = v - op.offset
  if (at < 0n || at >= BigInt(op.table.length))
    throw new RangeError(
      `lookup of ${v} outside the table domain [${op.offset}, ${op.offset + BigInt(op.table.length) - 1n}]`,
    )
  return op.table[Number(at)]
}

export function mulElement(op: MulOp, x: readonly bigint[], i: number): bigint {
  return x[op.left[i]] * x[op.right[i]]
}

/** floor(a / b) for b > 0 and any sign of a (bigint `/` truncates toward zero). */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b < 0n ? q - 1n : q
}

/** round(a · 2^shift / d), half up: floor((2^(shift+1)·a + d) / (2d)). d must be ≥ 1. */
export function divValue(a: bigint, d: bigint, shift: number): bigint {
  if (d < 1n) throw new RangeError(`division by ${d}: divisors must be at least 1`)
  return floorDiv((a << BigInt(shift + 1)) + d, 2n * d)
}

export function divElement(op: DivOp, x: readonly bigint[], i: number): bigint {
  return divValue(op.num[i] < 0 ? 1n : x[op.num[i]], x[op.den[i]], op.shift)
}

/** floor(√x) for x ≥ 0, exact for any size (Newton's iteration from above). */
export function isqrtValue(x: bigint): bigint {
  if (x < 0n) throw new RangeError(`square root of ${x}: the operand must be at least 0`)
  if (x < 2n) return x
  let y = 1n << BigInt((x.toString(2).length + 1) >> 1)
  for (;;) {
    const next = (y + x / y) >> 1n
    if (next >= y) return y
    y = next
  }
}

/** Applies one op to the concatenation of its inputs. Total over the primitive set. */
export const evaluate: { [K in OpKind]: (op: Extract<PrimitiveOp, { op: K }>, x: readonly bigint[]) => bigint[] } = {
  linear: (op, x) => Array.from(op.bias, (_, j) => linearElement(op, x, j)),
  requant: (op, x) => x.map((v) => requantValue(v, op)),
  gather: (op, x) => Array.from(op.index, (_, i) => gatherElement(op, x, i)),
  max: (op, x) => Array.from({ length: op.rowPtr.length - 1 }, (_, i) => maxElement(op, x, i)),
  lookup: (op, x) => x.map((v) => lookupValue(op, v)),
  mul: (op, x) => Array.from(op.left, (_, i) => mulElement(op, x, i)),
  div: (op, x) => Array.from(op.num, (_, i) => divElement(op, x, i)),
  isqrt: (_op, x) => x.map(isqrtValue),
}

export function applyOp(op: PrimitiveOp, x: readonly bigint[]): bigint[] {
  return (evaluate[op.op] as (o: PrimitiveOp, v: readonly bigint[]) => bigint[])(op, x)
}
