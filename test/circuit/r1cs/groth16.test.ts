import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fillWitness } from '../../../src/circuit/r1cs/witness.js'
import { devSetup } from '../../../src/prove/dev-setup.js'
import { writeSystemFiles, writeWitnessFile } from '../../../src/prove/r1cs-files.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { loadSnarkjs, preparePtau, terminateSnarkjs } from '../../helpers/tiny-circuit.js'
import { handBuilt } from './hand-built.js'

afterAll(terminateSnarkjs)

describe('a directly built system through Groth16', () => {
  it("dev setup, snarkjs's prover from the .wtns, verify: true; a changed public signal: false", async () => {
    const { system, values } = handBuilt()
    const dir = await mkdtemp(join(tmpdir(), 'veriml-direct-g16-'))
    const r1csPath = join(dir, 'c.r1cs')
    const wtnsPath = join(dir, 'c.wtns')
    const zkeyPath = join(dir, 'c.zkey')
    await writeSystemFiles({ system, r1csPath })
    await writeWitnessFile(wtnsPath, fillWitness(system, values(6n, 7n, 200n)))
    const setup = await devSetup({ r1csPath, zkeyPath })
    expect([setup.nConstraints, setup.nCoefficients, setup.nVars, setup.nPublic]).toEqual([
      system.constraintCount,
      system.termCount,
      system.wireCount,
      2,
    ])

    const snarkjs = await loadSnarkjs()
    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath)
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkeyPath, wtnsPath)
    // Public signals in wire order: the output s (−52 in the field), then the public input x.
    expect(publicSignals).toEqual([String(P - 52n), '6'])
    expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).toBe(true)
    expect(await snarkjs.groth16.verify(vkey, [publicSignals[0]!, '7'], proof)).toBe(false)
  })

  it("snarkjs's own groth16 setup (its r1cs reader, a 2^5 powers of tau) accepts the file; the proof verifies", async () => {
    const { system, values } = handBuilt()
    const dir = await mkdtemp(join(tmpdir(), 'veriml-direct-g16-snarkjs-'))
    const r1csPath = join(dir, 'c.r1cs')
    const wtnsPath = join(dir, 'c.wtns')
    const zkeyPath = join(dir, 'c.zkey')
    await writeSystemFiles({ system, r1csPath })
    await writeWitnessFile(wtnsPath, fillWitness(system, values(3n, 5n, 17n)))
    const snarkjs = await loadSnarkjs()
    await snarkjs.zKey.newZKey(r1csPath, await preparePtau(join(dir, 'ptau'), 5), zkeyPath)
    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath)
    const { proof, publicSignals } = await snarkjs.groth16.prove(zkeyPath, wtnsPath)
    // s = 3 + 15 − 30 + 5 = −7.
    expect(publicSignals).toEqual([String(P - 7n), '3'])
    expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).toBe(true)
    expect(await snarkjs.groth16.verify(vkey, [String(P - 6n), '3'], proof)).toBe(false)
  })
})
