/**
 * The direct backend against circom on one model (test/circuit/direct/*.test.ts): the same
 * wires (in the same order, unhashed) and constraints over the same names, the same header counts and public layout, each
 * system satisfied by the other's witness mapped through the names, and the public signals
 * the reference executor defines (with hashed weights, the commitment last).
 */
import { expect } from 'vitest'
import { buildDirect, directWitness } from '../../src/circuit/direct/build.js'
import { loadPoseidonTables } from '../../src/circuit/direct/gadgets/poseidon-constants.js'
import { hashesAnything } from '../../src/circuit/direct/hash.js'
import type { Visibility, WeightVisibility } from '../../src/circuit/layout.js'
import { publicSignals } from '../../src/circuit/public.js'
import { ConstraintSystem } from '../../src/circuit/r1cs/system.js'
import { checkWitness } from '../../src/circuit/r1cs/witness.js'
import { weightCommitment } from '../../src/circuit/weights.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { SCALAR_FIELD as P } from '../../src/util/field.js'
import { sizeOf } from '../../src/util/shape.js'
import { randInt, rng } from './circuit.js'
import { buildCircuit } from './circuit.js'
import { violated } from './r1cs.js'
import { builderNamed, compareR1cs, mapWitness, readCircomNamed } from './r1cs-parity.js'

/**
 * Compiles `ir` with circom and builds it directly; checks structure once and witnesses on
 * every input vector. Returns the direct system's wire names.
 */
export async function expectEquivalent(
  ir: IrModel,
  visibility: Visibility,
  inputs: bigint[][][],
  templateTextLimit?: number,
  { weights = 'constant' }: { weights?: WeightVisibility } = {},
): Promise<string[]> {
  const circuit = await buildCircuit(ir, visibility, { templateTextLimit, weights })
  const circom = await readCircomNamed(circuit.dir, 'model')
  const bounds = analyzeBounds(ir)
  const poseidon = hashesAnything(visibility, weights) ? await loadPoseidonTables() : undefined
  const options = { model: ir, bounds, visibility, templateTextLimit, weights, poseidon }
  const structure = buildDirect(options)
  const ours = builderNamed(structure.system)
  const report = compareR1cs(ours, circom)
  // Wire order too: the .sym is circom's line for line (labels in circom's component order).
  // Not yet with hashing: the Poseidon links are declared through main's sink in chain order,
  // where circom labels hx10 before hx2 (their names are right: poseidon-chain.ts).
  if (!hashesAnything(visibility, weights))
    expect(Array.from({ length: circom.r1cs.nVars }, (_, w) => ours.nameOf(w))).toEqual(
      Array.from({ length: circom.r1cs.nVars }, (_, w) => circom.nameOf(w)),
    )
  expect(report).toEqual({
    wireCounts: [circom.r1cs.nVars, circom.r1cs.nVars],
    constraintCounts: [circom.r1cs.nConstraints, circom.r1cs.nConstraints],
    onlyFirst: [],
    onlySecond: [],
    namesOnlyFirst: [],
    namesOnlySecond: [],
  })
  expect([ours.r1cs.nOutputs, ours.r1cs.nPubInputs, ours.r1cs.nPrvInputs]).toEqual([
    circom.r1cs.nOutputs,
    circom.r1cs.nPubInputs,
    circom.r1cs.nPrvInputs,
  ])
  expect(structure.layout).toEqual(circuit.emitted.layout)
  expect(structure.witness).toBeNull()
  // compile fills the commitment in; publicSignals needs it.
  const layout = structure.layout.weights
    ? {
        ...structure.layout,
        weights: { ...structure.layout.weights, commitment: (await weightCommitment(ir)).toString() },
      }
    : structure.layout
  for (const x of inputs) {
    const { system, witness } = buildDirect({ ...options, inputs: x })
    expect(system.constraintCount).toBe(structure.system.constraintCount)
    expect(checkWitness(system, witness!)).toBeNull()
    // The prove-time pass (values only, the compile's wire map) gives the very same witness.
    const { wires, signalCount, stepChunks } = structure
    expect(directWitness({ ...options, inputs: x, wires, signalCount, stepChunks })).toEqual(witness)
    expect(violated(circom.r1cs, mapWitness(witness!, ours, circom))).toEqual([])
    const theirs = await circuit.witness(x)
    expect(checkWitness(system, mapWitness(theirs, circom, ours))).toBeNull()
    const expected = await publicSignals(layout, x, execute(ir, x).outputs)
    expect(witness!.slice(1, 1 + expected.length)).toEqual(expected)
  }
  return Array.from({ length: structure.system.wireCount }, (_, w) => structure.system.nameOf(w))
}

/**
 * Names of the wires of a direct build that can be changed alone (by +1) without violating a
 * constraint. The one allowed case, as for circom's circuits: IsZero's inv when its input is 0
 * (inv = 0 then, and the output is 1 whatever inv is), circomlib's or the fused softmax's. Only the constraints a wire appears in
 * are re-checked (the others cannot change), so a hashed model's ~10⁴ wires stay cheap.
 */
export function freeWires(system: ConstraintSystem, witness: readonly bigint[]): string[] {
  expect(checkWitness(system, witness)).toBeNull()
  const uses = Array.from({ length: witness.length }, (): number[] => [])
  const constraints = Array.from({ length: system.constraintCount }, (_, i) => system.constraint(i))
  for (const [i, abc] of constraints.entries())
    for (const w of new Set(abc.flatMap((lc) => lc.map(([wire]) => wire)))) uses[w]!.push(i)
  const dot = (lc: [number, bigint][], t: readonly bigint[]) => lc.reduce((acc, [w, k]) => acc + k * t[w]!, 0n) % P
  const free: string[] = []
  for (let w = 1; w < witness.length; w++) {
    const t = [...witness]
    t[w] = (t[w]! + 1n) % P
    const broken = uses[w]!.some((i) => {
      const [a, b, c] = constraints[i]!
      return (dot(a, t) * dot(b, t) - dot(c, t)) % P !== 0n
    })
    if (broken) continue
    const name = system.nameOf(w)
    // The fused softmax gadget's IsZero inverses (src/circuit/softmax-fused.ts) are the same case.
    if (!((name.endsWith('.isz.inv') || /\.f[zo]i\[\d+\]$/.test(name)) && witness[w] === 0n)) free.push(name)
  }
  return free
}

/** The all-lo and all-hi vectors, the given corners, then `n` random vectors inside each input's bounds. */
export function inputsOf(ir: IrModel, n: number, seed: number, corners: bigint[][][] = []): bigint[][][] {
  const r = rng(seed)
  const random = () => ir.inputs.map((i) => Array.from({ length: sizeOf(i.shape) }, () => randInt(r, i.lo, i.hi)))
  const extremes = ['lo', 'hi'] as const
  return [
    ...extremes.map((e) => ir.inputs.map((i) => Array<bigint>(sizeOf(i.shape)).fill(i[e]))),
    ...corners,
    ...Array.from({ length: n }, random),
  ]
}

/** `system` without constraint `index` (the same wires, names and roles). */
export function without(system: ConstraintSystem, index: number): ConstraintSystem {
  const out = new ConstraintSystem()
  const roles = [
    ['output', system.outputCount],
    ['publicInput', system.publicInputCount],
    ['privateInput', system.privateInputCount],
  ] as const
  let w = 1
  for (const [role, count] of roles) for (let k = 0; k < count; k++, w++) out.signal(role, system.nameOf(w))
  for (; w < system.wireCount; w++) out.signal('internal', system.nameOf(w))
  for (let k = 0; k < system.constraintCount; k++) if (k !== index) out.constrain(...system.constraint(k))
  return out
}
