import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emitCircuit } from '../../src/circuit/emit.js'
import { planLookup } from '../../src/circuit/lookup.js'
import { publicSignals } from '../../src/circuit/public.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { LookupDomainError } from '../../src/ir/errors.js'
import { execute } from '../../src/ir/execute.js'
import type { LookupOp } from '../../src/ir/types.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness, gadgetConstraints, instances, wireOf } from '../helpers/gadgets.js'
import { LOOKUP_CASES, lookupModel, SMALL, SQUARES, TANH } from '../helpers/op-models.js'
import { violated } from '../helpers/r1cs.js'

describe('lookup gadget', () => {
  const ir = lookupModel()
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  let witness: (inputs: bigint[][]) => Promise<bigint[]>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
    witness = await cachedWitness(circuit)
  })
  afterAll(shutdown)

  it('plans each case from the input bounds', () => {
    const bounds = analyzeBounds(ir)
    const lookups = ir.steps.filter((s) => s.op.op === 'lookup')
    expect(
      lookups.map((s) => {
        const b = bounds.get(s.op.inputs[0])!
        return planLookup(s.op as LookupOp, b.lo[0], b.hi[0]).kind
      }),
    ).toEqual(LOOKUP_CASES.map((c) => c.plan))
    expect(planLookup(TANH, -128n, 127n)).toMatchObject({ kind: 'gadget', N: 256, A: 10, B: 26, constraints: 46 })
    expect(planLookup(TANH, -5n, 20n)).toMatchObject({ kind: 'gadget', N: 26 })
    expect(planLookup(SMALL, 0n, 2n)).toMatchObject({ kind: 'gadget', N: 3, A: 2, B: 2, constraints: 6 })
  })

  it('refuses an input range that leaves the table domain', () => {
    expect(() => planLookup(TANH, -129n, 0n)).toThrow(LookupDomainError)
    expect(() => planLookup(SQUARES, 0n, 300n)).toThrow(LookupDomainError)
    // Bounds that leave the domain, given to the emitter directly: the error names the step.
    const bounds = analyzeBounds(ir)
    const input = ir.steps.find((s) => s.op.op === 'lookup')!.op.inputs[0]
    bounds.set(input, { lo: [-129n], hi: [0n] })
    expect(() => emitCircuit({ model: ir, bounds, visibility: { input: 'public', output: 'public' } })).toThrow(
      /step "full int8 domain, 256 entries": lookup input element 0 may take values in \[-129, 0\]/,
    )
  })

  it('costs 2A + B constraints, 46 for 256 entries, as planned', () => {
    const gadgets = instances(circuit.emitted.source, 'Lookup')
    expect(gadgets).toHaveLength(LOOKUP_CASES.filter((c) => c.plan === 'gadget').length)
    for (const g of gadgets)
      expect(gadgetConstraints(circuit, g.name), g.name).toBe(2 * Number(g.args[1]) + Number(g.args[2]))
    const full = gadgets.find((g) => g.args[0] === '256')!
    expect(gadgetConstraints(circuit, full.name)).toBe(46)
    expect(gadgetConstraints(circuit, full.name)).toBeLessThanOrEqual(52)
    expect(circuit.emitted.cost.lookup).toBe(gadgets.reduce((s, g) => s + 2 * Number(g.args[1]) + Number(g.args[2]), 0))
    // One table literal per distinct input range: the two full-domain cases share theirs.
    expect(circuit.emitted.source.match(/var lt\d+_\d+\[256\]/g)).toHaveLength(3)
  })

  it('equals the reference executor on every int8 value, and at corners and random points elsewhere', async () => {
    const r = rng(3)
    const inputs: bigint[][][] = []
    // x0 and x1 sweep the whole int8 domain between them; u sweeps its domain in steps.
    for (let v = 0; v < 128; v++)
      inputs.push([
        [BigInt(v - 128), BigInt(127 - v), randInt(r, -128n, 127n), randInt(r, -128n, 127n)],
        [BigInt((v * 2) % 256)],
        [5n],
      ])
    inputs.push(
      [[127n, -128n, 127n, 127n], [255n], [5n]],
      [[-128n, 127n, -128n, -128n], [0n], [5n]],
      [[0n, 0n, 0n, 0n], [1n], [5n]],
    )
    for (const x of inputs) {
      const w = await witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })

  it('rejects two rows whose indices add up to the right one, even with every product consistent', async () => {
    // Full-domain gadget lk5_0 (A = 10, B = 26): x0 = -45 is v = 83 = 3·26 + 5, row 3. The cheat
    // sets rows 1 and 2 instead (1 + 2 = 3 keeps v = B·h + l), recomputes the products and y:
    // only the boolean check of the implicit row 0 can catch it.
    const A = 10,
      B = 26,
      l = 5
    const wire = (n: string) => wireOf(circuit, `main.lk5_0.${n}`)
    const w = await witness([[-45n, 0n, 0n, 0n], [0n], [5n]])
    expect(w[wire('hb[2]')]).toBe(1n)
    const row = (h: number) => (h * B + l < 256 ? TANH.table[h * B + l] : 0n)
    const hb: bigint[] = Array.from({ length: A - 1 }, (_, k) => (k === 0 || k === 1 ? 1n : 0n))
    const t = [...w]
    hb.forEach((v, k) => {
      t[wire(`hb[${k}]`)] = v
    })
    for (let k = 0; k < A - 2; k++) t[wire(`p[${k}]`)] = hb[k] * (row(k + 1) - row(0))
    const y = row(0) + hb.reduce((s, v, k) => s + v * (row(k + 1) - row(0)), 0n)
    const p = circuit.r1cs.prime
    const delta = y - w[wire('y')]
    expect(delta).not.toBe(0n)
    t[wire('y')] = ((y % p) + p) % p
    t[wireOf(circuit, 'main.out_packed[0]')] = w[wireOf(circuit, 'main.out_packed[0]')] + delta
    const bad = violated(circuit.r1cs, t)
    expect(bad).toHaveLength(1)
    // The violated constraint is hsum·(1 - hsum) = 0: A and B hold hb wires only.
    const [ca, cb] = circuit.r1cs.constraints[bad[0]]
    const hbWires = new Set(hb.map((_, k) => wire(`hb[${k}]`)))
    expect([...ca, ...cb].every((term) => term.wire === 0 || hbWires.has(term.wire))).toBe(true)
  })

  it('rejects a witness with ANY single signal changed (every one-hot bit is determined)', async () => {
    // v at 0, N - 1 and row boundaries (multiples of B = 26) of the 256-entry gadget.
    for (const x of [
      [[-128n, 127n, -5n, 0n], [0n], [5n]],
      [[-102n, -103n, 100n, 127n], [255n], [5n]],
      [[-76n, 28n, 40n, -100n], [130n], [5n]],
    ]) {
      expect(unconstrainedWires(circuit, await witness(x))).toEqual([])
    }
  })
})
