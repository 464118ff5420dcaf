import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { WitnessAssignmentError } from '../../../src/circuit/r1cs/errors.js'
import { checkWitness, fillWitness } from '../../../src/circuit/r1cs/witness.js'
import { wtnsBytes } from '../../../src/circuit/r1cs/write-wtns.js'
import { parseR1cs } from '../../../src/prove/r1cs.js'
import { writeSystemFiles, writeWitnessFile } from '../../../src/prove/r1cs-files.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { parseWtns, violated } from '../../helpers/r1cs.js'
import { loadSnarkjs, terminateSnarkjs } from '../../helpers/tiny-circuit.js'
import { handBuilt } from './hand-built.js'

afterAll(terminateSnarkjs)

/** snarkjs's wtns.check calls logger.warn unguarded when a constraint fails: it needs a logger. */
const quiet = { info() {}, warn() {}, error() {}, debug() {} }

describe('witness of a directly built system', () => {
  it('fills the assignment in wire order with wire 0 = 1 and negatives as p − x', () => {
    const { system, wires, values } = handBuilt()
    const w = fillWitness(system, values(6n, 7n, 200n))
    expect(w.length).toBe(system.wireCount)
    expect([w[0], w[wires.s], w[wires.x], w[wires.z]]).toEqual([1n, P - 52n, 6n, 42n])
    expect(parseWtns(wtnsBytes(w))).toEqual(w)
    expect(checkWitness(system, w)).toBeNull()
  })

  it('names the wire a filler forgot, and refuses a wire 0 other than 1 or a wire it does not have', () => {
    const { system, wires, values } = handBuilt()
    const missing = values(6n, 7n, 200n)
    missing.delete(wires.bits[3]!)
    expect(() => fillWitness(system, missing)).toThrow(/main\.bits\.out\[3\]\): has no value/)
    expect(() => fillWitness(system, new Map([[0, 2n]]))).toThrow(WitnessAssignmentError)
    expect(() => fillWitness(system, new Map([[system.wireCount, 2n]]))).toThrow(WitnessAssignmentError)
  })

  it('snarkjs wtns.check accepts the witness; every single changed wire is rejected by it and by checkWitness', async () => {
    const { system, values } = handBuilt()
    const dir = await mkdtemp(join(tmpdir(), 'veriml-wtns-'))
    const r1csPath = join(dir, 'c.r1cs')
    await writeSystemFiles({ system, r1csPath })
    const parsed = parseR1cs(await readFile(r1csPath))
    const snarkjs = await loadSnarkjs()
    const good = fillWitness(system, values(6n, 7n, 200n))
    await writeWitnessFile(join(dir, 'good.wtns'), good)
    expect(await snarkjs.wtns.check(r1csPath, join(dir, 'good.wtns'), quiet)).toBe(true)

    for (let wire = 1; wire < system.wireCount; wire++) {
      const bad = [...good]
      bad[wire] = (bad[wire]! + 1n) % P
      const found = checkWitness(system, bad)
      expect(found, system.nameOf(wire)).not.toBeNull()
      // The same first constraint as an independent evaluation of the written file.
      expect(found!.index).toBe(violated(parsed, bad)[0])
      expect(found!.signals).toContain(system.nameOf(wire))
      await writeWitnessFile(join(dir, 'bad.wtns'), bad)
      expect(await snarkjs.wtns.check(r1csPath, join(dir, 'bad.wtns'), quiet), system.nameOf(wire)).toBe(false)
    }
  })

  it('reports the violated constraint with its sides and signal names', () => {
    const { system, wires, values } = handBuilt()
    const w = fillWitness(system, values(6n, 7n, 200n))
    w[wires.bits[3]!] = 2n
    expect(checkWitness(system, w)).toEqual({
      index: 4,
      a: 2n,
      b: 1n,
      c: 0n,
      signals: ['one', 'main.bits.out[3]'],
    })
  })
})
