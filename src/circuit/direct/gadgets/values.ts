/**
 * What every direct gadget shares: its operands as affine functions of one wire (the direct
 * twin of the emitter's `Ref`), and the wire values its witness step reads and fills.
 */
import { SCALAR_FIELD } from '../../../util/field.js'
import { reduce } from '../../r1cs/coefficients.js'
import type { ConstraintSystem, Lc, Wire } from '../../r1cs/system.js'
import { MissingWireValueError } from './errors.js'

const P = SCALAR_FIELD

/**
 * Where a gadget writes its signals and constraints: a ConstraintSystem (the gadget parity
 * tests) or a PreCircuit's sink (o1.ts `sink`, the model build). Gadgets declare only what
 * circom keeps after O1, so a sink never eliminates their constraints.
 */
export type ConstraintSink = Pick<ConstraintSystem, 'signal' | 'signals' | 'constrain' | 'linear'>

/** mul·wire + add; wire null is a constant (`add`), as circom's `c.a <== 0` (O1 removes c.a). */
export interface AffineWire {
  wire: Wire | null
  mul: bigint
  add: bigint
}

/** Wire values by wire, reduced into [0, p); a `Map<Wire, bigint>` is one (what fillWitness takes). */
export interface WireValues {
  get(wire: Wire): bigint | undefined
  set(wire: Wire, value: bigint): unknown
}

/** A gadget's hint step: reads its operands' values, writes every wire it declared. */
export type WitnessStep = (values: WireValues) => void

/** The value of `wire`; a gadget's witness runs after its operands' producers, so a gap is a bug in the caller's order. */
export function wireValue(values: WireValues, wire: Wire, gadget: string): bigint {
  const v = values.get(wire)
  if (v === undefined) throw new MissingWireValueError({ wire, gadget })
  return v
}

/** The value of an affine operand as an integer (not reduced: gadgets compare and shift it). */
export function affineValue(values: WireValues, a: AffineWire, gadget: string): bigint {
  if (a.wire === null || a.mul === 0n) return a.add
  return a.mul * signed(wireValue(values, a.wire, gadget)) + a.add
}

/** A field element as the integer it stands for: above p/2 it is negative (the witness holds p − |v|). */
export function signed(v: bigint): bigint {
  const r = reduce(v)
  return r > P / 2n ? r - P : r
}

/** The terms of k·a (constant part on wire 0), for the builder's linear combinations. */
export function affineTerms(a: AffineWire, k = 1n): [Wire, bigint][] {
  const out: [Wire, bigint][] = []
  if (a.wire !== null && a.mul !== 0n) out.push([a.wire, k * a.mul])
  if (a.add !== 0n) out.push([0, k * a.add])
  return out
}

/** Concatenates linear combinations (repeated wires add up in the builder). */
export function sumLc(...lcs: Lc[]): [Wire, bigint][] {
  const out: [Wire, bigint][] = []
  for (const lc of lcs) for (const t of lc) out.push([t[0], t[1]])
  return out
}
