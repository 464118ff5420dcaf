import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { planPairMax } from '../../src/circuit/max.js'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel, Step } from '../../src/ir/types.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness, gadgetConstraints, instances, wireOf } from '../helpers/gadgets.js'
import { violated } from '../helpers/r1cs.js'

/**
 * Positions of the max op's operand vector (the concatenation of its inputs):
 *   0..5  x, int8 [-128, 127]          6..9  u, unsigned [0, 200]
 *   10    u0 + 300, in [300, 500]      11..16  3·x + 7 (a requant the bounds make linear)
 *   17    constant 0 (padding fill)    18    constant -1000
 */
const ROWS: { name: string; cols: number[]; gadgets: number }[] = [
  { name: 'window 1', cols: [0], gadgets: 0 },
  { name: 'int8 pair', cols: [0, 1], gadgets: 1 },
  { name: 'window 3', cols: [0, 1, 2], gadgets: 2 },
  { name: 'window 4', cols: [2, 3, 4, 5], gadgets: 3 },
  { name: 'unsigned pair', cols: [6, 7], gadgets: 1 },
  { name: 'window 5, signed and unsigned', cols: [5, 6, 7, 8, 9], gadgets: 4 },
  { name: 'decided: u0 + 300 always wins', cols: [0, 10], gadgets: 0 },
  { name: 'decided: constant -1000 never wins', cols: [1, 18], gadgets: 0 },
  { name: 'max with constant 0 (ReLU)', cols: [2, 17], gadgets: 1 },
  { name: 'same signal twice', cols: [3, 3], gadgets: 0 },
  { name: 'affine operands 3x + 7', cols: [11, 12, 4], gadgets: 2 },
  { name: 'window 9 (3×3 pool)', cols: [0, 1, 2, 3, 4, 5, 6, 7, 8], gadgets: 8 },
  { name: 'decided: dominated operands dropped', cols: [6, 10, 0], gadgets: 0 },
]

function model(): IrModel {
  const steps: Step[] = [
    {
      origin: 'shift',
      output: { id: 2, name: 'big', shape: [1] },
      op: { op: 'linear', inputs: [1], rowPtr: Int32Array.of(0, 1), cols: Int32Array.of(0), vals: [1n], bias: [300n] },
    },
    {
      origin: 'affine',
      output: { id: 3, name: 'affine', shape: [6] },
      op: { op: 'requant', inputs: [0], mul: 3n, shift: 0, zeroPoint: 7n, lo: null, hi: null },
    },
    {
      origin: 'pad0',
      output: { id: 4, name: 'zero', shape: [1] },
      op: { op: 'gather', inputs: [0], index: Int32Array.of(-1), fill: 0n },
    },
    {
      origin: 'padlow',
      output: { id: 5, name: 'low', shape: [1] },
      op: { op: 'gather', inputs: [0], index: Int32Array.of(-1), fill: -1000n },
    },
    {
      origin: 'maxpool',
      output: { id: 6, name: 'y', shape: [ROWS.length] },
      op: {
        op: 'max',
        inputs: [0, 1, 2, 3, 4, 5],
        rowPtr: Int32Array.from([
          0,
          ...ROWS.map((_, i) => ROWS.slice(0, i + 1).reduce((s, r) => s + r.cols.length, 0)),
        ]),
        cols: Int32Array.from(ROWS.flatMap((r) => r.cols)),
      },
    },
  ]
  return {
    name: 'max-cases',
    inputs: [
      { id: 0, name: 'x', shape: [6], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n },
      { id: 1, name: 'u', shape: [4], quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: 200n },
    ],
    steps,
    outputs: [{ tensor: 6, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

describe('max gadget', () => {
  const ir = model()
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  let witness: (inputs: bigint[][]) => Promise<bigint[]>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
    witness = await cachedWitness(circuit)
  })
  afterAll(shutdown)

  it('plans a pair from the bounds of a - b', () => {
    expect(planPairMax(0n, 10n)).toEqual({ kind: 'first' })
    expect(planPairMax(-10n, 0n)).toEqual({ kind: 'second' })
    expect(planPairMax(-255n, 255n)).toEqual({ kind: 'gadget', K: 8, constraints: 11 })
    expect(planPairMax(-1n, 256n)).toEqual({ kind: 'gadget', K: 9, constraints: 12 })
  })

  it('emits a balanced tree, nothing where the bounds decide', () => {
    const gadgets = instances(circuit.emitted.source, 'Max2')
    ROWS.forEach((r, i) =>
      expect(
        gadgets.filter((g) => g.name.startsWith(`mx6_${i}_`)),
        r.name,
      ).toHaveLength(r.gadgets),
    )
    // Window 9: ⌈log2 9⌉ = 4 levels; the tree's last gadget takes the 8-window root and x8.
    expect(circuit.emitted.source).toContain('mx6_11_7.a <== mx6_11_6.y;')
  })

  it('costs K + 3 constraints a pair, 11 for int8 operands, as planned', () => {
    const gadgets = instances(circuit.emitted.source, 'Max2')
    for (const g of gadgets) expect(gadgetConstraints(circuit, g.name), g.name).toBe(Number(g.args[0]) + 3)
    expect(gadgetConstraints(circuit, 'mx6_1_0')).toBe(11)
    expect(gadgetConstraints(circuit, 'mx6_1_0')).toBeLessThanOrEqual(12)
    expect(circuit.emitted.cost.max).toBe(gadgets.reduce((s, g) => s + Number(g.args[0]) + 3, 0))
    // The affine requant has no gadget: every counted activation is a pairwise max.
    expect(circuit.emitted.cost.activations).toBe(gadgets.length)
  })

  it('equals the reference executor exactly, at the domain corners, on ties and on random inputs', async () => {
    const r = rng(7)
    const corners: bigint[][][] = [
      [Array(6).fill(-128n), Array(4).fill(0n)],
      [Array(6).fill(127n), Array(4).fill(200n)],
      [
        [-128n, 127n, -128n, 127n, -128n, 127n],
        [200n, 0n, 200n, 0n],
      ],
      [
        [127n, -128n, 127n, -128n, 127n, -128n],
        [0n, 200n, 0n, 200n],
      ],
      [Array(6).fill(0n), Array(4).fill(0n)],
      [Array(6).fill(5n), Array(4).fill(5n)],
      [
        [-1n, 0n, 1n, -1n, 0n, 1n],
        [1n, 0n, 1n, 0n],
      ],
    ]
    const random = Array.from({ length: 40 }, () => [
      Array.from({ length: 6 }, () => randInt(r, -128n, 127n)),
      Array.from({ length: 4 }, () => randInt(r, 0n, 200n)),
    ])
    // The cached calculator computes what snarkjs computes.
    expect(await witness(corners[2])).toEqual(await circuit.witness(corners[2]))
    for (const x of [...corners, ...random]) {
      const w = await witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })

  it('rejects the smaller operand as the max, even with the bits recomposing to u', async () => {
    // mx6_1_0 = max(x0, x1), K = 8. For x0 > x1 the cheat clears s = bit 8 and moves its
    // weight into bit 0 (so Σ bit_i·2^i = u still), and outputs x1: only bit 0's boolean
    // check can catch it.
    const wire = (n: string) => wireOf(circuit, `main.mx6_1_0.${n}`)
    const x = [
      [40n, -30n, 0n, 0n, 0n, 0n],
      [0n, 0n, 0n, 0n],
    ]
    const w = await witness(x)
    expect(w[wire('bit[8]')]).toBe(1n)
    const t = [...w]
    t[wire('bit[8]')] = 0n
    t[wire('bit[0]')] = w[wire('bit[0]')] + 256n
    t[wire('y')] = circuit.r1cs.prime - 30n
    // y is lane 1 of out_packed[0]: it moves by (x1 - x0)·2^laneBits.
    const laneBits = BigInt(circuit.emitted.layout.outputs[0].laneBits)
    t[wireOf(circuit, 'main.out_packed[0]')] = w[wireOf(circuit, 'main.out_packed[0]')] - (70n << laneBits)
    const bad = violated(circuit.r1cs, t)
    expect(bad).toHaveLength(1)
    expect(
      circuit.r1cs.constraints[bad[0]].flat().every((term) => term.wire === 0 || term.wire === wire('bit[0]')),
    ).toBe(true)
  })

  it('rejects a witness with ANY single signal changed (every hint is constrained)', async () => {
    const inputs: bigint[][][] = [
      [
        [-77n, 101n, 13n, 13n, -128n, 127n],
        [200n, 3n, 3n, 0n],
      ],
      [Array(6).fill(-128n), Array(4).fill(200n)],
      [
        [5n, 5n, 5n, 5n, 5n, 5n],
        [5n, 5n, 5n, 5n],
      ],
    ]
    for (const x of inputs) expect(unconstrainedWires(circuit, await witness(x))).toEqual([])
  })
})
