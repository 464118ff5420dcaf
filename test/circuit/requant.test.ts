import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { planRequant } from '../../src/circuit/requant.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel, RequantOp, Step } from '../../src/ir/types.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { violated } from '../helpers/r1cs.js'

type Params = Omit<RequantOp, 'op' | 'inputs'>
const rq = (p: Partial<Params>): Params => ({ mul: 1n, shift: 0, zeroPoint: 0n, lo: null, hi: null, ...p })

/**
 * One model exercising every shape of the requant gadget: signed / unsigned base, each
 * upper-clamp mode, multipliers, zero points and a constant-folded clamp. Input x[3]:
 * x0 ∈ [-128, 127] (signed domain), then a linear layer making accumulators of several widths.
 */
const CASES: { name: string; row: bigint[]; bias: bigint; p: Params }[] = [
  { name: 'relu int8 (SIGNED, HIMODE 1)', row: [37n, -21n, 5n], bias: 3n, p: rq({ shift: 4, lo: 0n, hi: 127n }) },
  { name: 'clamp [-5, 20] (SIGNED, HIMODE 2)', row: [3n, 1n, -2n], bias: 0n, p: rq({ shift: 2, lo: -5n, hi: 20n }) },
  { name: 'pure ReLU (SIGNED, HIMODE 0)', row: [1n, 1n, 0n], bias: -7n, p: rq({ lo: 0n }) },
  { name: 'rescale only (unsigned, HIMODE 0)', row: [5n, 0n, 1n], bias: 0n, p: rq({ shift: 3 }) },
  { name: 'upper clamp 2^J (unsigned, HIMODE 1)', row: [1n, 0n, 0n], bias: 128n, p: rq({ lo: -1000n, hi: 127n }) },
  { name: 'upper clamp any (unsigned, HIMODE 2)', row: [1n, 0n, 0n], bias: 128n, p: rq({ hi: 200n }) },
  {
    name: 'mul 3, shift 5, zero point -7, int8',
    row: [90n, 77n, -13n],
    bias: 11n,
    p: rq({ mul: 3n, shift: 5, zeroPoint: -7n, lo: -128n, hi: 127n }),
  },
  { name: 'clamp the bounds prove constant', row: [1n, 0n, 0n], bias: 1000n, p: rq({ lo: -5n, hi: 20n }) },
]

function model(): IrModel {
  const steps: Step[] = []
  const n = CASES.length
  steps.push({
    origin: 'lin',
    output: { id: 1, name: 'acc', shape: [n] },
    op: {
      op: 'linear',
      inputs: [0],
      rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => 3 * i),
      cols: Int32Array.from({ length: 3 * n }, (_, i) => i % 3),
      vals: CASES.flatMap((c) => c.row),
      bias: CASES.map((c) => c.bias),
    },
  })
  CASES.forEach((c, i) => {
    steps.push({
      origin: c.name,
      output: { id: 2 + 2 * i, name: `pick${i}`, shape: [1] },
      op: { op: 'gather', inputs: [1], index: Int32Array.of(i), fill: 0n },
    })
    steps.push({
      origin: c.name,
      output: { id: 3 + 2 * i, name: `rq${i}`, shape: [1] },
      op: { op: 'requant', inputs: [2 + 2 * i], ...c.p },
    })
  })
  return {
    name: 'requant-cases',
    inputs: [{ id: 0, name: 'x', shape: [3], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
    steps,
    outputs: CASES.map((_, i) => ({ tensor: 3 + 2 * i, name: `y${i}`, quant: { scale: 1, zeroPoint: 0 } })),
  }
}

describe('requant gadget', () => {
  const ir = model()
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
  })
  afterAll(shutdown)

  it('covers every gadget shape', () => {
    const bounds = analyzeBounds(ir)
    const plans = CASES.map((c, i) => planRequant(c.p, bounds.get(1)!.lo[i], bounds.get(1)!.hi[i]))
    const shapes = new Set(plans.map((p) => (p.kind === 'gadget' ? `${p.SIGNED}/${p.HIMODE}` : p.kind)))
    expect([...shapes].sort()).toEqual(['0/0', '0/1', '0/2', '1/0', '1/1', '1/2', 'constant'])
  })

  it('equals the reference executor exactly, at the domain corners and on random inputs', async () => {
    const r = rng(1)
    const corners = [
      [-128n, -128n, -128n],
      [127n, 127n, 127n],
      [-128n, 127n, -128n],
      [127n, -128n, 127n],
      [0n, 0n, 0n],
    ]
    const inputs = [...corners, ...Array.from({ length: 40 }, () => [0, 1, 2].map(() => randInt(r, -128n, 127n)))]
    for (const x of inputs) {
      const w = await circuit.witness([x])
      const expected = await publicSignals(circuit.emitted.layout, [x], execute(ir, [x]).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })

  it('rejects a witness with ANY single signal changed (every hint is constrained)', async () => {
    for (const x of [
      [-77n, 101n, 13n],
      [127n, -128n, 127n],
      [-128n, 127n, -128n],
    ]) {
      expect(unconstrainedWires(circuit, await circuit.witness([x]))).toEqual([])
    }
  })

  it('rejects a wrong output: the public signals are determined by the input', async () => {
    const x = [[5n, -3n, 100n]]
    const w = await circuit.witness(x)
    const nPublic = circuit.emitted.layout.count
    for (let i = 1; i <= nPublic; i++) {
      const t = [...w]
      t[i] = t[i] + 1n
      expect(violated(circuit.r1cs, t).length).toBeGreaterThan(0)
    }
  })
})

describe('hashed visibility (Poseidon over the packed input and output)', () => {
  const ir = model()
  afterAll(shutdown)

  it('constrains every wire and commits to the exact input and output', async () => {
    const circuit = await buildCircuit(ir, { input: 'hashed', output: 'hashed' })
    const x = [[-77n, 101n, 13n]]
    const w = await circuit.witness(x)
    const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
    expect(expected).toHaveLength(2)
    expect(w.slice(1, 3)).toEqual(expected)
    expect(unconstrainedWires(circuit, w)).toEqual([])
  })
})
