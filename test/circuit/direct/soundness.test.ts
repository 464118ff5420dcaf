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
import type { PublicLayout, Visibility } from '../../../src/circuit/layout.js'
import type { ConstraintSystem } from '../../../src/circuit/r1cs/system.js'
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import type { IrModel } from '../../../src/ir/types.js'
import { devSetup } from '../../../src/prove/dev-setup.js'
import { writeSystemFiles, writeWitnessFile } from '../../../src/prove/r1cs-files.js'
import { shutdown } from '../../../src/shutdown.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { buildCircuit } from '../../helpers/circuit.js'
import { freeWires, without } from '../../helpers/direct-equivalence.js'
import { lookupModel, maxModel, mulModel, stepsModel, TANH } from '../../helpers/op-models.js'
import { violated } from '../../helpers/r1cs.js'
import { builderNamed } from '../../helpers/r1cs-parity.js'
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

type Tamper = (w: readonly bigint[], wire: (name: string) => number, layout: PublicLayout) => bigint[]
const mod = (v: bigint) => ((v % P) + P) % P

/** max(x0, x1) = 40 for x0 = 40, x1 = −30: clear bit 8, move its weight into bit 0, output −30 (max.test.ts). */
const cheatMax: { x: bigint[][]; tamper: Tamper } = {
  x: [
    [40n, -30n, 0n, 0n, 0n, 0n],
    [0n, 0n, 0n, 0n],
  ],
  tamper: (w, wire, layout) => {
    const bit = (i: number) => wire(`main.s6.mx6_1_0.bit[${i}]`)
    expect(w[bit(8)]).toBe(1n)
    const t = [...w]
    t[bit(8)] = 0n
    t[bit(0)] = w[bit(0)]! + 256n
    // The pair's y is row 1's output, the step's o[0] (row 0 is x0 itself), lane 1 of out_packed[0].
    expect(w[wire('main.s6.o[0]')]).toBe(40n)
    t[wire('main.s6.o[0]')] = mod(-30n)
    const laneBits = BigInt(layout.outputs[0]!.laneBits)
    t[wire('main.out_packed[0]')] = mod(w[wire('main.out_packed[0]')]! - (70n << laneBits))
    return t
  },
}

/** x0 = −45 is v = 83 = 3·26 + 5 in the 256-entry tanh gadget (A = 10, B = 26): rows 1 and 2 set instead of 3 (lookup.test.ts). */
const cheatLookup: { x: bigint[][]; tamper: Tamper } = {
  x: [[-45n, 0n, 0n, 0n], [0n], [5n]],
  tamper: (w, wire) => {
    const [A, B, l] = [10, 26, 5]
    const hb = (k: number) => wire(`main.s5.lk5_0.hb[${k}]`)
    expect(w[hb(2)]).toBe(1n)
    const row = (h: number) => (h * B + l < 256 ? TANH.table[h * B + l]! : 0n)
    const bits = Array.from({ length: A - 1 }, (_, k): bigint => (k === 0 || k === 1 ? 1n : 0n))
    const t = [...w]
    bits.forEach((v, k) => {
      t[hb(k)] = v
    })
    for (let k = 0; k < A - 2; k++) t[wire(`main.s5.lk5_0.p[${k}]`)] = mod(bits[k]! * (row(k + 1) - row(0)))
    const y = row(0) + bits.reduce((acc, v, k) => acc + v * (row(k + 1) - row(0)), 0n)
    // The gadget's y is the step's o[0], lane 0 of out_packed[0].
    const delta = y - row(3)
    expect(delta).not.toBe(0n)
    t[wire('main.s5.o[0]')] = mod(y)
    t[wire('main.out_packed[0]')] = mod(w[wire('main.out_packed[0]')]! + delta)
    return t
  },
}

/** m4[0] = x0·u0 (the step's o[0], lane 0 of out_packed[0]) plus one, the packed output moved with it (mul.test.ts). */
const cheatMul: { x: bigint[][]; tamper: Tamper } = {
  x: [
    [-77n, 101n, 13n, -128n],
    [200n, 3n],
  ],
  tamper: (w, wire) => {
    const t = [...w]
    t[wire('main.s4.o[0]')] = mod(w[wire('main.s4.o[0]')]! + 1n)
    t[wire('main.out_packed[0]')] = mod(w[wire('main.out_packed[0]')]! + 1n)
    return t
  },
}

describe('direct witness: every wire constrained', () => {
  it.each([
    ['half up, every plan shape', halfUpModel(), [[-128n, 127n, 3n]]],
    ['half up, other corner', halfUpModel(), [[127n, -128n, -77n]]],
    // x0 = 1 and 3: shift-1 ties of both parities in the first case, ties elsewhere too.
    ['half even, ties of one parity', halfEvenModel('half-even'), [[1n, 5n, -3n]]],
    ['half even, ties of the other parity', halfEvenModel('half-even'), [[3n, 5n, -3n]]],
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

  // u of the max model has the domain [0, 200]: 8-bit lanes admit up to 255, so the circuit
  // also range-checks 200 − u (rh1). No assignment of rh1[0]'s 8 bits sums to 200 − 201 = p − 1.
  it('an input above its domain (u = 201 of [0, 200]) breaks its upper range check; u = 200 holds', () => {
    const x = (u: bigint) => [Array(6).fill(0n), [u, 0n, 0n, 0n]]
    const top = direct(maxModel(), x(200n))
    expect(checkWitness(top.system, top.witness!)).toBeNull()
    const above = direct(maxModel(), x(201n))
    const violation = checkWitness(above.system, above.witness!)
    expect(violation?.signals.some((s) => s.startsWith('main.rh1[0].'))).toBe(true)
  })

  // The circom gadget tests' consistent cheats (test/circuit/max, lookup, mul), on the direct
  // system: every other constraint holds, so the one guard left is named; without it the cheat passes.
  it.each([
    [
      'Max2 outputs the smaller operand, bits still recomposing (only bit[0]·(bit[0] − 1) = 0 catches it)',
      maxModel(),
      PUBLIC,
      'main.s6.mx6_1_0.bit[0]',
      cheatMax,
    ],
    [
      'Lookup picks rows 1 and 2 for row 3, products recomputed (only the one-hot of hb catches it)',
      lookupModel(),
      PRIVATE_IN,
      'main.s5.lk5_0.hb[0]',
      cheatLookup,
    ],
    [
      'a product off by one, output moved with it (only its own A·B = C catches it)',
      mulModel(),
      PUBLIC,
      'main.s4.o[0]',
      cheatMul,
    ],
  ] as const)('%s', (_, ir, visibility, guarded, cheat) => {
    const built = direct(
      ir,
      cheat.x.map((v) => [...v]),
      visibility,
    )
    const system = built.system
    const w = (name: string) => wireNamed(system, name)
    const t = cheat.tamper(built.witness!, w, built.layout)
    const bad = violated(builderNamed(system).r1cs, t)
    expect(bad).toHaveLength(1)
    expect(checkWitness(system, t)!.signals).toContain(guarded)
    // The guard is the one constraint between the cheat and a valid proof.
    expect(checkWitness(without(system, bad[0]!), t)).toBeNull()
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
