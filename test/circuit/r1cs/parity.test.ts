import { readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ConstraintSystem, type Wire } from '../../../src/circuit/r1cs/system.js'
import { checkWitness, fillWitness } from '../../../src/circuit/r1cs/witness.js'
import { compileCircom } from '../../../src/prove/circom.js'
import { violated } from '../../helpers/r1cs.js'
import { builderNamed, compareR1cs, mapWitness, type NamedR1cs, readCircomNamed } from '../../helpers/r1cs-parity.js'

/** One template with linear and quadratic constraints, a subcomponent, a public input, an array. */
const CIRCUIT = `pragma circom 2.1.0;
template Sq() {
  signal input x;
  signal output y;
  y <== x * x;
}
template Parity() {
  signal input a;
  signal input b;
  signal input c[2];
  signal output y;
  signal output z;
  signal t;
  signal u;
  t <== a * b;
  u <== t + 3 * c[0] - c[1] + 5;
  y <== u - 7;
  component s = Sq();
  s.x <== u + c[0];
  z <== s.y * c[1] + 2;
}
component main {public [a]} = Parity();
`

/** The same circuit through the builder; `cCoefficient` lets a test plant a difference. */
function built(cCoefficient = 3n) {
  const s = new ConstraintSystem()
  const [y, z] = [s.signal('output', 'main.y'), s.signal('output', 'main.z')]
  const a = s.signal('publicInput', 'main.a')
  const b = s.signal('privateInput', 'main.b')
  const [c0, c1] = s.signals('privateInput', 'main.c', 2)
  const t = s.signal('internal', 'main.t')
  const u = s.signal('internal', 'main.u')
  const sy = s.signal('internal', 'main.s.y')
  const sx = s.signal('internal', 'main.s.x')
  s.constrain([[a, 1n]], [[b, 1n]], [[t, 1n]])
  s.linear([
    [u, 1n],
    [t, -1n],
    [c0!, -cCoefficient],
    [c1!, 1n],
    [0, -5n],
  ])
  s.linear([
    [y, 1n],
    [u, -1n],
    [0, 7n],
  ])
  s.linear([
    [sx, 1n],
    [u, -1n],
    [c0!, -1n],
  ])
  s.constrain([[sx, 1n]], [[sx, 1n]], [[sy, 1n]])
  s.constrain(
    [[sy, 1n]],
    [[c1!, 1n]],
    [
      [z, 1n],
      [0, -2n],
    ],
  )
  const values = (av: bigint, bv: bigint, cv: [bigint, bigint]): Map<Wire, bigint> => {
    const tv = av * bv
    const uv = tv + 3n * cv[0] - cv[1] + 5n
    const sxv = uv + cv[0]
    return new Map<Wire, bigint>([
      [y, uv - 7n],
      [z, sxv * sxv * cv[1] + 2n],
      [a, av],
      [b, bv],
      [c0!, cv[0]],
      [c1!, cv[1]],
      [t, tv],
      [u, uv],
      [sy, sxv * sxv],
      [sx, sxv],
    ])
  }
  return { system: s, values }
}

describe('direct builder against circom (O1) on one circuit', () => {
  let dir: string
  let circom: NamedR1cs
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veriml-parity-'))
    await writeFile(join(dir, 'parity.circom'), CIRCUIT)
    await compileCircom(dir, { name: 'parity' })
    circom = await readCircomNamed(dir, 'parity')
  })

  it('has the same wires, constraints and counts, as sets of normalised constraints over signal names', () => {
    const ours = builderNamed(built().system)
    expect(compareR1cs(ours, circom)).toEqual({
      wireCounts: [11, 11],
      constraintCounts: [6, 6],
      onlyFirst: [],
      onlySecond: [],
      namesOnlyFirst: [],
      namesOnlySecond: [],
    })
    // circom's wire order after O1 is its label order (main's outputs, inputs, intermediates,
    // then each subcomponent's outputs, inputs, intermediates), which the builder followed.
    const names = (s: NamedR1cs) => Array.from({ length: s.r1cs.nVars }, (_, w) => s.nameOf(w))
    expect(names(ours)).toEqual(names(circom))
    expect([ours.r1cs.nOutputs, ours.r1cs.nPubInputs, ours.r1cs.nPrvInputs]).toEqual([
      circom.r1cs.nOutputs,
      circom.r1cs.nPubInputs,
      circom.r1cs.nPrvInputs,
    ])
  })

  it('finds a planted difference (the harness can fail)', () => {
    const report = compareR1cs(builderNamed(built(4n).system), circom)
    expect(report.onlyFirst).toHaveLength(1)
    expect(report.onlySecond).toHaveLength(1)
    expect(report.onlySecond[0]).toMatch(/^L: /)
  })

  it("each system is satisfied by the other's witness mapped through the signal names", async () => {
    const { system, values } = built()
    const ours = builderNamed(system)
    const calculator = await (
      createRequire(import.meta.url)(join(dir, 'parity_js', 'witness_calculator.js')) as (
        code: Buffer,
      ) => Promise<{ calculateWitness(input: unknown, sanityCheck: boolean): Promise<bigint[]> }>
    )(readFileSync(join(dir, 'parity_js', 'parity.wasm')))
    const theirWitness = (await calculator.calculateWitness({ a: 3, b: 4, c: [5, 6] }, true)).map(BigInt)
    expect(checkWitness(system, mapWitness(theirWitness, circom, ours))).toBeNull()
    const ourWitness = fillWitness(system, values(3n, 4n, [5n, 6n]))
    expect(violated(circom.r1cs, mapWitness(ourWitness, ours, circom))).toEqual([])
    // Not vacuous: a wrong value breaks circom's system too.
    ourWitness[system.wireCount - 1] = ourWitness[system.wireCount - 1]! + 1n
    expect(violated(circom.r1cs, mapWitness(ourWitness, ours, circom))).not.toEqual([])
  })
})

/** Copies and constants: circom's O1 removes them, so the builder declares no wire for them. */
const COPIES = `pragma circom 2.1.0;
template Sq() {
  signal input x;
  signal output y;
  y <== x * x;
}
template Copies() {
  signal input a;
  signal output y;
  signal k;
  signal u;
  signal v;
  k <== 5;
  u <== a * a + k;
  v <== u;
  component s = Sq();
  s.x <== v;
  y <== s.y + 1;
}
component main = Copies();
`

describe('circom O1 eliminations, as the builder must mirror them', () => {
  it('a signal equal to a constant or to another signal gets no wire; the lowest-numbered name of a copy class stays', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veriml-parity-copies-'))
    await writeFile(join(dir, 'copies.circom'), COPIES)
    await compileCircom(dir, { name: 'copies' })
    const circom = await readCircomNamed(dir, 'copies')
    const s = new ConstraintSystem()
    const y = s.signal('output', 'main.y')
    const a = s.signal('privateInput', 'main.a')
    // k (= 5) is folded into the constant term; v and s.x are copies of u and keep no wire.
    const u = s.signal('internal', 'main.u')
    const sy = s.signal('internal', 'main.s.y')
    s.constrain(
      [[a, 1n]],
      [[a, 1n]],
      [
        [u, 1n],
        [0, -5n],
      ],
    )
    s.constrain([[u, 1n]], [[u, 1n]], [[sy, 1n]])
    s.linear([
      [y, 1n],
      [sy, -1n],
      [0, -1n],
    ])
    const report = compareR1cs(builderNamed(s), circom)
    expect(report).toEqual({
      wireCounts: [5, 5],
      constraintCounts: [3, 3],
      onlyFirst: [],
      onlySecond: [],
      namesOnlyFirst: [],
      namesOnlySecond: [],
    })
  })
})
