import { requantValue } from '../ir/ops.js'
import type { RequantOp } from '../ir/types.js'

const bitsFor = (maxExclusive: bigint): number => {
  // Smallest k ≥ 0 with 2^k ≥ maxExclusive.
  let k = 0
  while (1n << BigInt(k) < maxExclusive) k++
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
      /** 1: half-even rounding (ties to even); 0: half up. */
      EVEN: 0 | 1
      /** Half-even only: (BASE + zeroPoint) mod 2, so parity(q - zp) = bit S of u' XOR PAR. */
      PAR: 0 | 1
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
  // Ties (x·mul ≡ 2^(S-1) mod 2^S) need 2^S ∤ x·mul: with mul divisible by 2^S there are none
  // and half-even is half up.
  const EVEN: 0 | 1 = op.rounding === 'half-even' && S > 0 && op.mul % (1n << BigInt(S)) !== 0n ? 1 : 0
  // Unclamped rounded values at the bounds; rounding is monotone, so they bound q.
  const unclamped = { ...op, lo: null, hi: null }
  const qlo = requantValue(xlo, unclamped)
  const qhi = requantValue(xhi, unclamped)
  const needLo = op.lo !== null && qlo < op.lo
  const needHi = op.hi !== null && qhi > op.hi
  if (op.lo !== null && qhi <= op.lo) return { kind: 'constant', value: op.lo }
  if (op.hi !== null && qlo >= op.hi) return { kind: 'constant', value: op.hi }
  if (S === 0 && !needLo && !needHi) return { kind: 'linear' }
  // Half-even reads the quotient's parity from bit S of u', so it needs KD ≥ 1; KD = 0 only
  // when the bounds leave one quotient and no clamp acts, i.e. a constant.
  if (EVEN && qlo === qhi && !needLo && !needHi) return { kind: 'constant', value: qlo }

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
    if (1n << BigInt(j) === W + 1n && j < KD) {
      HIMODE = 1
      J = j
    } else HIMODE = 2
  }
  const offset = pre - BASE * (1n << BigInt(S)) + (SIGNED ? 1n << BigInt(KD + S) : 0n)
  const PAR: 0 | 1 = EVEN && (((BASE + op.zeroPoint) % 2n) + 2n) % 2n === 1n ? 1 : 0
  // Num2Bits: one boolean constraint a bit plus the recomposition; clamp extras (HIMODE 1:
  // IsZero, its input link and the product; HIMODE 2: Num2Bits(KD + 1), its link and the
  // product); the output;
  // half-even: e boolean, the tie/parity check, the inverse and the linear u - e connection.
  const constraints = S + KD + SIGNED + 1 + (HIMODE === 1 ? 4 : HIMODE === 2 ? KD + 4 : 0) + 1 + 4 * EVEN
  return { kind: 'gadget', S, KD, SIGNED, HIMODE, J, W, EVEN, PAR, BASE, offset, constraints }
}
