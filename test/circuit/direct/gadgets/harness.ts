/**
 * Parity harness for the direct gadgets: compile a tiny circom wrapper around one template
 * instance, build the same instance with the direct builder, and compare the two systems and
 * their witnesses through signal names (test/helpers/r1cs-parity.ts).
 */
import { readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireValues } from '../../../../src/circuit/direct/gadgets/values.js'
import type { ConstraintSystem, Wire } from '../../../../src/circuit/r1cs/system.js'
import { checkWitness, fillWitness } from '../../../../src/circuit/r1cs/witness.js'
import { compileCircom } from '../../../../src/prove/circom.js'
import { violated } from '../../../helpers/r1cs.js'
import {
  builderNamed,
  compareR1cs,
  mapWitness,
  type NamedR1cs,
  type ParityReport,
  readCircomNamed,
} from '../../../helpers/r1cs-parity.js'

export interface Compiled {
  circom: NamedR1cs
  /** circom's wasm witness for main's inputs. */
  witness(input: Record<string, unknown>): Promise<bigint[]>
}

type Calculator = { calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]> }

/** Compiles `pragma + includes + body` as `<name>.circom` in a fresh folder (O1, as veriml compiles). */
export async function compileWrapper(name: string, body: string): Promise<Compiled> {
  const dir = await mkdtemp(join(tmpdir(), `veriml-gadget-${name}-`))
  const source = [
    'pragma circom 2.1.0;',
    'include "veriml.circom";',
    'include "circomlib/circuits/poseidon.circom";',
    body,
  ].join('\n')
  await writeFile(join(dir, `${name}.circom`), source)
  await compileCircom(dir, { name })
  const circom = await readCircomNamed(dir, name)
  const load = createRequire(import.meta.url)(join(dir, `${name}_js`, 'witness_calculator.js')) as (
    code: Buffer,
  ) => Promise<Calculator>
  const calculator = await load(readFileSync(join(dir, `${name}_js`, `${name}.wasm`)))
  return {
    circom,
    witness: async (input) => (await calculator.calculateWitness(input, true)).map(BigInt),
  }
}

/** A report with nothing on either side: what `compareR1cs` returns for equal systems. */
export function sameSystems(ours: ConstraintSystem, circom: NamedR1cs): ParityReport {
  return {
    wireCounts: [ours.wireCount, circom.r1cs.nVars],
    constraintCounts: [ours.constraintCount, circom.r1cs.nConstraints],
    onlyFirst: [],
    onlySecond: [],
    namesOnlyFirst: [],
    namesOnlySecond: [],
  }
}

export { builderNamed, compareR1cs }

/** Our witness: the inputs' values, then the gadgets' witness steps in order. */
export function ourWitness(
  system: ConstraintSystem,
  inputs: [Wire, bigint][],
  steps: ((values: WireValues) => void)[],
): bigint[] {
  const values = new Map<Wire, bigint>(inputs)
  for (const step of steps) step(values)
  return fillWitness(system, values)
}

/** Each witness satisfies the other system once mapped through the names; returns both mapped. */
export function crossCheck(
  system: ConstraintSystem,
  ours: bigint[],
  circom: NamedR1cs,
  theirs: bigint[],
): { oursInCircom: bigint[]; theirsInOurs: bigint[]; oursViolations: number; theirsViolations: number[] } {
  const named = builderNamed(system)
  const oursInCircom = mapWitness(ours, named, circom)
  const theirsInOurs = mapWitness(theirs, circom, named)
  const ownCheck = checkWitness(system, ours)
  return {
    oursInCircom,
    theirsInOurs,
    oursViolations: ownCheck === null ? 0 : 1,
    theirsViolations: [
      ...violated(circom.r1cs, oursInCircom),
      ...(checkWitness(system, theirsInOurs) === null ? [] : [-1]),
    ],
  }
}

/** Wires (other than `one`) whose single change breaks no constraint: should be empty, or documented free wires. */
export function untamperable(
  system: ConstraintSystem,
  witness: readonly bigint[],
  skip: (w: Wire) => boolean = () => false,
): string[] {
  const free: string[] = []
  for (let w = 1; w < system.wireCount; w++) {
    if (skip(w)) continue
    const tampered = [...witness]
    tampered[w] = tampered[w]! + 1n
    if (checkWitness(system, tampered) === null) free.push(system.nameOf(w))
  }
  return free
}
