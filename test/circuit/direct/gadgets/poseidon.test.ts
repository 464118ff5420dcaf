import { buildPoseidon } from 'circomlibjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { poseidon, poseidonHash } from '../../../../src/circuit/direct/gadgets/poseidon.js'
import { loadPoseidonTables, type PoseidonTables } from '../../../../src/circuit/direct/gadgets/poseidon-constants.js'
import { ConstraintSystem, type Wire } from '../../../../src/circuit/r1cs/system.js'
import { checkWitness } from '../../../../src/circuit/r1cs/witness.js'
import {
  builderNamed,
  type Compiled,
  compareR1cs,
  compileWrapper,
  crossCheck,
  ourWitness,
  sameSystems,
  untamperable,
} from './harness.js'

let tables: PoseidonTables
beforeAll(async () => {
  tables = await loadPoseidonTables()
})

const sample = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i * 1_000_003 + 7) ** 3n)

/** 3(8t + R) + 8t + 7t + R(t + 1) + 1 with t = n + 1 (poseidon.ts header). */
const N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]
const expectedConstraints = (n: number) => {
  const t = n + 1
  const R = N_ROUNDS_P[t - 2]!
  return 3 * (8 * t + R) + 15 * t + R * (t + 1) + 1
}

describe('poseidonHash', () => {
  it("equals circomlibjs's buildPoseidon for every width veriml chains (1..16 inputs)", async () => {
    const reference = await buildPoseidon()
    for (let n = 1; n <= 16; n++) {
      const inputs = sample(n)
      expect(poseidonHash(tables, inputs), `n = ${n}`).toBe(reference.F.toObject(reference(inputs)))
    }
    // A value above p is the same field element (the circuit only ever sees reduced inputs).
    expect(poseidonHash(tables, [-1n])).toBe(reference.F.toObject(reference([-1n])))
  })
})

/** main.in[n] → Poseidon(n); with `named`, main's output h copies the hash (so c.out has no wire). */
function wrapper(n: number, named: boolean): string {
  return `template W() {
  signal input in[${n}];
  ${named ? 'signal output h;' : ''}
  component c = Poseidon(${n});
  for (var i = 0; i < ${n}; i++) c.inputs[i] <== in[i];
  ${named ? 'h <== c.out;' : ''}
}
component main = W();`
}

function built(n: number, named: boolean) {
  const cs = new ConstraintSystem()
  const h = named ? cs.signal('output', 'main.h') : undefined
  const inputs = cs.signals('privateInput', 'main.in', n)
  const g = poseidon(cs, 'main.c', inputs, tables, { out: h })
  return { cs, inputs, g }
}

describe.each([
  { n: 1, named: false },
  { n: 2, named: true },
  { n: 16, named: false },
])('Poseidon($n) against circom (hash copied to a main output: $named)', ({ n, named }) => {
  let compiled: Compiled
  beforeAll(async () => {
    compiled = await compileWrapper(`poseidon${n}`, wrapper(n, named))
  })

  it('has the same wires and constraints, as multisets over signal names, and the same wire order', () => {
    const { cs } = built(n, named)
    expect(cs.constraintCount).toBe(expectedConstraints(n))
    const ours = builderNamed(cs)
    expect(compareR1cs(ours, compiled.circom)).toEqual(sameSystems(cs, compiled.circom))
    const names = (s: typeof ours) => Array.from({ length: s.r1cs.nVars }, (_, w) => s.nameOf(w))
    expect(names(ours)).toEqual(names(compiled.circom))
  })

  it("each witness satisfies the other's system, both hold the same values, and the hash is circomlibjs's", async () => {
    const { cs, inputs, g } = built(n, named)
    const values = sample(n)
    const ours = ourWitness(
      cs,
      inputs.map((w, i): [Wire, bigint] => [w, values[i]!]),
      [g.witness],
    )
    const theirs = await compiled.witness({ in: values.map(String) })
    const check = crossCheck(cs, ours, compiled.circom, theirs)
    expect([check.oursViolations, check.theirsViolations]).toEqual([0, []])
    expect(check.theirsInOurs).toEqual(ours)
    expect(ours[g.out]).toBe(poseidonHash(tables, values))
  })

  it(
    n > 2
      ? 'every 41st wire is constrained (all of them for n ≤ 2)'
      : 'every wire is constrained: changing any one breaks a constraint',
    () => {
      const { cs, inputs, g } = built(n, named)
      const w = ourWitness(
        cs,
        inputs.map((wire, i): [Wire, bigint] => [wire, sample(n)[i]!]),
        [g.witness],
      )
      expect(checkWitness(cs, w)).toBeNull()
      // Poseidon(16) has 2,109 wires and 2,092 constraints: a full sweep is 4.4M constraint checks.
      expect(untamperable(cs, w, (wire) => n > 2 && wire % 41 !== 0)).toEqual([])
    },
  )
})
