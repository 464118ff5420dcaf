import { beforeAll, describe, expect, it } from 'vitest'
import { max2, pairMax } from '../../../../src/circuit/direct/gadgets/max2.js'
import type { AffineWire } from '../../../../src/circuit/direct/gadgets/values.js'
import { GadgetWitnessError } from '../../../../src/circuit/direct/gadgets/errors.js'
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

/** An operand: main input x or y (mul, add), or a constant. */
type Operand = { sig: 'x' | 'y'; mul: bigint; add: bigint } | { sig: null; add: bigint }

interface Shape {
  title: string
  K: number
  a: Operand
  b: Operand
  /** Input values to witness with: at least one where a' ≥ b' and one where a' < b'. */
  samples: { x?: bigint; y?: bigint }[]
}

const SHAPES: Shape[] = [
  {
    title: 'two signals (int8 operands)',
    K: 8,
    a: { sig: 'x', mul: 1n, add: 0n },
    b: { sig: 'y', mul: 1n, add: 0n },
    samples: [
      { x: 17n, y: -9n },
      { x: -128n, y: 127n },
    ],
  },
  {
    title: 'affine operands with negative offsets and multipliers',
    K: 10,
    a: { sig: 'x', mul: 3n, add: -5n },
    b: { sig: 'y', mul: -2n, add: 7n },
    samples: [
      { x: 100n, y: 20n },
      { x: -60n, y: 90n },
    ],
  },
  {
    title: 'a constant first operand (circom: c.a <== 0, MA = 0)',
    K: 4,
    a: { sig: null, add: 3n },
    b: { sig: 'y', mul: 1n, add: 0n },
    samples: [{ y: -5n }, { y: 10n }],
  },
  {
    title: 'a constant second operand',
    K: 5,
    a: { sig: 'x', mul: -2n, add: 1n },
    b: { sig: null, add: -4n },
    samples: [{ x: 2n }, { x: -7n }],
  },
  {
    title: 'both operands of one signal with different multipliers',
    K: 6,
    a: { sig: 'x', mul: 2n, add: 0n },
    b: { sig: 'x', mul: 1n, add: 3n },
    samples: [{ x: 5n }, { x: -20n }],
  },
]

const used = (s: Shape) => (['x', 'y'] as const).filter((n) => s.a.sig === n || s.b.sig === n)

function wrapper(s: Shape): string {
  const params = (o: Operand) => (o.sig === null ? `0, ${o.add}` : `${o.mul}, ${o.add}`)
  return `template W() {
${used(s)
  .map((n) => `  signal input ${n};`)
  .join('\n')}
  component c = Max2(${s.K}, ${params(s.a)}, ${params(s.b)});
  c.a <== ${s.a.sig ?? 0};
  c.b <== ${s.b.sig ?? 0};
}
component main = W();`
}

function built(s: Shape) {
  const cs = new ConstraintSystem()
  const wires = new Map(used(s).map((n) => [n, cs.signal('privateInput', `main.${n}`)]))
  const ref = (o: Operand): AffineWire =>
    o.sig === null ? { wire: null, mul: 0n, add: o.add } : { wire: wires.get(o.sig)!, mul: o.mul, add: o.add }
  const g = max2(cs, 'main.c', s.K, ref(s.a), ref(s.b))
  return { cs, wires, g }
}

const field = (v: bigint) => ((v % SCALAR_FIELD) + SCALAR_FIELD) % SCALAR_FIELD
const value = (o: Operand, x: { x?: bigint; y?: bigint }) => (o.sig === null ? o.add : o.mul * x[o.sig]! + o.add)

describe.each(SHAPES)('Max2 against circom: $title', (shape) => {
  let compiled: Compiled
  beforeAll(async () => {
    compiled = await compileWrapper('max2', wrapper(shape))
  })

  it('has the same wires and constraints (K + 3), as multisets over signal names', () => {
    const { cs } = built(shape)
    expect(cs.constraintCount).toBe(shape.K + 3)
    expect(compareR1cs(builderNamed(cs), compiled.circom)).toEqual(sameSystems(cs, compiled.circom))
  })

  it("each witness satisfies the other's system with the same values, y is the max, every wire is constrained", async () => {
    const { cs, wires, g } = built(shape)
    for (const sample of shape.samples) {
      const inputs = [...wires].map(([n, w]): [Wire, bigint] => [w, sample[n]!])
      const ours = ourWitness(cs, inputs, [g.witness])
      const theirs = await compiled.witness(
        Object.fromEntries(inputs.map(([w, v]) => [cs.nameOf(w).slice(5), field(v).toString()])),
      )
      const check = crossCheck(cs, ours, compiled.circom, theirs)
      expect([check.oursViolations, check.theirsViolations]).toEqual([0, []])
      expect(check.theirsInOurs).toEqual(ours)
      const [av, bv] = [value(shape.a, sample), value(shape.b, sample)]
      expect(ours[g.y]).toBe(field(av > bv ? av : bv))
      expect(untamperable(cs, ours)).toEqual([])
    }
  })
})

describe('pairMax (max.ts planning over wires)', () => {
  const setup = () => {
    const cs = new ConstraintSystem()
    const [x, y] = cs.signals('privateInput', 'main.v', 2)
    return { cs, x: x!, y: y! }
  }

  it('costs no wire and no constraint when the bounds decide the pair, and returns the larger operand', () => {
    const { cs, x, y } = setup()
    const a = { ref: { wire: x, mul: 1n, add: 0n }, lo: 10n, hi: 20n }
    const b = { ref: { wire: y, mul: 1n, add: 0n }, lo: -5n, hi: 10n }
    expect(pairMax(cs, 'main.m0', a, b)).toEqual({ ref: a.ref, lo: 10n, hi: 20n, gadget: null })
    expect(pairMax(cs, 'main.m1', b, a)).toEqual({ ref: a.ref, lo: 10n, hi: 20n, gadget: null })
    // One wire, one multiplier: the offsets decide, whatever the bounds.
    const shifted = { ref: { wire: x, mul: 1n, add: 3n }, lo: -100n, hi: 100n }
    expect(pairMax(cs, 'main.m2', shifted, { ...shifted, ref: { ...shifted.ref, add: 1n } }).ref).toEqual(shifted.ref)
    expect([cs.wireCount, cs.constraintCount]).toEqual([3, 0])
  })

  it('builds Max2 with the smallest K covering the bounds of a − b, and its witness refuses values outside them', () => {
    const { cs, x, y } = setup()
    const a = { ref: { wire: x, mul: 1n, add: 0n }, lo: -128n, hi: 127n }
    const r = pairMax(cs, 'main.m0', a, { ...a, ref: { wire: y, mul: 1n, add: 0n } })
    // a − b ∈ [−255, 255]: K = 8 (2^8 > 255), K + 3 = 11 constraints (veriml.circom's Max2 comment).
    expect(r.gadget?.bits).toHaveLength(9)
    expect([r.lo, r.hi, cs.constraintCount]).toEqual([-128n, 127n, 11])
    const values = new Map<Wire, bigint>([
      [x, 300n],
      [y, -1n],
    ])
    expect(() => r.gadget!.witness(values)).toThrow(GadgetWitnessError)
  })
})
