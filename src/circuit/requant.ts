import type { RequantOp } from '../ir/types.js'

const bitsFor = (maxExclusive: bigint): number => {
  // Smallest k ≥ 0 with 2^k ≥ maxExclusive.
  let k = 0
  while ((1n << BigInt(k)) < maxExclusive) k++
  return k
}

export type RequantPlan =
  /** The bounds prove the result is this constant: no constraint needed. */
  | { kind: 'constant'; value: bigint }
  /** shift 0 and no active clamp: y = x·mul + zp, a linear expression. */
  | { kind: 'linear' }
  | {
      kind: 'gadget'
      S: number
      KD: number
      SIGNED: 0 | 1
      HIMODE: 0 | 1 | 2
      J: number
      W: bigint
      BASE: bigint
      /** Constant added to x·mul to form the gadget input u. */
      offset: bigint
      constraints: number
    }

/**
 * Sizes the requant gadget of one element from the proven bounds [xlo, xhi] of its input.
 * Every size comes from the bounds, so the decomposition never wraps the field and the
 * clamp is emitted only where the bounds say it can act.
 */
export function planRequant(op: Omit<RequantOp, 'op' | 'inputs'>, xlo: bigint, xhi: bigint): RequantPlan {
  if (op.mul <= 0n) throw new RangeError(`requant multiplier must be positive, got ${op.mul}`)
  const S = op.shift
  const half = S > 0 ? 1n << BigInt(S - 1) : 0n
  const pre = op.zeroPoint * (1n << BigInt(S)) + half
  const qlo = (xlo * op.mul + pre) >> BigInt(S)
  const qhi = (xhi * op.mul + pre) >> BigInt(S)
  const needLo = op.lo !== null && qlo < op.lo
  const needHi = op.hi !== null && qhi > op.hi
  if (op.lo !== null && qhi <= op.lo) return { kind: 'constant', value: op.lo }
  if (op.hi !== null && qlo >= op.hi) return { kind: 'constant', value: op.hi }
  if (S === 0 && !needLo && !needHi) return { kind: 'linear' }

  const BASE = needLo ? op.lo! : qlo
  const SIGNED: 0 | 1 = needLo ? 1 : 0
  // d = q - BASE must lie in [-2^KD, 2^KD) (signed) or [0, 2^KD) (unsigned).
  const dmax = qhi - BASE
  const KD = needLo ? Math.max(bitsFor(BASE - qlo), bitsFor(dmax + 1n)) : bitsFor(dmax + 1n)
  let HIMODE: 0 | 1 | 2 = 0
  let J = 0
  let W = 0n
  if (needHi) {
    W = op.hi! - BASE
    const j = bitsFor(W + 1n)
    if ((1n << BigInt(j)) === W + 1n && j < KD) { HIMODE = 1; J = j } else HIMODE = 2
  }
  const offset = pre - BASE * (1n << BigInt(S)) + (SIGNED ? 1n << BigInt(KD + S) : 0n)
  // Num2Bits: one boolean constraint a bit plus the recomposition; clamp extras; the output.
  const constraints = S + KD + SIGNED + 1 + (HIMODE === 1 ? 3 : HIMODE === 2 ? KD + 3 : 0) + 1
  return { kind: 'gadget', S, KD, SIGNED, HIMODE, J, W, BASE, offset, constraints }
}
