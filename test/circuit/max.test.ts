import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { planPairMax } from '../../src/circuit/max.js'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness, gadgetConstraints, instances, wireOf } from '../helpers/gadgets.js'
import { MAX_ROWS, maxModel } from '../helpers/op-models.js'
import { violated } from '../helpers/r1cs.js'

describe('max gadget', () => {
  const ir = maxModel()
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
    MAX_ROWS.forEach((r, i) =>
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
