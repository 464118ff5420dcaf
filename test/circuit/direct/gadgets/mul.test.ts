import { beforeAll, describe, expect, it } from 'vitest'
import { mul } from '../../../../src/circuit/direct/gadgets/mul.js'
import type { AffineWire } from '../../../../src/circuit/direct/gadgets/values.js'
import { ConstraintSystem } from '../../../../src/circuit/r1cs/system.js'
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

/** An element: main input x or y as mul·sig + add, or a constant. */
type El = { sig: 'x' | 'y' | null; mul: bigint; add: bigint }
const sig = (s: 'x' | 'y', m = 1n, a = 0n): El => ({ sig: s, mul: m, add: a })
const k = (a: bigint): El => ({ sig: null, mul: 0n, add: a })

/** The circom text of an element, as lc.ts `combination` writes one ref. */
const text = (e: El) => {
  if (e.sig === null || e.mul === 0n) return `${e.add}`
  const t = e.mul === 1n ? e.sig : `${e.mul}*${e.sig}`
  return e.add === 0n ? t : e.add > 0n ? `${t} + ${e.add}` : `${t} - ${-e.add}`
}

const SHAPES = [
  {
    title: 'every element a product (affine operands, a square)',
    left: [sig('x', 2n, 1n), sig('x'), sig('y', -3n, 0n)],
    right: [sig('y', 1n, -3n), sig('x'), sig('x', 1n, 5n)],
    products: 3,
  },
  {
    title: 'constant factors in between (their elements get no wire)',
    left: [sig('x'), k(4n), sig('y', 5n, -1n), sig('x', 2n, 2n)],
    right: [sig('y'), sig('x', 3n, 1n), k(-2n), sig('y', -1n, 0n)],
    products: 2,
  },
]

/** The emitter's lines (gadgets.ts `mul`): the whole array declared, products assigned. */
function wrapper(left: El[], right: El[]): string {
  const lines = left.flatMap((a, i) => {
    const b = right[i]!
    if (a.sig === null || b.sig === null) return []
    return [`  m[${i}] <== (${text(a)}) * (${text(b)});`]
  })
  return `template W() {
  signal input x;
  signal input y;
  signal m[${left.length}];
${lines.join('\n')}
}
component main = W();`
}

function built(left: El[], right: El[]) {
  const cs = new ConstraintSystem()
  const x = cs.signal('privateInput', 'main.x')
  const y = cs.signal('privateInput', 'main.y')
  const ref = (e: El): AffineWire => ({ wire: e.sig === null ? null : e.sig === 'x' ? x : y, mul: e.mul, add: e.add })
  const g = mul(cs, 'main.m', left.map(ref), right.map(ref))
  return { cs, x, y, g }
}

const field = (v: bigint) => ((v % SCALAR_FIELD) + SCALAR_FIELD) % SCALAR_FIELD

describe.each(SHAPES)('mul against circom: $title', ({ left, right, products }) => {
  let compiled: Compiled
  beforeAll(async () => {
    compiled = await compileWrapper('mul', wrapper(left, right))
  })

  it('has the same wires and constraints (one per product)', () => {
    const { cs } = built(left, right)
    expect(cs.constraintCount).toBe(products)
    expect(compareR1cs(builderNamed(cs), compiled.circom)).toEqual(sameSystems(cs, compiled.circom))
  })

  it("each witness satisfies the other's system, outputs are the products, every wire is constrained", async () => {
    const { cs, x, y, g } = built(left, right)
    const [xv, yv] = [7n, -11n]
    const ours = ourWitness(
      cs,
      [
        [x, xv],
        [y, yv],
      ],
      [g.witness],
    )
    const theirs = await compiled.witness({ x: field(xv).toString(), y: field(yv).toString() })
    const check = crossCheck(cs, ours, compiled.circom, theirs)
    expect([check.oursViolations, check.theirsViolations]).toEqual([0, []])
    expect(check.theirsInOurs).toEqual(ours)
    const val = (e: El) => (e.sig === null ? e.add : e.mul * (e.sig === 'x' ? xv : yv) + e.add)
    const at = (r: AffineWire) => field(r.wire === null ? r.add : r.mul * ours[r.wire]! + r.add)
    expect(g.out.map(at)).toEqual(left.map((a, i) => field(val(a) * val(right[i]!))))
    expect(untamperable(cs, ours)).toEqual([])
  })
})
