/**
 * The witness side of a directly built system: the full assignment from the values of its
 * wires, and the constraint check that tamper tests use (which constraint a changed wire
 * breaks, by index and by the names of the signals in it).
 */
import { SCALAR_FIELD } from '../../util/field.js'
import { reduce } from './coefficients.js'
import { WitnessAssignmentError } from './errors.js'
import type { ConstraintSystem, Wire } from './system.js'

const P = SCALAR_FIELD

/**
 * The full assignment, one value per wire in wire order, wire 0 = 1. Every other wire must have
 * a value (a missing one is a gap in the filler, not a default); values are reduced into [0, p)
 * so negative integers become p − |v|, as circom's witness holds them.
 */
export function fillWitness(system: ConstraintSystem, values: ReadonlyMap<Wire, bigint>): bigint[] {
  const n = system.wireCount
  const one = values.get(0)
  if (one !== undefined && reduce(one) !== 1n)
    throw new WitnessAssignmentError({ wire: 0, signal: 'one', problem: `must be 1, got ${one}` })
  for (const wire of values.keys())
    if (!Number.isInteger(wire) || wire < 0 || wire >= n)
      throw new WitnessAssignmentError({ wire, signal: '?', problem: `not a wire of this system (0..${n - 1})` })
  const witness = new Array<bigint>(n)
  witness[0] = 1n
  for (let wire = 1; wire < n; wire++) {
    const v = values.get(wire)
    if (v === undefined)
      throw new WitnessAssignmentError({ wire, signal: system.nameOf(wire), problem: 'has no value' })
    witness[wire] = reduce(v)
  }
  return witness
}

/** A constraint the witness breaks: A·B ≠ C with the values of each side. */
export interface ConstraintViolation {
  index: number
  a: bigint
  b: bigint
  c: bigint
  /** Names of the signals in the constraint, in wire order (`one` for the constant). */
  signals: string[]
}

/** The first constraint `witness` violates, or null when it satisfies them all. */
export function checkWitness(system: ConstraintSystem, witness: readonly bigint[]): ConstraintViolation | null {
  if (witness.length !== system.wireCount)
    throw new WitnessAssignmentError({
      wire: witness.length,
      signal: '?',
      problem: `the witness has ${witness.length} values, the system ${system.wireCount} wires`,
    })
  const wires = system.termWires()
  const slots = system.termSlots()
  const table = system.coefficients
  const dot = (lc: number): bigint => {
    const { start, end } = system.lcRange(lc)
    let acc = 0n
    for (let t = start; t < end; t++) acc += table.decode(slots[t]!) * witness[wires[t]!]!
    return acc % P
  }
  for (let k = 0; k < system.constraintCount; k++) {
    const a = dot(3 * k)
    const b = dot(3 * k + 1)
    const c = dot(3 * k + 2)
    if ((a * b - c) % P === 0n) continue
    const seen = new Set<Wire>()
    for (let lc = 3 * k; lc < 3 * k + 3; lc++) {
      const { start, end } = system.lcRange(lc)
      for (let t = start; t < end; t++) seen.add(wires[t]!)
    }
    const signals = [...seen].sort((x, y) => x - y).map((w) => system.nameOf(w))
    return { index: k, a, b, c, signals }
  }
  return null
}
