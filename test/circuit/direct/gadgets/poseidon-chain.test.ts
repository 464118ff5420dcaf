import { beforeAll, describe, expect, it } from 'vitest'
import { chainWidths, poseidonChain } from '../../../../src/circuit/direct/gadgets/poseidon-chain.js'
import { loadPoseidonTables, type PoseidonTables } from '../../../../src/circuit/direct/gadgets/poseidon-constants.js'
import { hashChain } from '../../../../src/circuit/public.js'
import { ConstraintSystem, type Wire } from '../../../../src/circuit/r1cs/system.js'
import {
  builderNamed,
  type Compiled,
  compareR1cs,
  compileWrapper,
  crossCheck,
  ourWitness,
  sameSystems,
} from './harness.js'

let tables: PoseidonTables
beforeAll(async () => {
  tables = await loadPoseidonTables()
})

/** emit.ts `emitHashes` for one part `x` of `size` elements, with x_pk as main's inputs. */
function wrapper(size: number): string {
  const lines: string[] = []
  let prev: string | null = null
  let done = 0
  chainWidths(size).forEach((width, link) => {
    const c = `hx${link}`
    lines.push(`  component ${c} = Poseidon(${width});`)
    let slot = 0
    if (prev !== null) lines.push(`  ${c}.inputs[${slot++}] <== ${prev};`)
    for (; slot < width; slot++) lines.push(`  ${c}.inputs[${slot}] <== x_pk[${done++}];`)
    prev = `${c}.out`
  })
  return `template W() {
  signal input x_pk[${size}];
${lines.join('\n')}
  signal output x_hash;
  x_hash <== ${prev};
}
component main = W();`
}

const elements = (size: number) => Array.from({ length: size }, (_, i) => BigInt(i) * 7919n + 1n)

describe('chainWidths', () => {
  it("is emitHashes's: 16 first, then the previous hash and up to 15 more", () => {
    expect(chainWidths(1)).toEqual([1])
    expect(chainWidths(16)).toEqual([16])
    expect(chainWidths(20)).toEqual([16, 5])
    expect(chainWidths(46)).toEqual([16, 16, 16])
  })
})

describe.each([20, 166])('a Poseidon chain of %i elements against circom', (size) => {
  let compiled: Compiled
  beforeAll(async () => {
    compiled = await compileWrapper(`chain${size}`, wrapper(size))
  })

  const built = () => {
    const cs = new ConstraintSystem()
    const out = cs.signal('output', 'main.x_hash')
    const pk = cs.signals('privateInput', 'main.x_pk', size)
    return { cs, pk, chain: poseidonChain(cs, 'main', 'x', pk, tables, out) }
  }

  it('has the same wires and constraints over signal names (link hashes named as O1 keeps them)', () => {
    const { cs } = built()
    expect(compareR1cs(builderNamed(cs), compiled.circom)).toEqual(sameSystems(cs, compiled.circom))
  })

  it("each witness satisfies the other's system with the same values, and the hash is public.ts hashChain's", async () => {
    const { cs, pk, chain } = built()
    const values = elements(size)
    const ours = ourWitness(
      cs,
      pk.map((w, i): [Wire, bigint] => [w, values[i]!]),
      [chain.witness],
    )
    const theirs = await compiled.witness({ x_pk: values.map(String) })
    const check = crossCheck(cs, ours, compiled.circom, theirs)
    expect([check.oursViolations, check.theirsViolations]).toEqual([0, []])
    expect(check.theirsInOurs).toEqual(ours)
    expect(ours[chain.out]).toBe(await hashChain(values))
  })
})
