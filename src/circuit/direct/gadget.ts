/**
 * One IR op's gadget over a chunk's operands in the direct backend: the dispatch by op, and the
 * linear and requant gadgets (the other ops' gadgets are in ops.ts and div.ts). Split from
 * build.ts, which lays out steps, chunks and the public part around these.
 */
import type { LinearOp, PrimitiveOp, RequantOp, TensorBounds, TensorId } from '../../ir/types.js'
import { requantValue } from '../../ir/ops.js'
import { planRequant } from '../requant.js'
import { divOp, isqrtOp } from './div.js'
import { type Component, INTERMEDIATE, type PreCircuit, type Term } from './o1.js'
import { lookupOp, maxOp, mulOp } from './ops.js'
import { constRef, type DirectRef, type Terms } from './refs.js'
import { lcValue, requantGadget } from './requant.js'

/** One gadget over a chunk's operands, its signals in component `comp`. */
export function gadget(
  pc: PreCircuit,
  comp: Component,
  op: PrimitiveOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
  terms: Terms,
): DirectRef[] {
  if (op.op === 'linear') return linear(pc, comp, op, x, id, terms)
  if (op.op === 'requant') return requant(pc, comp, op, x, xb, id, terms)
  if (op.op === 'gather') return Array.from(op.index, (i) => (i < 0 ? constRef(op.fill) : x[i]!))
  if (op.op === 'max') return maxOp(pc, comp, op, x, xb, id)
  if (op.op === 'lookup') return lookupOp(pc, comp, op, x, xb, id)
  if (op.op === 'mul') return mulOp(pc, comp, op, x, id)
  if (op.op === 'div') return divOp(pc, comp, op, x, xb, id)
  return isqrtOp(pc, comp, op, x, xb, id)
}

/**
 * Weights as constants: l<id>[j] <== Σ w·x + b per output with a signal term (emitter's linear).
 * The sum goes to the circuit as two parallel arrays (no tuple per weight term); a values-only
 * pass stores nothing and sums each row over the operands' values, computed once per op.
 */
function linear(pc: PreCircuit, comp: Component, op: LinearOp, x: DirectRef[], id: TensorId, _terms: Terms) {
  const sigs: number[] = []
  const coefs: bigint[] = []
  const store = pc.constraints !== null
  let xv: bigint[] | undefined
  const rowValue = (j: number): bigint => {
    xv ??= x.map((r) => (r.sig === null ? r.add : r.mul * pc.value(r.sig) + r.add))
    let v = op.bias[j]!
    for (let k = op.rowPtr[j]!; k < op.rowPtr[j + 1]!; k++) v += op.vals[k]! * xv[op.cols[k]!]!
    return v
  }
  return Array.from(op.bias, (bias, j): DirectRef => {
    let n = 0
    let signals = 0
    if (store) {
      sigs[n] = 0
      coefs[n++] = bias
    }
    for (let k = op.rowPtr[j]!; k < op.rowPtr[j + 1]!; k++) {
      const r = x[op.cols[k]!]!
      const w = op.vals[k]!
      if (r.sig !== null && w !== 0n && r.mul !== 0n) signals++
      if (!store) continue
      // termsOf(r, w), in place, its constant part summed into the row's one constant term
      // (O1 sums them anyway): half the stored terms, and no repeated wire to merge.
      if (r.sig !== null) {
        sigs[n] = r.sig
        coefs[n++] = w * r.mul
      }
      if (r.add !== 0n) coefs[0] = coefs[0]! + w * r.add
    }
    if (signals === 0) {
      let constant = bias
      for (let k = op.rowPtr[j]!; k < op.rowPtr[j + 1]!; k++) constant += op.vals[k]! * x[op.cols[k]!]!.add
      return constRef(constant)
    }
    const l = pc.signal(comp, INTERMEDIATE, `l${id}[${j}]`, () => rowValue(j), 'internal', j)
    if (store) {
      sigs[n] = l
      coefs[n++] = -1n
      pc.linearArrays(sigs, coefs, n)
    }
    return { sig: l, mul: 1n, add: 0n }
  })
}

/** One Requant per element whose plan needs one (emitter's requant). */
function requant(
  pc: PreCircuit,
  comp: Component,
  op: RequantOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
  terms: Terms,
): DirectRef[] {
  return x.map((r, j): DirectRef => {
    if (r.sig === null) return constRef(requantValue(r.add, op))
    const plan = planRequant(op, xb.lo[j]!, xb.hi[j]!)
    if (plan.kind === 'constant') return constRef(plan.value)
    if (plan.kind === 'linear') return { sig: r.sig, mul: r.mul * op.mul, add: r.add * op.mul + op.zeroPoint }
    const u: Term[] = [...terms(r, op.mul), [0, plan.offset]]
    const y = requantGadget(pc, comp, `rq${id}_${j}`, plan, { terms: u, value: () => lcValue(pc, u) })
    return { sig: y, mul: 1n, add: plan.BASE }
  })
}
