import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { planRequant } from '../../src/circuit/requant.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { cachedWitness, gadgetConstraints, instances, wireOf } from '../helpers/gadgets.js'
import { violated } from '../helpers/r1cs.js'
import { HALF_EVEN_CASES, halfEvenModel, type Params } from '../helpers/requant-models.js'

const CASES = HALF_EVEN_CASES
const model = halfEvenModel

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
