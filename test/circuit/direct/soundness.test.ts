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
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import type { IrModel } from '../../../src/ir/types.js'
import { devSetup } from '../../../src/prove/dev-setup.js'
import { writeSystemFiles, writeWitnessFile } from '../../../src/prove/r1cs-files.js'
import { shutdown } from '../../../src/shutdown.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { freeWires } from '../../helpers/direct-equivalence.js'
import { buildCircuit } from '../../helpers/circuit.js'
import { halfEvenModel, halfUpModel } from '../../helpers/requant-models.js'
import { loadSnarkjs, terminateSnarkjs } from '../../helpers/tiny-circuit.js'

afterAll(async () => {
  await terminateSnarkjs()
  await shutdown()
})

const PUBLIC = { input: 'public', output: 'public' } as const

function direct(ir: IrModel, x: bigint[][]) {
  return buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility: PUBLIC, inputs: [x[0]!] })
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
