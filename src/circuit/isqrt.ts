/**
 * The isqrt op in the circuit: y = floor(√x) (src/ir/ops.ts isqrtValue), one `Isqrt` gadget
 * of circuits/veriml.circom per element, sized from the proven bounds of x (x ≥ 0).
 *
 * Why it is sound (the template checks, with y and r = x − y² as hints):
 *   y·y = x − r                          (one quadratic constraint)
 *   r ∈ [0, 2^W) and 2y − r ∈ [0, 2^W)   (bits of each: 0 ≤ r ≤ 2y)
 *   y − YLO ∈ [0, 2^YB)                  (bits of y)
 * x is a wire pinned to its exact value, in [xlo, xhi] with 0 ≤ x < 2^SAFE_BITS, so y < 2^121
 * and every term is far below the field size: the identity holds over the integers, y² ≤ x
 * and x − y² ≤ 2y, i.e. x < (y + 1)², so y = floor(√x), unique. The bits of y are needed: a
 * field element y = −(floor(√x) + 1) has the same square as a small one and could pass the
 * other checks. The honest r is at most 2y ≤ 2·yhi, so W = bits(2·yhi) for both checks (not
 * bits(xhi): only non-negativity matters for soundness, and the honest values fit).
 */
import { isqrtValue } from '../ir/ops.js'
import type { IsqrtOp, TensorBounds, TensorId } from '../ir/types.js'
import { affineInput } from './div.js'
import { type Cost, constRef, type Ref } from './lc.js'

const bitLength = (v: bigint): number => (v === 0n ? 0 : v.toString(2).length)

export type IsqrtPlan =
  /** The bounds leave one root: no constraint. */
  | { kind: 'constant'; value: bigint }
  /** Isqrt(YB, W, YLO, …): YB bits for y − YLO, W bits for r and for 2y − r. */
  | { kind: 'gadget'; YB: number; W: number; YLO: bigint; constraints: number }

/** Sizes one element's Isqrt from the proven bounds [xlo, xhi] of its operand (xlo ≥ 0, analyzeBounds guarantees it). */
export function planIsqrt(xlo: bigint, xhi: bigint): IsqrtPlan {
  const ylo = isqrtValue(xlo)
  const yhi = isqrtValue(xhi)
  if (ylo === yhi) return { kind: 'constant', value: ylo }
  const YB = bitLength(yhi - ylo)
  const W = bitLength(2n * yhi)
  // Booleans of y, r and 2y − r; y's recomposition (a copy when y is one bit from 0); the
  // recomposition of 2y − r; y·y = x − r.
  const constraints = YB + 2 * W + (YB === 1 && ylo === 0n ? 0 : 1) + 2
  return { kind: 'gadget', YB, W, YLO: ylo, constraints }
}

/** One Isqrt component sq<id>_<j> per element whose bounds leave more than one root. */
export function emitIsqrt(_op: IsqrtOp, x: Ref[], xb: TensorBounds, id: TensorId, body: string[], cost: Cost): Ref[] {
  return x.map((r, j): Ref => {
    if (r.sig === null || r.mul === 0n) return constRef(isqrtValue(r.add))
    const plan = planIsqrt(xb.lo[j], xb.hi[j])
    if (plan.kind === 'constant') return constRef(plan.value)
    const name = `sq${id}_${j}`
    const w = affineInput(r)
    body.push(
      `    component ${name} = Isqrt(${plan.YB}, ${plan.W}, ${plan.YLO}, ${w.mul}, ${w.add});`,
      `    ${name}.x <== ${w.sig};`,
    )
    cost.isqrt += plan.constraints
    return { sig: `${name}.y`, mul: 1n, add: 0n }
  })
}
