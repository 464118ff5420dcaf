import { beforeAll, describe, expect, it } from 'vitest'
import { GadgetWitnessError } from '../../../../src/circuit/direct/gadgets/errors.js'
import { type LookupParams, lookup, lookupElement } from '../../../../src/circuit/direct/gadgets/lookup.js'
import { planLookup } from '../../../../src/circuit/lookup.js'
import { ConstraintSystem, type Wire } from '../../../../src/circuit/r1cs/system.js'
import { SCALAR_FIELD } from '../../../../src/util/field.js'
import {
  builderNamed,
  type Compiled,
  compareR1cs,
  compileWrapper,
  crossCheck,
  ourWitness,
  sameSystems,
  untamperable,
} from './harness.js'

/** A 256-entry table as a quantised sigmoid would give, planned by lookup.ts as the emitter plans it. */
const SIGMOID = Array.from({ length: 256 }, (_, i) => BigInt(Math.round(255 / (1 + Math.exp(-(i - 128) / 24)))))
const sigmoidPlan = planLookup({ offset: -128n, table: SIGMOID }, -128n, 127n)
if (sigmoidPlan.kind !== 'gadget') throw new Error('the sigmoid table should need the gadget')

interface Shape extends LookupParams {
  title: string
  /** Wires (y, hb, lb, p: 2A + B − 3) and constraints (2A + B): O1 removes nothing here. */
  wires: number
  constraints: number
}

const SHAPES: Shape[] = [
  {
    title: 'a generic table, N = A·B',
    ...{ N: 9, A: 3, B: 3, M: 1n, C: 0n, table: [5n, -3n, 8n, 0n, 2n, 9n, -7n, 1n, 4n] },
    wires: 1 + 2 + 2 + 1,
    constraints: 9,
  },
  {
    title: 'N < A·B (entries past N read 0) and a negative multiplier',
    ...{ N: 10, A: 3, B: 4, M: -1n, C: 9n, table: [2n, 7n, 1n, 8n, 2n, 8n, 1n, 8n, 2n, 8n] },
    wires: 1 + 2 + 3 + 1,
    constraints: 10,
  },
  {
    title: 'a step (A = 2, rows all 0 then all 1): y = hb[0], and circom keeps both',
    ...{ N: 6, A: 2, B: 3, M: 1n, C: 0n, table: [0n, 0n, 0n, 1n, 1n, 1n] },
    wires: 1 + 1 + 2,
    constraints: 7,
  },
  {
    title: 'rows equal up to a constant: p[0] = 5·hb[0] and p[1] = 0 linear, both kept, y linear',
    ...{ N: 12, A: 4, B: 3, M: 1n, C: 0n, table: [1n, 4n, 2n, 6n, 9n, 7n, 1n, 4n, 2n, 2n, 5n, 3n] },
    wires: 1 + 3 + 2 + 2,
    constraints: 11,
  },
  {
    title: 'row 1 = row 0 + 1: p[0] = hb[0], and circom keeps both',
    ...{ N: 9, A: 3, B: 3, M: 1n, C: 0n, table: [3n, 1n, 4n, 4n, 2n, 5n, 0n, 0n, 9n] },
    wires: 1 + 2 + 2 + 1,
    constraints: 9,
  },
  {
    title: `a 256-entry sigmoid as lookup.ts plans it (A = ${sigmoidPlan.A}, B = ${sigmoidPlan.B})`,
    ...{ N: sigmoidPlan.N, A: sigmoidPlan.A, B: sigmoidPlan.B, M: 1n, C: 128n, table: sigmoidPlan.entries },
    wires: 2 * sigmoidPlan.A + sigmoidPlan.B - 3,
    constraints: sigmoidPlan.constraints,
  },
]

function wrapper(s: Shape): string {
  return `template W() {
  signal input x;
  var T[${s.N}] = [${s.table.slice(0, s.N).join(', ')}];
  component c = Lookup(${s.N}, ${s.A}, ${s.B}, ${s.M}, ${s.C}, T);
  c.x <== x;
}
component main = W();`
}

function built(s: Shape) {
  const cs = new ConstraintSystem()
  const x = cs.signal('privateInput', 'main.x')
  const g = lookup(cs, 'main.c', x, s)
  return { cs, x, g }
}

const field = (v: bigint) => ((v % SCALAR_FIELD) + SCALAR_FIELD) % SCALAR_FIELD

describe.each(SHAPES)('Lookup against circom: $title', (shape) => {
  let compiled: Compiled
  beforeAll(async () => {
    compiled = await compileWrapper('lookup', wrapper(shape))
  })

  it('has the same wires and constraints, as multisets over signal names', () => {
    const { cs } = built(shape)
    expect([cs.wireCount - 2, cs.constraintCount]).toEqual([shape.wires, shape.constraints])
    expect(compareR1cs(builderNamed(cs), compiled.circom)).toEqual(sameSystems(cs, compiled.circom))
  })

  it("for every index, each witness satisfies the other's system with the same values and y = T[v]", async () => {
    const { cs, x, g } = built(shape)
    const step = shape.N > 16 ? 17 : 1
    for (let v = 0; v < shape.N; v += step) {
      const xv = (BigInt(v) - shape.C) / shape.M
      const ours = ourWitness(cs, [[x, xv]], [g.witness])
      const theirs = await compiled.witness({ x: field(xv).toString() })
      const check = crossCheck(cs, ours, compiled.circom, theirs)
      expect([check.oursViolations, check.theirsViolations]).toEqual([0, []])
      expect(check.theirsInOurs).toEqual(ours)
      expect(g.y.wire === null ? g.y.add : ours[g.y.wire]).toBe(field(shape.table[v]!))
      if (v === 1) expect(untamperable(cs, ours)).toEqual([])
    }
  })
})

describe('lookupElement (lookup.ts planning over wires)', () => {
  const op = { offset: -4n, table: [9n, 9n, 9n, 1n, 3n, 5n, 7n, 2n, 0n] }
  const setup = () => {
    const cs = new ConstraintSystem()
    return { cs, x: cs.signal('privateInput', 'main.x') }
  }

  it('a constant or affine slice of the table costs no wire and no constraint', () => {
    const { cs, x } = setup()
    // x = 2·w + 1 ∈ [−4, −2]: entries 9, 9, 9.
    expect(lookupElement(cs, 'main.k0', op, { wire: x, mul: 2n, add: 1n }, -4n, -2n)).toEqual({
      y: { wire: null, mul: 0n, add: 9n },
      gadget: null,
    })
    // x ∈ [−1, 2]: entries 1, 3, 5, 7 = 1 + 2·(x + 1), so y = 2·(2w + 1) + 3 = 4w + 5.
    expect(lookupElement(cs, 'main.k1', op, { wire: x, mul: 2n, add: 1n }, -1n, 2n).y).toEqual({
      wire: x,
      mul: 4n,
      add: 5n,
    })
    expect([cs.wireCount, cs.constraintCount]).toEqual([2, 0])
  })

  it('builds Lookup over the reachable slice otherwise, and its witness refuses an index outside it', () => {
    const { cs, x } = setup()
    const r = lookupElement(cs, 'main.k0', op, { wire: x, mul: 1n, add: 0n }, -1n, 4n)
    // N = 6 entries 1, 3, 5, 7, 2, 0: A = 2, B = 3, 2A + B = 7 constraints.
    expect(cs.constraintCount).toBe(7)
    const values = new Map<Wire, bigint>([[x, 3n]])
    r.gadget!.witness(values)
    expect(values.get(r.y.wire!)).toBe(2n)
    expect(() => r.gadget!.witness(new Map<Wire, bigint>([[x, 5n]]))).toThrow(GadgetWitnessError)
  })
})
