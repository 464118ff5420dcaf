import type { MaxOp, TensorBounds, TensorId } from '../ir/types.js'
import type { Cost, Ref } from './lc.js'

/** One operand of a max: its affine ref and its proven bounds. */
interface Operand {
  ref: Ref
  lo: bigint
  hi: bigint
}

export type PairMaxPlan =
  /** The bounds prove a ≥ b (or b ≥ a): the max is that operand, no constraint. */
  | { kind: 'first' }
  | { kind: 'second' }
  /** Max2(K): d = a - b ∈ (-2^K, 2^K) is decomposed into K + 1 bits. */
  | { kind: 'gadget'; K: number; constraints: number }

/**
 * Plans max(a, b) from the proven bounds [dlo, dhi] of d = a - b. K is the smallest width
 * with 2^K > max(-dlo, dhi), so d + 2^K ∈ (0, 2^(K+1)) and bit K is the comparison.
 */
export function planPairMax(dlo: bigint, dhi: bigint): PairMaxPlan {
  if (dlo >= 0n) return { kind: 'first' }
  if (dhi <= 0n) return { kind: 'second' }
  const m = -dlo > dhi ? -dlo : dhi
  const K = m.toString(2).length
  // K + 1 boolean bits, their recomposition, and y = b + s·d.
  return { kind: 'gadget', K, constraints: K + 3 }
}

function pairMax(a: Operand, b: Operand, name: string, body: string[], cost: Cost): Operand {
  const lo = a.lo > b.lo ? a.lo : b.lo
  const hi = a.hi > b.hi ? a.hi : b.hi
  // The same signal with the same multiplier: d is the constant difference of the offsets.
  const sameSignal = a.ref.sig !== null && a.ref.sig === b.ref.sig && a.ref.mul === b.ref.mul
  const plan = sameSignal
    ? planPairMax(a.ref.add - b.ref.add, a.ref.add - b.ref.add)
    : planPairMax(a.lo - b.hi, a.hi - b.lo)
  if (plan.kind === 'first') return { ...a, lo, hi }
  if (plan.kind === 'second') return { ...b, lo, hi }
  // Constant operands enter as the constant signal 0 with multiplier 0 and the value as offset.
  const wire = (r: Ref) => ({ sig: r.sig ?? '0', mul: r.sig === null ? 0n : r.mul, add: r.add })
  const wa = wire(a.ref),
    wb = wire(b.ref)
  body.push(
    `    component ${name} = Max2(${plan.K}, ${wa.mul}, ${wa.add}, ${wb.mul}, ${wb.add});`,
    `    ${name}.a <== ${wa.sig};`,
    `    ${name}.b <== ${wb.sig};`,
  )
  cost.max += plan.constraints
  cost.activations++
  return { ref: { sig: `${name}.y`, mul: 1n, add: 0n }, lo, hi }
}

/**
 * Each output row of a max op as a balanced tree of pairwise maxes (depth ⌈log2 n⌉). Operands
 * the bounds prove can never exceed another are dropped first, and a pair the bounds decide
 * costs nothing; the bounds of an inner max are the max of its operands' bounds.
 */
export function emitMax(op: MaxOp, x: Ref[], xb: TensorBounds, id: TensorId, body: string[], cost: Cost): Ref[] {
  const out: Ref[] = []
  for (let i = 0; i + 1 < op.rowPtr.length; i++) {
    const row: Operand[] = []
    for (let k = op.rowPtr[i]; k < op.rowPtr[i + 1]; k++)
      row.push({ ref: x[op.cols[k]], lo: xb.lo[op.cols[k]], hi: xb.hi[op.cols[k]] })
    // The operand with the largest lower bound is ≥ every other whose upper bound is below it.
    const top = row.reduce((m, o) => (o.lo > m.lo ? o : m), row[0])
    let level = row.filter((o) => o === top || o.hi > top.lo)
    let g = 0
    while (level.length > 1) {
      const next: Operand[] = []
      for (let k = 0; k < level.length; k += 2)
        next.push(k + 1 < level.length ? pairMax(level[k], level[k + 1], `mx${id}_${i}_${g++}`, body, cost) : level[k])
      level = next
    }
    out.push(level[0].ref)
  }
  return out
}
