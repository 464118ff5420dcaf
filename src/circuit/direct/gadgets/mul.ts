/**
 * The `mul` op of src/circuit/gadgets.ts built directly: element i is left[i]·right[i]; a
 * constant factor keeps it affine in the other operand (no wire, no constraint), otherwise it
 * is `m<id>[i] <== (a) * (b)`: one constraint (a)·(b) = m[i] over the operands' affine terms.
 *
 * The emitter declares `signal m<id>[n]` whole, but an element it never assigns (a constant
 * factor) is in no constraint and circom gives it no wire (measured: `m[1]` of a wrapper with
 * m[0] and m[2] assigned is −1 in the .sym). So only the products get wires: one array block
 * when every element is a product, else one scalar block `<name>[i]` per product.
 */
import type { Wire } from '../../r1cs/system.js'
import { type AffineWire, type ConstraintSink, affineTerms, affineValue, type WitnessStep } from './values.js'

export interface MulGadget {
  out: AffineWire[]
  /** The wire of each element that is a product (null: a constant factor, no wire). */
  wires: (Wire | null)[]
  witness: WitnessStep
}

const isConstant = (r: AffineWire) => r.wire === null || r.mul === 0n

/** c·r, still one wire's affine function (lc.ts `scaleRef`). */
function scale(r: AffineWire, c: bigint): AffineWire {
  return isConstant(r) || c === 0n
    ? { wire: null, mul: 0n, add: r.add * c }
    : { wire: r.wire, mul: r.mul * c, add: r.add * c }
}

/** The products left[i]·right[i] as the signal array `name` (e.g. `main.m7`). */
export function mul(
  cs: ConstraintSink,
  name: string,
  left: readonly AffineWire[],
  right: readonly AffineWire[],
): MulGadget {
  const products = left.map((a, i) => !isConstant(a) && !isConstant(right[i]!))
  const wires: (Wire | null)[] = products.every(Boolean)
    ? cs.signals('internal', name, left.length)
    : products.map((p, i) => (p ? cs.signal('internal', `${name}[${i}]`) : null))
  const out = left.map((a, i): AffineWire => {
    const b = right[i]!
    if (isConstant(a)) return scale(b, a.add)
    if (isConstant(b)) return scale(a, b.add)
    const m = wires[i]!
    cs.constrain(affineTerms(a), affineTerms(b), [[m, 1n]])
    return { wire: m, mul: 1n, add: 0n }
  })
  const witness: WitnessStep = (values) => {
    left.forEach((a, i) => {
      const m = wires[i]
      if (m !== null && m !== undefined)
        values.set(m, affineValue(values, a, `mul ${name}`) * affineValue(values, right[i]!, `mul ${name}`))
    })
  }
  return { out, wires, witness }
}
