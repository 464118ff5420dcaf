import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness, wireOf } from '../helpers/gadgets.js'
import { MUL_PAIRS, MUL_PRODUCTS, mulModel, mulReluOnnx, qdqMulOnnx } from '../helpers/op-models.js'
import { violated } from '../helpers/r1cs.js'
import { samples } from '../onnx/ort-diff.js'

describe('mul gadget', () => {
  const ir = mulModel()
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  let witness: (inputs: bigint[][]) => Promise<bigint[]>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
    witness = await cachedWitness(circuit)
  })
  afterAll(shutdown)

  it('costs one constraint per non-constant product, none for a constant factor', () => {
    expect(circuit.emitted.cost.mul).toBe(MUL_PRODUCTS)
    expect(circuit.emitted.cost.activations).toBe(0)
    const mWires = new Set([...circuit.sym].filter(([, n]) => /^main\.m4\[\d+\]$/.test(n)).map(([w]) => w))
    expect(mWires.size).toBe(MUL_PRODUCTS)
    // Each product signal is defined by one quadratic constraint A·B = m.
    const defining = circuit.r1cs.constraints.filter(
      ([a, b, c]) => a.length > 0 && b.length > 0 && c.some((t) => mWires.has(t.wire)),
    )
    expect(defining).toHaveLength(MUL_PRODUCTS)
    MUL_PAIRS.forEach((p, i) => expect(circuit.emitted.source.includes(`m4[${i}] <==`), p.name).toBe(!p.constant))
  })

  it('equals the reference executor exactly, at the domain corners and on random inputs', async () => {
    const r = rng(9)
    const corners: bigint[][][] = [
      [Array(4).fill(-128n), Array(2).fill(0n)],
      [Array(4).fill(127n), Array(2).fill(200n)],
      [
        [-128n, 127n, -128n, 127n],
        [200n, 0n],
      ],
      [Array(4).fill(-128n), Array(2).fill(200n)],
      [Array(4).fill(0n), Array(2).fill(0n)],
    ]
    const random = Array.from({ length: 30 }, () => [
      Array.from({ length: 4 }, () => randInt(r, -128n, 127n)),
      Array.from({ length: 2 }, () => randInt(r, 0n, 200n)),
    ])
    expect(await witness(corners[2])).toEqual(await circuit.witness(corners[2]))
    for (const x of [...corners, ...random]) {
      const w = await witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })

  it('rejects a wrong product, and a witness with ANY single signal changed', async () => {
    const x = [
      [-77n, 101n, 13n, -128n],
      [200n, 3n],
    ]
    const w = await witness(x)
    const t = [...w]
    // A consistent cheat: m4[0] + 1, and the packed output moved with it (lane 0 of out_packed[0], weight 1),
    // so only the product's own constraint can catch it (a hint written with <-- would pass).
    expect(circuit.emitted.layout.outputs[0].lanesPerElement).toBeGreaterThan(1)
    const m0 = wireOf(circuit, 'main.m4[0]'),
      out0 = wireOf(circuit, 'main.out_packed[0]')
    t[m0] = w[m0] + 1n
    t[out0] = w[out0] + 1n
    const bad = violated(circuit.r1cs, t)
    expect(bad).toHaveLength(1)
    const [a, b] = circuit.r1cs.constraints[bad[0]]
    expect(a.length > 0 && b.length > 0).toBe(true)
    for (const inp of [x, [Array(4).fill(-128n), Array(2).fill(200n)], [Array(4).fill(0n), Array(2).fill(0n)]]) {
      expect(unconstrainedWires(circuit, await witness(inp))).toEqual([])
    }
  })
})

describe('mul in a quantised float model ([1,4,3] × [4,1], then Relu)', () => {
  const bytes = mulReluOnnx()
  const graph = lowerOnnx(parseOnnx(bytes))
  const r = rng(4)
  const ir = quantize(graph, samples(r, graph.inputs, 16))
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
  })
  afterAll(shutdown)

  it("proves the executor's output with 12 product constraints", async () => {
    expect(ir.steps.map((s) => s.op.op)).toEqual(['mul', 'requant'])
    expect(circuit.emitted.cost.mul).toBe(12)
    for (const s of samples(r, graph.inputs, 6, -0.5, 0.5)) {
      const x = quantizeInputs(ir.inputs, s)
      const w = await circuit.witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
    expect(
      unconstrainedWires(
        circuit,
        await circuit.witness(quantizeInputs(ir.inputs, samples(r, graph.inputs, 1, -0.5, 0.5)[0])),
      ),
    ).toEqual([])
  })
})

describe('mul in a QDQ model (uint8, nonzero zero points: centred operands, half-even requant)', () => {
  const bytes = qdqMulOnnx()
  const ir = quantize(lowerOnnx(parseOnnx(bytes)), [])
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
  })
  afterAll(shutdown)

  it("proves the executor's output: 6 products, every signal constrained", async () => {
    // Centring (q - z) of each operand, the product, then the QuantizeLinear's folded multiplier and its requant.
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'linear', 'mul', 'linear', 'requant'])
    expect(circuit.emitted.cost.mul).toBe(6)
    const r = rng(12)
    const xs = [
      [Array(6).fill(0n), Array(3).fill(0n)],
      [Array(6).fill(255n), Array(3).fill(255n)],
      [Array(6).fill(0n), Array(3).fill(255n)],
      ...Array.from({ length: 8 }, () => [
        Array.from({ length: 6 }, () => randInt(r, 0n, 255n)),
        Array.from({ length: 3 }, () => randInt(r, 0n, 255n)),
      ]),
    ]
    for (const x of xs) {
      const w = await circuit.witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
    expect(unconstrainedWires(circuit, await circuit.witness(xs[3]))).toEqual([])
  })
})
