/**
 * div and isqrt in both circuit backends: the direct build equals circom's (O1) on the div,
 * isqrt and normalisation models (chunked too), every wire of their witnesses is constrained,
 * planted cheats are caught by the one guard they must break, and a Groth16 proof verifies.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildDirect } from '../../../src/circuit/direct/build.js'
import { emitCircuit } from '../../../src/circuit/emit.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { publicSignals } from '../../../src/circuit/public.js'
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import { FieldOverflowError } from '../../../src/ir/errors.js'
import { execute } from '../../../src/ir/execute.js'
import type { IrModel } from '../../../src/ir/types.js'
import { devSetup } from '../../../src/prove/dev-setup.js'
import { writeSystemFiles, writeWitnessFile } from '../../../src/prove/r1cs-files.js'
import { shutdown } from '../../../src/shutdown.js'
import { SCALAR_FIELD as P } from '../../../src/util/field.js'
import { expectEquivalent, freeWires, inputsOf, without } from '../../helpers/direct-equivalence.js'
import { divModel, isqrtModel, normModel } from '../../helpers/op-models.js'
import { violated } from '../../helpers/r1cs.js'
import { builderNamed } from '../../helpers/r1cs-parity.js'
import { loadSnarkjs, terminateSnarkjs } from '../../helpers/tiny-circuit.js'

afterAll(async () => {
  await terminateSnarkjs()
  await shutdown()
})

const PUBLIC: Visibility = { input: 'public', output: 'public' }
const PRIVATE_IN: Visibility = { input: 'private', output: 'public' }

describe('direct backend = circom (O1) on div and isqrt', () => {
  it('div: broadcast divisor, reciprocal, constant divisor and numerator, same signal, constant plans', async () => {
    const ir = divModel()
    const inputs = inputsOf(ir, 4, 21, [
      [
        [-128n, 127n, -1n, 0n],
        [3n, 0n, 255n],
      ],
    ])
    await expectEquivalent(ir, PRIVATE_IN, inputs)
  })

  it('isqrt: from 0 and from an affine ref, a one-bit root (a copy after O1), a constant plan, a clamped square', async () => {
    const ir = isqrtModel()
    const inputs = inputsOf(ir, 4, 22, [
      [
        [0n, 1n],
        [1n, 3n],
      ],
      [
        [-128n, 5n],
        [999n, 2n],
      ],
    ])
    await expectEquivalent(ir, PRIVATE_IN, inputs)
  })

  it('a normalisation (mul → linear → requant → isqrt → requant → div): whole, hashed weights and chunked', async () => {
    const ir = normModel()
    const inputs = inputsOf(ir, 2, 23, [[[0n, 0n, 0n, 1n]], [[-128n, 127n, 0n, 5n]]])
    await expectEquivalent(ir, PUBLIC, inputs)
    const hashed = await expectEquivalent(ir, PUBLIC, inputs.slice(2, 3), undefined, { weights: 'hashed' })
    // Hashed weights keep every step in main: the gadgets are main's components.
    expect(hashed.some((n) => n.startsWith('main.dv6_0.'))).toBe(true)
    expect(hashed.some((n) => n.startsWith('main.sq4_0.'))).toBe(true)
    const names = await expectEquivalent(ir, PUBLIC, inputs.slice(3, 4), 200)
    // Not vacuous: the div step was split, a Div in a chunk past c0.
    expect(names.some((n) => /^main\.s6\.c[1-9]\.dv6_\d+\./.test(n))).toBe(true)
  })
})

function direct(ir: IrModel, x: bigint[][], visibility: Visibility = PUBLIC) {
  const built = buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility, inputs: x })
  const { system } = built
  const names = new Map(Array.from({ length: system.wireCount }, (_, w) => [system.nameOf(w), w]))
  /** The wire named `name` (it must exist: a renamed gadget signal fails here, not silently later). */
  const wire = (name: string): number => {
    expect(names.has(name), name).toBe(true)
    return names.get(name)!
  }
  return { ...built, witness: built.witness!, wire }
}

const mod = (v: bigint) => ((v % P) + P) % P

/**
 * Writes `value` into the hint bits `prefix[0..n)`: its binary digits above bit 0, and into
 * bit 0 whatever makes the recomposition equal `value` (not a bit when value ∉ [0, 2^n)), so
 * only that bit's boolean constraint can notice.
 */
function setBits(t: bigint[], wire: (name: string) => number, prefix: string, n: number, value: bigint): void {
  let high = 0n
  for (let i = 1; i < n; i++) {
    const b = (mod(value) >> BigInt(i)) & 1n
    t[wire(`${prefix}[${i}]`)] = b
    high += b << BigInt(i)
  }
  t[wire(`${prefix}[0]`)] = mod(value - high)
}

describe('div and isqrt witnesses: every wire constrained, cheats refused', () => {
  it.each([
    [
      'div, every case',
      divModel(),
      [
        [-128n, 127n, 5n, -77n],
        [255n, 0n, 41n],
      ],
    ],
    [
      'div, other corner',
      divModel(),
      [
        [127n, -128n, 0n, 1n],
        [0n, 255n, 13n],
      ],
    ],
    [
      'isqrt, every case',
      isqrtModel(),
      [
        [-128n, 77n],
        [1000n, 2n],
      ],
    ],
    [
      'isqrt, perfect squares and zeros',
      isqrtModel(),
      [
        [0n, 0n],
        [961n, 0n],
      ],
    ],
    ['normalisation', normModel(), [[-128n, 127n, 5n, -5n]]],
    ['normalisation, all zero (divisor clamped to 1)', normModel(), [[0n, 0n, 0n, 0n]]],
  ] as const)('%s: changing any single wire breaks a constraint', (_, ir, x) => {
    const { system, witness } = direct(
      ir,
      x.map((v) => [...v]),
    )
    expect(checkWitness(system, witness)).toBeNull()
    expect(freeWires(system, witness)).toEqual([])
  })

  it('div: y + 1 with r − 2d (the identity still holds) is caught by the remainder bits alone', () => {
    // x0 = 50, den0 = round(40/4) = 10: y = round(50·16/10) = 80, r = 2·800 + 10 − 20·80 = 10.
    const {
      system,
      witness: w,
      wire,
    } = direct(divModel(), [
      [50n, 0n, 0n, 0n],
      [40n, 0n, 0n],
    ])
    const g = 'main.s4.dv4_0'
    // Div(4, RB = 7, YB = 12, YLO = -2048): y is the step's o[0], lane 0 of out_packed[0].
    expect(w[wire('main.s4.o[0]')]).toBe(80n)
    const t = [...w]
    t[wire('main.s4.o[0]')] = 81n
    t[wire('main.out_packed[0]')] = mod(w[wire('main.out_packed[0]')]! + 1n)
    setBits(t, wire, `${g}.yb`, 12, 81n + 2048n)
    setBits(t, wire, `${g}.rb`, 7, 10n - 20n)
    setBits(t, wire, `${g}.sb`, 7, 2n * 10n - 1n - (10n - 20n))
    const bad = violated(builderNamed(system).r1cs, t)
    expect(bad).toHaveLength(1)
    expect(checkWitness(system, t)!.signals).toEqual(['one', `${g}.rb[0]`])
    // The guard is the one constraint between the cheat and a valid proof.
    expect(checkWitness(without(system, bad[0]!), t)).toBeNull()
  })

  it.each([
    [1n, ['rb', 'sb']],
    [-1n, ['sb']],
  ] as const)('isqrt: y %s, every other hint recomputed, is refused by the range checks', (delta, guards) => {
    // v0 = 500: y = 22, r = 500 − 484 = 16; Isqrt(YB = 5, W = 6, YLO = 0), y the step's o[0].
    const {
      system,
      witness: w,
      wire,
    } = direct(isqrtModel(), [
      [0n, 0n],
      [500n, 0n],
    ])
    const g = 'main.s8.sq8_0'
    expect(w[wire('main.s8.o[0]')]).toBe(22n)
    const y = 22n + delta
    const r = 500n - y * y
    const t = [...w]
    t[wire('main.s8.o[0]')] = y
    t[wire('main.out_packed[0]')] = mod(w[wire('main.out_packed[0]')]! + delta)
    setBits(t, wire, `${g}.yb`, 5, y)
    setBits(t, wire, `${g}.rb`, 6, r)
    setBits(t, wire, `${g}.sb`, 6, 2n * y - r)
    // Only booleans of the remainder checks break: r < 0 (y too big) and r > 2y (y too small).
    const broken = violated(builderNamed(system).r1cs, t).map((k) =>
      [...new Set(system.constraint(k).flatMap((lc) => lc.map(([w]) => system.nameOf(w))))].sort(),
    )
    expect(broken).toEqual(guards.map((b) => [`${g}.${b}[0]`, 'one']))
  })
})

/**
 * d ∈ [1, 2^dBits] over a ∈ [0, 2^aBits) with the given shift, and x ∈ [0, 2^xBits) for the
 * root; private inputs, so the system is the inputs' range checks and the gadgets.
 */
function widthModel(aBits: number, dBits: number, shift: number, xBits: number): IrModel {
  const input = (id: number, name: string, lo: bigint, hi: bigint) => ({
    id,
    name,
    shape: [1],
    quant: { scale: 1, zeroPoint: 0 },
    lo,
    hi,
  })
  return {
    name: 'widths',
    inputs: [
      input(0, 'a', 0n, (1n << BigInt(aBits)) - 1n),
      input(1, 'd', 1n, 1n << BigInt(dBits)),
      input(2, 'x', 0n, (1n << BigInt(xBits)) - 1n),
    ],
    steps: [
      {
        origin: 'div',
        output: { id: 3, name: 'q', shape: [1] },
        op: { op: 'div', inputs: [0, 1], num: Int32Array.of(0), den: Int32Array.of(1), shift },
      },
      { origin: 'isqrt', output: { id: 4, name: 'root', shape: [1] }, op: { op: 'isqrt', inputs: [2] } },
    ],
    outputs: [
      { tensor: 3, name: 'q', quant: { scale: 1, zeroPoint: 0 } },
      { tensor: 4, name: 'root', quant: { scale: 1, zeroPoint: 0 } },
    ],
  }
}

describe('constraints per element', () => {
  // Div: YB + 2·RB + 3 with RB = bits(2·dhi − 1), YB = bits(yhi − ylo); Isqrt: YB + 2·W + 3
  // with W = bits(2·yhi) (README). y = round(a·2^shift/d) ≤ 2^(aBits + shift) here.
  it.each([
    // aBits, dBits, shift, xBits → div (RB, YB), isqrt (YB, W)
    [10, 16, 0, 20, 17 + 17 + 10 + 3, 10 + 11 + 11 + 3],
    [8, 8, 8, 16, 9 + 9 + 16 + 3, 8 + 9 + 9 + 3],
    [16, 16, 16, 32, 17 + 17 + 32 + 3, 16 + 17 + 17 + 3],
  ] as const)('a < 2^%i, d ≤ 2^%i, shift %i, x < 2^%i: div %i, isqrt %i', (aBits, dBits, shift, xBits, div, isqrt) => {
    const ir = widthModel(aBits, dBits, shift, xBits)
    // Each output is one element from 0, packed alone: out_packed[k] <== y is a copy, no constraint.
    const visibility: Visibility = { input: 'private', output: 'public' }
    const bounds = analyzeBounds(ir)
    const { cost } = emitCircuit({ model: ir, bounds, visibility })
    expect([cost.div, cost.isqrt]).toEqual([div, isqrt])
    // The plans' counts are the system's: nothing else but the inputs' range checks, and the
    // link rc1.in <== d − 1 (d's lower bound is 1), which inputRangeChecks leaves out.
    const { system } = buildDirect({ model: ir, bounds, visibility })
    expect(system.constraintCount).toBe(cost.inputRangeChecks + 1 + div + isqrt)
  })
})

describe('field safety of the div identity', () => {
  /** a ∈ [0, 1] over d ∈ [2^200, 2^201] with the given shift: the quotient is small, 2^(shift+1)·a + d is not. */
  const wide = (shift: number, dhiBits = 201): IrModel => ({
    name: 'wide-div',
    inputs: [
      { id: 0, name: 'a', shape: [1], quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: 1n },
      { id: 1, name: 'd', shape: [1], quant: { scale: 1, zeroPoint: 0 }, lo: 1n << 200n, hi: 1n << BigInt(dhiBits) },
    ],
    steps: [
      {
        origin: 'div',
        output: { id: 2, name: 'q', shape: [1] },
        op: { op: 'div', inputs: [0, 1], num: Int32Array.of(0), den: Int32Array.of(1), shift },
      },
    ],
    outputs: [{ tensor: 2, name: 'q', quant: { scale: 1, zeroPoint: 0 } }],
  })

  it('analyzeBounds bounds 2^(shift+1)·a + d, not only the quotient', () => {
    expect(() => analyzeBounds(wide(237))).not.toThrow()
    expect(() => analyzeBounds(wide(239))).toThrow(FieldOverflowError)
    expect(() => analyzeBounds(wide(239))).toThrow(/step "q"/)
  })

  it('the Div plan refuses a quotient range that, times the divisor, could wrap the field', () => {
    // y ∈ [0, 2^39) (bits of y: 39) times 2·d ≤ 2^203: 242 bits, past SAFE_BITS = 240.
    const ir = wide(238, 202)
    const bounds = analyzeBounds(ir)
    expect(() => emitCircuit({ model: ir, bounds, visibility: PUBLIC })).toThrow(FieldOverflowError)
    expect(() => buildDirect({ model: ir, bounds, visibility: PUBLIC })).toThrow(FieldOverflowError)
  })
})

describe('a Groth16 proof of div and isqrt', () => {
  it('the normalisation model: a dev-setup proof from the direct r1cs and wtns verifies with the executor’s public signals', async () => {
    const ir = normModel()
    const x = [[-100n, 37n, 5n, 90n]]
    const { system, witness, layout } = direct(ir, x)
    const dir = await mkdtemp(join(tmpdir(), 'veriml-div-isqrt-'))
    const [r1csPath, wtnsPath, zkeyPath] = ['model.r1cs', 'model.wtns', 'model.zkey'].map((f) => join(dir, f))
    await writeSystemFiles({ system, r1csPath: r1csPath! })
    await writeWitnessFile(wtnsPath!, witness)
    await devSetup({ r1csPath: r1csPath!, zkeyPath: zkeyPath! })
    const snarkjs = await loadSnarkjs()
    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath!)
    const { proof, publicSignals: signals } = await snarkjs.groth16.prove(zkeyPath!, wtnsPath!)
    const expected = await publicSignals(layout, x, execute(ir, x).outputs)
    expect(signals).toEqual(expected.map(String))
    expect(await snarkjs.groth16.verify(vkey, signals, proof)).toBe(true)
    const wrong = [...signals]
    wrong[wrong.length - 1] = String(BigInt(wrong[wrong.length - 1]!) + 1n)
    expect(await snarkjs.groth16.verify(vkey, wrong, proof)).toBe(false)
  })
})
