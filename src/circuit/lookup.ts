import { LookupDomainError } from '../ir/errors.js'
import { lookupValue } from '../ir/ops.js'
import type { LookupOp, TensorBounds, TensorId } from '../ir/types.js'
import { type Cost, constRef, type Ref } from './lc.js'

export type LookupPlan =
  /** The bounds leave one value, or the table is constant over them. */
  | { kind: 'constant'; value: bigint }
  /** The table is affine over the bounds: y = first + step·(x - lo), no constraint. */
  | { kind: 'linear'; first: bigint; step: bigint }
  /** Lookup(N, A, B): N entries T[0..N) = table[lo - offset ..], N ≤ A·B. */
  | { kind: 'gadget'; N: number; A: number; B: number; entries: bigint[]; constraints: number }

/**
 * Sizes the lookup of one element from the proven bounds [lo, hi] of its input: only the
 * N = hi - lo + 1 reachable entries are in the circuit, split as rows × columns A·B ≥ N with
 * A, B ≥ 2 minimising the 2A + B constraints of the gadget.
 */
export function planLookup(op: Omit<LookupOp, 'op' | 'inputs'>, lo: bigint, hi: bigint, element = 0): LookupPlan {
  const last = op.offset + BigInt(op.table.length) - 1n
  if (lo < op.offset || hi > last) throw new LookupDomainError({ element, lo, hi, domainLo: op.offset, domainHi: last })
  const entries = op.table.slice(Number(lo - op.offset), Number(hi - op.offset) + 1)
  const N = entries.length
  if (entries.every((t) => t === entries[0])) return { kind: 'constant', value: entries[0] }
  const step = entries[1] - entries[0]
  if (entries.every((t, i) => t === entries[0] + BigInt(i) * step)) return { kind: 'linear', first: entries[0], step }
  // N ≥ 3 here (two points are always affine). Past A = √N the cost only grows: 2A gains 2
  // a step while ⌈N/A⌉ loses at most 1 (N/A - N/(A+1) < 1), so the search stops there.
  let best = { A: 2, B: Math.ceil(N / 2), cost: 4 + Math.ceil(N / 2) }
  for (let A = 3; A <= Math.ceil(Math.sqrt(N)) + 1; A++) {
    const B = Math.max(2, Math.ceil(N / A))
    if (2 * A + B < best.cost) best = { A, B, cost: 2 * A + B }
  }
  return { kind: 'gadget', N, A: best.A, B: best.B, entries, constraints: best.cost }
}

/**
 * One Lookup gadget per element whose bounds leave more than an affine piece of the table.
 * The reachable slice of the table is declared once per distinct input range, as a circom
 * var array the template reads at compile time (constants: no constraint).
 */
export function emitLookup(op: LookupOp, x: Ref[], xb: TensorBounds, id: TensorId, body: string[], cost: Cost): Ref[] {
  const slices = new Map<string, string>()
  const plans = new Map<string, LookupPlan>()
  return x.map((r, j) => {
    if (r.sig === null) return constRef(lookupValue(op, r.add))
    const lo = xb.lo[j],
      hi = xb.hi[j]
    const key = `${lo},${hi}`
    let plan = plans.get(key)
    if (plan === undefined) plans.set(key, (plan = planLookup(op, lo, hi, j)))
    if (plan.kind === 'constant') return constRef(plan.value)
    // v = x - lo = mul·sig + add - lo.
    if (plan.kind === 'linear')
      return { sig: r.sig, mul: plan.step * r.mul, add: plan.first + plan.step * (r.add - lo) }
    let table = slices.get(key)
    if (table === undefined) {
      table = `lt${id}_${slices.size}`
      slices.set(key, table)
      body.push(`    var ${table}[${plan.N}] = [${plan.entries.join(', ')}];`)
    }
    const name = `lk${id}_${j}`
    body.push(
      `    component ${name} = Lookup(${plan.N}, ${plan.A}, ${plan.B}, ${r.mul}, ${r.add - lo}, ${table});`,
      `    ${name}.x <== ${r.sig};`,
    )
    cost.lookup += plan.constraints
    cost.activations++
    return { sig: `${name}.y`, mul: 1n, add: 0n }
  })
}
