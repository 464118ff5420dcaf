/**
 * The div op in the circuit: y = round(a·2^S / d), half up (src/ir/ops.ts divValue), one
 * `Div` gadget of circuits/veriml.circom per element, sized from the proven bounds of a and d.
 *
 * Why it is sound (the template checks, with r and y hints):
 *   y·(2d) = 2^(S+1)·a + d − r                       (one quadratic constraint)
 *   r ∈ [0, 2^RB) and 2d − 1 − r ∈ [0, 2^RB)        (bits of each: 0 ≤ r ≤ 2d − 1)
 *   y − YLO ∈ [0, 2^YB)                              (bits of y: y in a small proven range)
 * a and d are wires the earlier gadgets pin to their exact values, so they lie in their proven
 * bounds, d ≥ 1. Every term is then an integer far below the field size: |2^(S+1)·a + d| <
 * 2^SAFE_BITS (analyzeBounds checks it), r < 2d, and |y|·2d_hi < 2^SAFE_BITS (planDiv checks
 * it over the whole range the bits of y allow, not only the honest one). Both sides differ by
 * less than p, so the identity holds over the integers, and with 0 ≤ r < 2d it says
 * y = floor((2^(S+1)·a + d) / (2d)): the one value the executor defines, and r is unique too.
 * Without the bits of y, each r ∈ [0, 2d) would have a field solution y; without the upper
 * check on r, y − 1 with r + 2d would pass.
 */
import { FieldOverflowError } from '../ir/errors.js'
import { SAFE_BITS } from '../ir/bounds.js'
import { divValue } from '../ir/ops.js'
import type { DivOp, TensorBounds, TensorId } from '../ir/types.js'
import { type Cost, constRef, type Ref } from './lc.js'

const abs = (v: bigint): bigint => (v < 0n ? -v : v)
const bitLength = (v: bigint): number => (v === 0n ? 0 : abs(v).toString(2).length)

export type DivPlan =
  /** The bounds leave one quotient: no constraint. */
  | { kind: 'constant'; value: bigint }
  /** Div(S, RB, YB, YLO, …): RB bits for r and for 2d − 1 − r, YB bits for y − YLO. */
  | { kind: 'gadget'; S: number; RB: number; YB: number; YLO: bigint; constraints: number }

/**
 * Sizes one element's Div from the proven bounds of its numerator [alo, ahi] and divisor
 * [dlo, dhi] (dlo ≥ 1, which analyzeBounds guarantees). The quotient's range is the extremes
 * over the four corners, the rule analyzeBounds uses (round(a·2^S/d) is monotone in each).
 */
export function planDiv(shift: number, alo: bigint, ahi: bigint, dlo: bigint, dhi: bigint, element = 0): DivPlan {
  const corners = [alo, ahi].flatMap((a) => [dlo, dhi].map((d) => divValue(a, d, shift)))
  const ylo = corners.reduce((m, v) => (v < m ? v : m))
  const yhi = corners.reduce((m, v) => (v > m ? v : m))
  if (ylo === yhi) return { kind: 'constant', value: ylo }
  const YB = bitLength(yhi - ylo)
  // r ≤ 2d − 1 ≤ 2·dhi − 1 and 2d − 1 − r ≤ 2·dhi − 1: both fit RB bits.
  const RB = bitLength(2n * dhi - 1n)
  // INVARIANT: every y the bits allow, times 2d, stays below 2^SAFE_BITS, so the quotient
  // identity cannot wrap the field (see the header).
  const ytop = ylo + (1n << BigInt(YB)) - 1n
  const ymax = abs(ylo) > abs(ytop) ? abs(ylo) : abs(ytop)
  const bits = bitLength(ymax * 2n * dhi)
  if (bits > SAFE_BITS)
    throw new FieldOverflowError({
      step: `div element ${element}`,
      bits,
      limitBits: SAFE_BITS,
      details: [`The quotient range [${ylo}, ${yhi}] times the divisor bound ${dhi} is too wide for one Div gadget.`],
    })
  // Booleans of y, r and 2d − 1 − r; y's recomposition (a copy, removed by O1, when y is one
  // bit from 0); the recomposition of 2d − 1 − r; the quotient identity.
  const constraints = YB + 2 * RB + (YB === 1 && ylo === 0n ? 0 : 1) + 2
  return { kind: 'gadget', S: shift, RB, YB, YLO: ylo, constraints }
}

/** A ref as a template input: its signal (a constant: the constant signal 0) and affine coefficients. */
export function affineInput(r: Ref): { sig: string; mul: bigint; add: bigint } {
  return r.sig === null || r.mul === 0n ? { sig: '0', mul: 0n, add: r.add } : { sig: r.sig, mul: r.mul, add: r.add }
}

/**
 * One Div component dv<id>_<i> per element whose bounds leave more than one quotient; its
 * inputs are the operands' raw signals (their affine coefficients are template parameters, so
 * connecting them costs no constraint). Two constant operands fold at build time.
 */
export function emitDiv(op: DivOp, x: Ref[], xb: TensorBounds, id: TensorId, body: string[], cost: Cost): Ref[] {
  return Array.from(op.num, (n, i): Ref => {
    const a = n < 0 ? constRef(1n) : x[n]
    const d = x[op.den[i]]
    const [alo, ahi] = n < 0 ? [1n, 1n] : [xb.lo[n], xb.hi[n]]
    const isConstant = (r: Ref) => r.sig === null || r.mul === 0n
    if (isConstant(a) && isConstant(d)) return constRef(divValue(a.add, d.add, op.shift))
    const plan = planDiv(op.shift, alo, ahi, xb.lo[op.den[i]], xb.hi[op.den[i]], i)
    if (plan.kind === 'constant') return constRef(plan.value)
    const name = `dv${id}_${i}`
    const wa = affineInput(a),
      wd = affineInput(d)
    body.push(
      `    component ${name} = Div(${plan.S}, ${plan.RB}, ${plan.YB}, ${plan.YLO}, ${wa.mul}, ${wa.add}, ${wd.mul}, ${wd.add});`,
      `    ${name}.a <== ${wa.sig};`,
      `    ${name}.d <== ${wd.sig};`,
    )
    cost.div += plan.constraints
    return { sig: `${name}.y`, mul: 1n, add: 0n }
  })
}
