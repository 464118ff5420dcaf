/**
 * circuits/veriml.circom's `Max2(K, MA, CA, MB, CB)` built directly, and the planned pairwise
 * max of src/circuit/max.ts (bounds that decide the pair cost nothing).
 *
 * O1: the template's inputs a, b are copies of the caller's signals (no wire; a constant
 * operand, `c.a <== 0` with MA = 0, is a constant); y and bit[0..K] stay. Constraints (K + 3):
 * bit[i]·(bit[i] − 1) = 0; Σ 2^i·bit[i] = a' − b' + 2^K; y = b' + bit[K]·(a' − b'), with
 * a' = MA·a + CA and b' = MB·b + CB over the caller's wires.
 */
import { planPairMax } from '../../max.js'
import type { Wire } from '../../r1cs/system.js'
import { GadgetParameterError, GadgetWitnessError } from './errors.js'
import { type AffineWire, type ConstraintSink, affineTerms, affineValue, sumLc, type WitnessStep } from './values.js'

export interface Max2Gadget {
  /** max(a', b'): `<path>.y`, or the caller's `out` wire. */
  y: Wire
  bits: Wire[]
  witness: WitnessStep
}

export interface GadgetOutputOptions {
  /** A wire the caller declared that the output is a copy of (O1 keeps the lower label; see poseidon.ts). */
  out?: Wire
}

/** `Max2(K, a.mul, a.add, b.mul, b.add)` at `path` over a' = a and b' = b (wire null: a constant, mul ignored). */
export function max2(
  cs: ConstraintSink,
  path: string,
  K: number,
  a: AffineWire,
  b: AffineWire,
  options: GadgetOutputOptions = {},
): Max2Gadget {
  const d = sumLc(affineTerms(a), affineTerms(b, -1n))
  if (!Number.isInteger(K) || K < 1 || d.every(([w]) => w === 0))
    throw new GadgetParameterError({
      gadget: `Max2 ${path}`,
      problem:
        K < 1 ? `needs K ≥ 1, not ${K}` : 'both operands are constant: the max is a constant, plan it (planPairMax)',
    })
  const y = options.out ?? cs.signal('internal', `${path}.y`)
  const bits = cs.signals('internal', `${path}.bit`, K + 1)
  for (const bit of bits)
    cs.constrain(
      [[bit, 1n]],
      [
        [bit, 1n],
        [0, -1n],
      ],
      [],
    )
  const twoK = 1n << BigInt(K)
  cs.linear(
    sumLc(
      bits.map((bit, i): [Wire, bigint] => [bit, 1n << BigInt(i)]),
      d.map(([w, c]): [Wire, bigint] => [w, -c]),
      [[0, -twoK]],
    ),
  )
  cs.constrain([[bits[K]!, 1n]], d, sumLc([[y, 1n]], affineTerms(b, -1n)))

  const witness: WitnessStep = (values) => {
    const av = affineValue(values, a, `Max2 ${path}`)
    const bv = affineValue(values, b, `Max2 ${path}`)
    const u = av - bv + twoK
    // INVARIANT: the caller's bounds put a' − b' in (−2^K, 2^K); outside, no bits satisfy the recomposition.
    if (u <= 0n || u >= 2n * twoK)
      throw new GadgetWitnessError({
        gadget: `Max2 ${path}`,
        problem: `a' − b' = ${av - bv} is outside (−2^${K}, 2^${K}): the bounds that sized K are wrong`,
      })
    bits.forEach((bit, i) => values.set(bit, (u >> BigInt(i)) & 1n))
    values.set(y, av >= bv ? av : bv)
  }
  return { y, bits, witness }
}

/** An operand of a planned max: its affine ref and proven bounds (max.ts `Operand`, over wires). */
export interface MaxOperand {
  ref: AffineWire
  lo: bigint
  hi: bigint
}

/**
 * max(a, b) as src/circuit/max.ts plans it: the operand the bounds prove larger (no
 * constraint, witness null), or Max2 with the smallest K covering the bounds of a − b.
 */
export function pairMax(
  cs: ConstraintSink,
  path: string,
  a: MaxOperand,
  b: MaxOperand,
  options: GadgetOutputOptions = {},
): MaxOperand & { gadget: Max2Gadget | null } {
  const lo = a.lo > b.lo ? a.lo : b.lo
  const hi = a.hi > b.hi ? a.hi : b.hi
  // The same wire with the same multiplier: a − b is the constant difference of the offsets.
  const sameWire = a.ref.wire !== null && a.ref.wire === b.ref.wire && a.ref.mul === b.ref.mul
  const plan = sameWire
    ? planPairMax(a.ref.add - b.ref.add, a.ref.add - b.ref.add)
    : planPairMax(a.lo - b.hi, a.hi - b.lo)
  if (plan.kind === 'first') return { ref: a.ref, lo, hi, gadget: null }
  if (plan.kind === 'second') return { ref: b.ref, lo, hi, gadget: null }
  // A constant operand enters as circom's constant signal 0 with multiplier 0 (max.ts `wire`).
  const norm = (r: AffineWire): AffineWire => (r.wire === null ? { wire: null, mul: 0n, add: r.add } : r)
  const gadget = max2(cs, path, plan.K, norm(a.ref), norm(b.ref), options)
  return { ref: { wire: gadget.y, mul: 1n, add: 0n }, lo, hi, gadget }
}
