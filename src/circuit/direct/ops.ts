/**
 * The max, lookup and mul ops of a step built directly: the gadgets/ transcriptions of
 * src/circuit/max.ts, lookup.ts and gadgets.ts (mul), wired into the pre-O1 circuit the way the
 * emitter wires them into a step template (`comp`: s<id> or a chunk s<id>.c<c>).
 *
 * Each Max2 or Lookup instance is a component of its own (`mx<id>_<i>_<g>`, `lk<id>_<j>`),
 * written through `PreCircuit.sink`: the gadget declares only what circom keeps after O1. Its
 * input ports (Max2's a, b; Lookup's x) are copies of the caller's signals whose surviving
 * name depends on the components' string order (`mx5_0_10.a <== mx5_0_4.y` keeps mx5_0_10's;
 * in main, `lk4_0.x <== rq2_0.y` keeps lk4_0's), so they are declared here with the copy
 * constraint and o1.ts keeps the lowest label, as circom does.
 * The mul's products are signals `m<id>[i]` of the step itself.
 */
import { lookupValue } from '../../ir/ops.js'
import type { LookupOp, MaxOp, MulOp, TensorBounds, TensorId } from '../../ir/types.js'
import { planLookup } from '../lookup.js'
import { planPairMax } from '../max.js'
import { lookupElement } from './gadgets/lookup.js'
import { type MaxOperand, pairMax } from './gadgets/max2.js'
import { mul } from './gadgets/mul.js'
import type { AffineWire } from './gadgets/values.js'
import { type Component, INPUT, type PreCircuit } from './o1.js'
import { constRef, type DirectRef } from './refs.js'

const affine = (r: DirectRef): AffineWire => ({ wire: r.sig, mul: r.mul, add: r.add })
const direct = (a: AffineWire): DirectRef =>
  a.wire === null ? constRef(a.add) : { sig: a.wire, mul: a.mul, add: a.add }

/** Products left[i]·right[i]: the signal array m<id> of `comp` (a constant factor: no signal). */
export function mulOp(pc: PreCircuit, comp: Component, op: MulOp, x: DirectRef[], id: TensorId): DirectRef[] {
  const left = Array.from(op.left, (l) => affine(x[l]!))
  const right = Array.from(op.right, (r) => affine(x[r]!))
  const g = mul(pc.sink(comp), `${comp.path}.m${id}`, left, right)
  pc.runWitness(g.witness)
  return g.out.map(direct)
}

/** One Lookup component lk<id>_<j> per element whose bounds leave more than an affine piece of the table. */
export function lookupOp(
  pc: PreCircuit,
  comp: Component,
  op: LookupOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
): DirectRef[] {
  return x.map((r, j): DirectRef => {
    // As emitLookup: a constant element is looked up at build time, before any planning.
    if (r.sig === null) return constRef(lookupValue(op, r.add))
    const [lo, hi] = [xb.lo[j]!, xb.hi[j]!]
    // A constant or affine slice of the table writes nothing (lookupElement returns it).
    if (planLookup(op, lo, hi, j).kind !== 'gadget' || r.mul === 0n)
      return direct(lookupElement(pc.sink(comp), '', op, affine(r), lo, hi, j).y)
    const lk = pc.component(comp, `lk${id}_${j}`)
    const x = copyInput(pc, lk, 'x', 0, r.sig)
    const { y, gadget } = lookupElement(pc.sink(lk), lk.path, op, { ...affine(r), wire: x }, lo, hi, j)
    pc.runWitness(gadget!.witness)
    return direct(y)
  })
}

/**
 * A gadget's input port as circom wires it (`c.x <== sig`): a copy of the caller's signal,
 * declared so that O1 keeps the class's lowest label. Usually the caller's, but a step's
 * gadgets sit in main when weights are hashed, and there lk4_0.x sorts before rq2_0.y.
 */
function copyInput(pc: PreCircuit, comp: Component, port: string, index: number, from: number): number {
  const sig = pc.signal(comp, INPUT, port, () => pc.value(from), 'internal', index)
  pc.linear([
    [sig, 1n],
    [from, -1n],
  ])
  return sig
}

/**
 * Each output row as emitMax builds it: dominated operands dropped, then a balanced tree of
 * pairwise maxes mx<id>_<i>_<g> (g counts every pair, decided or not, as the emitter names them).
 */
export function maxOp(
  pc: PreCircuit,
  comp: Component,
  op: MaxOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
): DirectRef[] {
  const out: DirectRef[] = []
  for (let i = 0; i + 1 < op.rowPtr.length; i++) {
    const row: MaxOperand[] = []
    for (let k = op.rowPtr[i]!; k < op.rowPtr[i + 1]!; k++)
      row.push({ ref: affine(x[op.cols[k]!]!), lo: xb.lo[op.cols[k]!]!, hi: xb.hi[op.cols[k]!]! })
    const top = row.reduce((m, o) => (o.lo > m.lo ? o : m), row[0]!)
    let level = row.filter((o) => o === top || o.hi > top.lo)
    let g = 0
    while (level.length > 1) {
      const next: MaxOperand[] = []
      for (let k = 0; k < level.length; k += 2)
        next.push(k + 1 < level.length ? pair(pc, comp, `mx${id}_${i}_${g++}`, level[k]!, level[k + 1]!) : level[k]!)
      level = next
    }
    out.push(direct(level[0]!.ref))
  }
  return out
}

/** One pairwise max (max.ts `pairMax`): a component only when the bounds leave the pair open. */
function pair(pc: PreCircuit, comp: Component, name: string, a: MaxOperand, b: MaxOperand): MaxOperand {
  if (!needsGadget(a, b)) return pairMax(pc.sink(comp), '', a, b)
  const mx = pc.component(comp, name)
  // `mx.a <== sig` (a constant operand is `mx.a <== 0`, no signal): the ref's mul and add are Max2's MA, CA.
  const input = (o: MaxOperand, port: 'a' | 'b'): MaxOperand =>
    o.ref.wire === null
      ? o
      : { ...o, ref: { ...o.ref, wire: copyInput(pc, mx, port, port === 'a' ? 0 : 1, o.ref.wire) } }
  const r = pairMax(pc.sink(mx), mx.path, input(a, 'a'), input(b, 'b'))
  pc.runWitness(r.gadget!.witness)
  return r
}

/** pairMax's plan, decided before a component is made (a decided pair has none). */
function needsGadget(a: MaxOperand, b: MaxOperand): boolean {
  const sameWire = a.ref.wire !== null && a.ref.wire === b.ref.wire && a.ref.mul === b.ref.mul
  const plan = sameWire
    ? planPairMax(a.ref.add - b.ref.add, a.ref.add - b.ref.add)
    : planPairMax(a.lo - b.hi, a.hi - b.lo)
  return plan.kind === 'gadget'
}
