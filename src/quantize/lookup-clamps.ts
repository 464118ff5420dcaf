import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel, LookupOp, RequantOp, Step } from '../ir/types.js'

/**
 * Narrows the clamp of a requant that feeds only a lookup to the part of the table that varies.
 *
 * A table over a requantised activation is often constant at its ends: GELU is 0 below −3 and
 * saturates at the int8 maximum above some point, exp(x − max) rounds to 0 for most of its
 * negative domain, sigmoid and tanh saturate on both sides. If table[q] = table[L] for every
 * reachable q ≤ L, clamping the requant at L instead changes no lookup result (a q below L
 * becomes L, whose entry is the same), and likewise at the top. The IR stays exact, every
 * backend sees the same semantics, and the circuit's lookup gadget holds only the entries that
 * vary (its size comes from the requant's proven output bounds): the bundled ViT's exp table
 * varies on 35 of its 128 entries and keeps 64, its GELU table on 116 of 256 and keeps 128.
 *
 * Only a requant whose sole reader is the lookup, and which is not a model output, is changed:
 * anyone else reading it would see the new clamp. `bounds`: the model's proven bounds, when the
 * caller has them (the quantiser proves them step by step as it goes).
 */
export function narrowLookupClamps(model: IrModel, bounds = analyzeBounds(model)): IrModel {
  const readers = new Map<number, number>()
  for (const s of model.steps) for (const i of new Set(s.op.inputs)) readers.set(i, (readers.get(i) ?? 0) + 1)
  const outputs = new Set(model.outputs.map((o) => o.tensor))
  const producer = new Map(model.steps.map((s, k) => [s.output.id, k]))
  const narrowed = new Map<number, RequantOp>()
  for (const step of model.steps) {
    if (step.op.op !== 'lookup') continue
    const x = step.op.inputs[0]
    const k = producer.get(x)
    if (k === undefined || readers.get(x) !== 1 || outputs.has(x)) continue
    const req = model.steps[k].op
    if (req.op !== 'requant') continue
    const b = bounds.get(x)!
    const lo = b.lo.reduce((a, v) => (v < a ? v : a))
    const hi = b.hi.reduce((a, v) => (v > a ? v : a))
    const [L, H] = variablePart(step.op, lo, hi)
    if (L >= H) continue
    // Only a lower clamp (the table varies up to the proven top: exp of x − max ≤ 0): the clamp
    // is the requant's signed decomposition whatever its value, so the table keeps exactly the
    // entries that vary (the ViT's exp: 36 instead of 64).
    if (H === hi) {
      if (L > lo) narrowed.set(k, { ...req, lo: L })
      continue
    }
    // The clamp's span is widened to a power of two (inside the constant runs, so still exact):
    // such an upper clamp is one zero test in the requant gadget, any other a second range check
    // as wide as the value (src/circuit/requant.ts), which would cost more than the table saves.
    let span = 1n
    while (span < H - L + 1n) span <<= 1n
    if (span >= hi - lo + 1n) continue
    const from = L + span - 1n <= hi ? L : hi - span + 1n
    narrowed.set(k, { ...req, lo: from > lo ? from : req.lo, hi: from + span - 1n < hi ? from + span - 1n : req.hi })
  }
  if (narrowed.size === 0) return model
  const steps: Step[] = model.steps.map((s, k) => (narrowed.has(k) ? { ...s, op: narrowed.get(k)! } : s))
  return { ...model, steps }
}

/** [L, H] ⊆ [lo, hi]: the table is constant on [lo, L] and on [H, hi]. */
function variablePart(op: LookupOp, lo: bigint, hi: bigint): [bigint, bigint] {
  const at = (q: bigint) => op.table[Number(q - op.offset)]
  let L = lo
  while (L < hi && at(L + 1n) === at(lo)) L++
  let H = hi
  while (H > L && at(H - 1n) === at(hi)) H--
  return [L, H]
}
