import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { planRequant } from '../../src/circuit/requant.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel, RequantOp, Step } from '../../src/ir/types.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness, gadgetConstraints, instances, wireOf } from '../helpers/gadgets.js'
import { violated } from '../helpers/r1cs.js'

type Params = Omit<RequantOp, 'op' | 'inputs'>
const even = (p: Partial<Params>): Params => ({
  mul: 1n,
  shift: 0,
  zeroPoint: 0n,
  lo: null,
  hi: null,
  rounding: 'half-even',
  ...p,
})
const X0: bigint[] = [1n, 0n, 0n]

/**
 * Half-even requant in every gadget shape; most cases read x0 alone, which the test sweeps
 * over its whole int8 domain, so every tie of each case is hit, with both parities.
 */
const CASES: { name: string; row: bigint[]; bias: bigint; p: Params; parities: number }[] = [
  { name: 'shift 1: ties at every odd x (unsigned, HIMODE 0)', row: X0, bias: 0n, p: even({ shift: 1 }), parities: 2 },
  {
    name: 'mul 3, shift 2, zp -7, clamp [-20, 30] (SIGNED, HIMODE 2, PAR 1)',
    row: X0,
    bias: 0n,
    p: even({ mul: 3n, shift: 2, zeroPoint: -7n, lo: -20n, hi: 30n }),
    parities: 2,
  },
  {
    name: 'relu int8, shift 4 (SIGNED, HIMODE 1)',
    row: [37n, -21n, 5n],
    bias: 3n,
    p: even({ shift: 4, lo: 0n, hi: 127n }),
    parities: 2,
  },
  {
    name: 'upper clamp 2^J (unsigned, HIMODE 1)',
    row: X0,
    bias: 128n,
    p: even({ shift: 1, lo: -1000n, hi: 63n }),
    parities: 2,
  },
  {
    name: 'zp 5, upper clamp 20 (unsigned, HIMODE 2, PAR 1)',
    row: X0,
    bias: 4n,
    p: even({ shift: 2, zeroPoint: 5n, hi: 20n }),
    parities: 2,
  },
  {
    name: 'zp 3, clamp [-60, 60] (SIGNED, HIMODE 2, PAR 1)',
    row: X0,
    bias: 0n,
    p: even({ shift: 1, zeroPoint: 3n, lo: -60n, hi: 60n }),
    parities: 2,
  },
  { name: 'quotient always 0, a tie at -128: constant', row: X0, bias: 0n, p: even({ shift: 8 }), parities: 1 },
  { name: 'mul 5, shift 3, zp -2', row: X0, bias: 0n, p: even({ mul: 5n, shift: 3, zeroPoint: -2n }), parities: 2 },
  {
    name: 'mul divisible by 2^shift: no tie, half-up gadget',
    row: X0,
    bias: 0n,
    p: even({ mul: 4n, shift: 1 }),
    parities: 0,
  },
  {
    name: 'pure ReLU, shift 3 (SIGNED, HIMODE 0)',
    row: [37n, -21n, 5n],
    bias: 3n,
    p: even({ shift: 3, lo: 0n }),
    parities: 2,
  },
  { name: 'clamp the bounds prove constant', row: X0, bias: 1000n, p: even({ lo: -5n, hi: 20n }), parities: 0 },
]

function model(rounding: 'half-even' | 'half-up'): IrModel {
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
    const { rounding: _, ...p } = c.p
    steps.push({
      origin: c.name,
      output: { id: 2 + 2 * i, name: `pick${i}`, shape: [1] },
      op: { op: 'gather', inputs: [1], index: Int32Array.of(i), fill: 0n },
    })
    steps.push({
      origin: c.name,
      output: { id: 3 + 2 * i, name: `rq${i}`, shape: [1] },
      op: { op: 'requant', inputs: [2 + 2 * i], ...(rounding === 'half-even' ? c.p : p) },
    })
  })
  return {
    name: `requant-${rounding}`,
    inputs: [{ id: 0, name: 'x', shape: [3], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
    steps,
    outputs: CASES.map((_, i) => ({ tensor: 3 + 2 * i, name: `y${i}`, quant: { scale: 1, zeroPoint: 0 } })),
  }
}

const acc = (c: (typeof CASES)[number], x: bigint[]) => c.bias + c.row.reduce((s, w, k) => s + w * x[k], 0n)
/** A tie of x·mul/2^shift, and the parity of its half-up rounding (before the zero point). */
function tie(p: Params, x: bigint): { tie: boolean; odd: boolean } {
  const t = x * p.mul + (p.shift > 0 ? 1n << BigInt(p.shift - 1) : 0n)
  return { tie: p.shift > 0 && t % (1n << BigInt(p.shift)) === 0n, odd: ((t >> BigInt(p.shift)) & 1n) === 1n }
}

describe('half-even requant gadget', () => {
  const ir = model('half-even')
  const r = rng(5)
  // x0 sweeps int8; x1 and x2 random.
  const inputs = Array.from({ length: 256 }, (_, v) => [
    BigInt(v - 128),
    randInt(r, -128n, 127n),
    randInt(r, -128n, 127n),
  ])
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  let witness: (inputs: bigint[][]) => Promise<bigint[]>
  beforeAll(async () => {
    circuit = await buildCircuit(ir)
    witness = await cachedWitness(circuit)
  })
  afterAll(shutdown)

  it('covers every gadget shape, both parity offsets and the tie cases', () => {
    const bounds = analyzeBounds(ir)
    const plans = CASES.map((c, i) => planRequant(c.p, bounds.get(1)!.lo[i], bounds.get(1)!.hi[i]))
    const shapes = new Set(plans.map((p) => (p.kind === 'gadget' ? `${p.SIGNED}/${p.HIMODE}/${p.EVEN}` : p.kind)))
    expect([...shapes].sort()).toEqual(['0/0/0', '0/0/1', '0/1/1', '0/2/1', '1/0/1', '1/1/1', '1/2/1', 'constant'])
    expect(new Set(plans.map((p) => (p.kind === 'gadget' && p.EVEN ? p.PAR : null)))).toEqual(new Set([0, 1, null]))
    expect(plans[6]).toEqual({ kind: 'constant', value: 0n })
    // Ties with each parity of the half-up quotient, on negative and positive accumulators.
    CASES.forEach((c) => {
      const seen = new Set(
        inputs
          .map((x) => ({ a: acc(c, x), ...tie(c.p, acc(c, x)) }))
          .filter((t) => t.tie)
          .map((t) => `${t.odd}/${t.a < 0n}`),
      )
      expect(new Set([...seen].map((s) => s.split('/')[0])).size, c.name).toBe(c.parities)
      const signs = new Set(inputs.map((x) => acc(c, x) < 0n))
      if (c.parities === 2) expect(seen.size, c.name).toBe(2 * signs.size)
    })
  })

  it('equals the reference executor exactly on every x0 in int8', async () => {
    expect(await witness([inputs[3]])).toEqual(await circuit.witness([inputs[3]]))
    for (const x of inputs) {
      const w = await witness([x])
      const expected = await publicSignals(circuit.emitted.layout, [x], execute(ir, [x]).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })

  it('rejects a witness with ANY single signal changed, on ties of both parities', async () => {
    // x0 = 1, 3, -1, -3: ties of case 0 with even and odd half-up quotients; -128: case 6's tie.
    for (const x0 of [1n, 3n, -1n, -3n, -128n, 2n, 6n, 4n, 12n]) {
      expect(unconstrainedWires(circuit, await witness([[x0, 17n, -9n]]))).toEqual([])
    }
  })

  it('rejects the other rounding of a tie even when every other wire is made consistent with it', async () => {
    // Case 0 (shift 1, unsigned, no clamp): out_packed[0] = y = quotient of u' - BASE. The
    // cheat flips e, redecomposes u' = u - e, recomputes y and winv: only e's checks can fail.
    const p = circuit.r1cs.prime
    const inv = (a: bigint) => {
      let r = 1n,
        b = ((a % p) + p) % p,
        k = p - 2n
      while (k > 0n) {
        if (k & 1n) r = (r * b) % p
        b = (b * b) % p
        k >>= 1n
      }
      return r
    }
    const wire = (n: string) => wireOf(circuit, `main.rq3_0.${n}`)
    const eChecks = circuit.r1cs.constraints.flatMap((abc, i) =>
      abc.some((lc) => lc.some((t) => t.wire === wire('e') || t.wire === wire('winv'))) ? [i] : [],
    )
    for (const x0 of [1n, 3n, -1n, -3n, 5n, -5n]) {
      const w = await witness([[x0, 0n, 0n]])
      const t = [...w]
      const e = 1n - w[wire('e')]
      const u = w[wire('u')] - e
      for (let i = 0; i < 9; i++) t[wire(`bits.out[${i}]`)] = (u >> BigInt(i)) & 1n
      t[wire('bits.in')] = u
      t[wire('e')] = e
      t[wireOf(circuit, 'main.out_packed[0]')] = u >> 1n
      const par = (u >> 1n) & 1n // PAR = 0 for case 0
      const wv = (u & 1n) + (1n - par) * 2n + e * 4n
      t[wire('winv')] = wv === 0n ? 0n : inv(wv)
      expect(t[wireOf(circuit, 'main.out_packed[0]')]).not.toBe(w[wireOf(circuit, 'main.out_packed[0]')])
      const bad = violated(circuit.r1cs, t)
      expect(bad.length, `x0 = ${x0}`).toBeGreaterThan(0)
      expect(
        bad.every((i) => eChecks.includes(i)),
        `x0 = ${x0}`,
      ).toBe(true)
    }
  })

  it('costs 4 constraints more than half up (3 non-linear), as planned; half up as planned', async () => {
    const up = await buildCircuit(model('half-up'))
    const bounds = analyzeBounds(ir)
    const upGadgets = new Map(instances(up.emitted.source, 'Requant').map((g) => [g.name, g.args]))
    const evenGadgets = instances(circuit.emitted.source, 'Requant')
    expect(evenGadgets).toHaveLength(CASES.length - 2)
    for (const { name, args: evenArgs } of evenGadgets) {
      const g = { name, args: upGadgets.get(name)! }
      const i = Number(/^rq(\d+)_/.exec(g.name)![1]) / 2 - 1.5
      const extra = gadgetConstraints(circuit, g.name) - gadgetConstraints(up, g.name)
      const plan = planRequant(CASES[i].p, bounds.get(1)!.lo[i], bounds.get(1)!.hi[i])
      const upPlan = planRequant({ ...CASES[i].p, rounding: undefined }, bounds.get(1)!.lo[i], bounds.get(1)!.hi[i])
      expect(g.args.slice(6), g.name).toEqual(['0', '0'])
      expect(evenArgs.slice(0, 6), g.name).toEqual(g.args.slice(0, 6))
      expect(extra, CASES[i].name).toBe(evenArgs[6] === '1' ? 4 : 0)
      expect(extra).toBeLessThanOrEqual(10)
      expect(plan.kind === 'gadget' && upPlan.kind === 'gadget' && plan.constraints - upPlan.constraints).toBe(extra)
      // The half-up gadget as before: the count of the unchanged formula, measured.
      expect(upPlan.kind === 'gadget' && upPlan.constraints, g.name).toBe(gadgetConstraints(up, g.name))
      expect(plan.kind === 'gadget' && plan.constraints, g.name).toBe(gadgetConstraints(circuit, g.name))
    }
  })
})
