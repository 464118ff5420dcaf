/**
 * The direct backend's witness as the prover sees it: every single wire changed breaks a
 * constraint (hints are constrained), snarkjs accepts the .r1cs/.wtns pair, and a Groth16 proof
 * from them verifies with the public signals circom's witness carries.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildDirect } from '../../../src/circuit/direct/build.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { ConstraintSystem } from '../../../src/circuit/r1cs/system.js'
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import type { IrModel } from '../../../src/ir/types.js'
import { devSetup } from '../../../src/prove/dev-setup.js'
import { writeSystemFiles, writeWitnessFile } from '../../../src/prove/r1cs-files.js'
import { shutdown } from '../../../src/shutdown.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { sizeOf } from '../../../src/util/shape.js'
import { buildCircuit } from '../../helpers/circuit.js'
import { freeWires } from '../../helpers/direct-equivalence.js'
import { lookupModel, maxModel, mulModel, stepsModel } from '../../helpers/op-models.js'
import { halfEvenModel, halfUpModel } from '../../helpers/requant-models.js'
import { loadSnarkjs, terminateSnarkjs } from '../../helpers/tiny-circuit.js'

afterAll(async () => {
  await terminateSnarkjs()
  await shutdown()
})

const PUBLIC: Visibility = { input: 'public', output: 'public' }
/** The lookup model's one-element inputs cannot be public inputs of the direct build (equivalence.test.ts). */
const PRIVATE_IN: Visibility = { input: 'private', output: 'public' }

function direct(ir: IrModel, x: bigint[][], visibility: Visibility = PUBLIC) {
  return buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility, inputs: x })
}

/** The wire named `name` (it must exist: a renamed gadget signal fails here, not silently later). */
function wireNamed(system: ConstraintSystem, name: string): number {
  const w = Array.from({ length: system.wireCount }, (_, k) => k).find((k) => system.nameOf(k) === name)
  expect(w, name).toBeDefined()
  return w!
}

/**
 * `system` with every constraint that mentions `wire` removed: the wire becomes a hint nothing
 * checks (a `<--` without its `===`), as an under-constrained gadget would leave it.
 */
function withoutConstraintsOn(system: ConstraintSystem, wire: number): ConstraintSystem {
  const out = new ConstraintSystem()
  const roles = [
    ['output', system.outputCount],
    ['publicInput', system.publicInputCount],
    ['privateInput', system.privateInputCount],
  ] as const
  let w = 1
  for (const [role, count] of roles) for (let k = 0; k < count; k++, w++) out.signal(role, system.nameOf(w))
  for (; w < system.wireCount; w++) out.signal('internal', system.nameOf(w))
  for (let k = 0; k < system.constraintCount; k++) {
    const [a, b, c] = system.constraint(k)
    if (![...a, ...b, ...c].some(([t]) => t === wire)) out.constrain(a, b, c)
  }
  return out
}

describe('direct witness: every wire constrained', () => {
  it.each([
    ['half up, every plan shape', halfUpModel(), [[-128n, 127n, 3n]]],
    ['half up, other corner', halfUpModel(), [[127n, -128n, -77n]]],
    // x0 = 1 and 3: shift-1 ties of both parities in the first case, ties elsewhere too.
    ['half even, ties of one parity', halfEvenModel('half-even'), [[1n, 5n, -3n]]],
    ['half even, ties of the other parity', halfEvenModel('half-even'), [[3n, 5n, -3n]]],
  ] as const)('%s: changing any single wire breaks a constraint', (_, ir, x) => {
    const { system, witness } = direct(
      ir,
      x.map((v) => [...v]),
    )
    expect(checkWitness(system, witness!)).toBeNull()
    expect(freeWires(system, witness!)).toEqual([])
  })

  it.each([
    [
      'max (constant operand, decided pairs, trees)',
      maxModel(),
      [
        [-77n, 101n, 13n, 13n, -128n, 127n],
        [200n, 3n, 3n, 0n],
      ],
    ],
    ['max, every operand equal', maxModel(), [Array(6).fill(5n), Array(4).fill(5n)]],
    ['max, other corner', maxModel(), [Array(6).fill(-128n), Array(4).fill(200n)]],
    [
      'mul (affine operands, same signal, constant factors)',
      mulModel(),
      [
        [-77n, 101n, 13n, -128n],
        [200n, 3n],
      ],
    ],
    ['mul, zeros', mulModel(), [Array(4).fill(0n), Array(2).fill(0n)]],
    ['every constrained kind in one model', stepsModel(), [[-128n, 127n, 5n, -5n, 0n, 77n, -100n, 13n]]],
  ] as const)('%s: changing any single wire breaks a constraint', (_, ir, x) => {
    const { system, witness } = direct(
      ir,
      x.map((v) => [...v]),
    )
    expect(checkWitness(system, witness!)).toBeNull()
    expect(freeWires(system, witness!)).toEqual([])
  })

  it.each([
    ['row 0 and N − 1 of the 256-entry tables', [[-128n, 127n, -5n, 0n], [0n], [5n]]],
    ['row boundaries (multiples of B = 26)', [[-76n, 28n, 40n, -100n], [130n], [5n]]],
  ] as const)('lookup, %s (private inputs): changing any single wire breaks a constraint', (_, x) => {
    const { system, witness } = direct(
      lookupModel(),
      x.map((v) => [...v]),
      PRIVATE_IN,
    )
    expect(checkWitness(system, witness!)).toBeNull()
    expect(freeWires(system, witness!)).toEqual([])
  })

  it.each([
    ['a Max2 comparison bit', maxModel(), PUBLIC, 'main.s6.mx6_1_0.bit[8]'],
    ['a Lookup row bit', lookupModel(), PRIVATE_IN, 'main.s5.lk5_0.hb[2]'],
    ['a product', mulModel(), PUBLIC, 'main.s4.o[0]'],
  ] as const)('a planted unconstrained hint (%s) is caught by name', (_, ir, visibility, name) => {
    const inside = (i: (typeof ir.inputs)[number], k: number) =>
      i.lo + BigInt(3 * k + 1) < i.hi ? i.lo + BigInt(3 * k + 1) : i.hi
    const x = ir.inputs.map((i) => Array.from({ length: sizeOf(i.shape) }, (_, k) => inside(i, k)))
    const { system, witness } = direct(ir, x, visibility)
    const planted = withoutConstraintsOn(system, wireNamed(system, name))
    expect(planted.constraintCount).toBeLessThan(system.constraintCount)
    expect(checkWitness(planted, witness!)).toBeNull()
    expect(freeWires(planted, witness!)).toContain(name)
  })

  it('the harness can fail: a planted unconstrained wire is reported by name', () => {
    const { system, witness } = direct(halfUpModel(), [[5n, 6n, 7n]])
    // A copy of the witness one wire longer is refused, not silently accepted.
    expect(() => checkWitness(system, [...witness!, 0n])).toThrow(/witness has/)
    // The first input's recomposition breaks when its bit changes: names are reported.
    const t = [...witness!]
    const bit = Array.from({ length: system.wireCount }, (_, w) => w).find(
      (w) => system.nameOf(w) === 'main.rc0[0].out[0]',
    )!
    t[bit] = (t[bit]! + 1n) % P
    expect(checkWitness(system, t)!.signals).toContain('main.rc0[0].out[0]')
  })
})

describe('direct r1cs + wtns through snarkjs', () => {
  it('wtns.check accepts them; a dev-setup Groth16 proof verifies with the public signals of the circom path', async () => {
    const ir = halfEvenModel('half-even')
    const x = [[3n, -100n, 42n]]
    const { system, witness, layout } = buildDirect({
      model: ir,
      bounds: analyzeBounds(ir),
      visibility: PUBLIC,
      inputs: x,
    })
    const dir = await mkdtemp(join(tmpdir(), 'veriml-direct-model-'))
    const r1csPath = join(dir, 'model.r1cs')
    const wtnsPath = join(dir, 'model.wtns')
    const zkeyPath = join(dir, 'model.zkey')
    await writeSystemFiles({ system, r1csPath })
    await writeWitnessFile(wtnsPath, witness!)
    const snarkjs = await loadSnarkjs()
    expect(await snarkjs.wtns.check(r1csPath, wtnsPath)).toBe(true)
    await devSetup({ r1csPath, zkeyPath })
    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath)
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkeyPath, wtnsPath)
    const circom = await (await buildCircuit(ir, PUBLIC)).witness(x)
    expect(publicSignals).toEqual(circom.slice(1, 1 + layout.count).map(String))
    expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).toBe(true)
    const wrong = [...publicSignals]
    wrong[wrong.length - 1] = String(BigInt(wrong[wrong.length - 1]!) + 1n)
    expect(await snarkjs.groth16.verify(vkey, wrong, proof)).toBe(false)
  })
})
