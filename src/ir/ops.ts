import type { GatherOp, LinearOp, OpKind, PrimitiveOp, RequantOp } from './types.js'

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
  let q = floorShift(x * op.mul + half, op.shift) + op.zeroPoint
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

/** Applies one op to the concatenation of its inputs. Total over the primitive set. */
export const evaluate: { [K in OpKind]: (op: Extract<PrimitiveOp, { op: K }>, x: readonly bigint[]) => bigint[] } = {
  linear: (op, x) => Array.from(op.bias, (_, j) => linearElement(op, x, j)),
  requant: (op, x) => x.map((v) => requantValue(v, op)),
  gather: (op, x) => Array.from(op.index, (_, i) => gatherElement(op, x, i)),
}

export function applyOp(op: PrimitiveOp, x: readonly bigint[]): bigint[] {
  return (evaluate[op.op] as (o: PrimitiveOp, v: readonly bigint[]) => bigint[])(op, x)
}
