import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { planRequant } from '../../src/circuit/requant.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { violated } from '../helpers/r1cs.js'
import { HALF_UP_CASES, halfUpModel } from '../helpers/requant-models.js'

const CASES = HALF_UP_CASES
const model = halfUpModel

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
