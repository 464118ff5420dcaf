/**
 * The max, lookup and mul ops of a step built directly: the gadgets/ transcriptions of
 * src/circuit/max.ts, lookup.ts and gadgets.ts (mul), wired into the pre-O1 circuit the way the
 * emitter wires them into a step template (`comp`: s<id> or a chunk s<id>.c<c>).
 *
 * Each Max2 or Lookup instance is a component of its own (`mx<id>_<i>_<g>`, `lk<id>_<j>`),
 * written through `PreCircuit.sink`: the gadget declares only what circom keeps after O1, its
 * operands are the caller's signals. The one copy a gadget cannot resolve alone is a link
 * inside a max tree (`mx5_0_10.a <== mx5_0_4.y`): which of the two names survives depends on
 * the components' string order (mx5_0_10 sorts first), so the consuming input is declared
 * here as a signal with the copy constraint and o1.ts keeps the lowest label, as circom does.
 * The mul's products are signals `m<id>[i]` of the step itself.
 */
import { lookupValue } from '../../ir/ops.js'
import type { LookupOp, MaxOp, MulOp, TensorBounds, TensorId } from '../../ir/types.js'
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
    const lk = pc.component(comp, `lk${id}_${j}`)
    const { y, gadget } = lookupElement(pc.sink(lk), lk.path, op, affine(r), xb.lo[j]!, xb.hi[j]!, j)
    if (gadget) pc.runWitness(gadget.witness)
    return direct(y)
  })
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
    /** The y wires of this row's gadgets: an operand that is one is a link inside the tree. */
    const made = new Set<number>()
    let g = 0
    while (level.length > 1) {
      const next: MaxOperand[] = []
      for (let k = 0; k < level.length; k += 2)
        next.push(
          k + 1 < level.length ? pair(pc, comp, `mx${id}_${i}_${g++}`, level[k]!, level[k + 1]!, made) : level[k]!,
        )
      level = next
    }
    out.push(direct(level[0]!.ref))
  }
  return out
}

/** One pairwise max (max.ts `pairMax`): a component only when the bounds leave the pair open. */
function pair(
  pc: PreCircuit,
  comp: Component,
  name: string,
  a: MaxOperand,
  b: MaxOperand,
  made: Set<number>,
): MaxOperand {
  if (!needsGadget(a, b)) return pairMax(pc.sink(comp), '', a, b)
  const mx = pc.component(comp, name)
  const input = (o: MaxOperand, port: 'a' | 'b'): MaxOperand => {
    const from = o.ref.wire
    if (from === null || !made.has(from)) return o
    // A tree link `mx.a <== prev.y`: a copy whose surviving name o1.ts decides by label.
    const sig = pc.signal(mx, INPUT, port, () => pc.value(from), 'internal', port === 'a' ? 0 : 1)
    pc.linear([
      [sig, 1n],
      [from, -1n],
    ])
    return { ...o, ref: { wire: sig, mul: 1n, add: 0n } }
  }
  const r = pairMax(pc.sink(mx), mx.path, input(a, 'a'), input(b, 'b'))
  pc.runWitness(r.gadget!.witness)
  made.add(r.ref.wire!)
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
