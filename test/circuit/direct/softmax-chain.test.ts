/**
 * Softmax's centred scores in both circuit backends: x − max of a row holding x is proven ≤ 0
 * by the bounds (src/ir/bounds.ts), so the requant that clamps it into exp's table domain is
 * sized without the positive half. The direct build equals circom's, every wire of its witness
 * is constrained, and the executor's values come out on the rows' extremes.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { buildDirect } from '../../../src/circuit/direct/build.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { planRequant } from '../../../src/circuit/requant.js'
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import type { IrModel, RequantOp } from '../../../src/ir/types.js'
import { shutdown } from '../../../src/shutdown.js'
import { expectEquivalent, freeWires, inputsOf } from '../../helpers/direct-equivalence.js'
import { terminateSnarkjs } from '../../helpers/tiny-circuit.js'

afterAll(async () => {
  await terminateSnarkjs()
  await shutdown()
})

const PUBLIC: Visibility = { input: 'public', output: 'public' }
const q = { scale: 1, zeroPoint: 0 }

/**
 * x: 2 rows of 5 scores in [xlo, xhi] → m = row max → c = x − m (10 elements, ≤ 0) and
 * x[0] − m[1] (x[0] is not in row 1: interval bounds) → requant (shift) clamped to [lo, 0] →
 * exp table at 2^11. Int8 scores, or attention's exact product sums (ViT: ±2^18, shift 9).
 */
function softmaxChain({ xlo = -128n, xhi = 127n, shift = 0, lo = -9n } = {}): IrModel {
  const REQ: RequantOp = { op: 'requant', inputs: [2], mul: 1n, shift, zeroPoint: 0n, lo, hi: 0n }
  const cols: number[] = []
  const vals: bigint[] = []
  for (let c = 0; c < 10; c++) cols.push(c, 10 + Math.floor(c / 5))
  cols.push(0, 11)
  for (let k = 0; k < 11; k++) vals.push(1n, -1n)
  return {
    name: 'softmax-chain',
    inputs: [{ id: 0, name: 'x', shape: [10], quant: q, lo: xlo, hi: xhi }],
    steps: [
      {
        origin: 'max',
        op: {
          op: 'max',
          inputs: [0],
          rowPtr: Int32Array.of(0, 5, 10),
          cols: Int32Array.from({ length: 10 }, (_, i) => i),
        },
        output: { id: 1, name: 'm', shape: [2] },
      },
      {
        origin: 'centre',
        op: {
          op: 'linear',
          inputs: [0, 1],
          rowPtr: Int32Array.from({ length: 12 }, (_, j) => 2 * j),
          cols: Int32Array.from(cols),
          vals,
          bias: Array(11).fill(0n),
        },
        output: { id: 2, name: 'c', shape: [11] },
      },
      { origin: 'clamp', op: REQ, output: { id: 3, name: 'k', shape: [11] } },
      {
        origin: 'exp',
        op: {
          op: 'lookup',
          inputs: [3],
          offset: lo,
          table: Array.from({ length: Number(1n - lo) }, (_, i) =>
            BigInt(Math.round(Math.exp((i + Number(lo)) / 2) * 2048)),
          ),
        },
        output: { id: 4, name: 'e', shape: [11] },
      },
    ],
    outputs: [{ tensor: 4, name: 'e', quant: q }],
  }
}

const WIDE = { xlo: -260096n, xhi: 262144n, shift: 9, lo: -17n }

const CORNERS: bigint[][][] = [
  [Array(10).fill(-128n)],
  [Array(10).fill(127n)],
  [[127n, -128n, 3n, 3n, -9n, -128n, 127n, 0n, -1n, -10n]],
]

describe('x − max clamped into exp’s table domain', () => {
  it('is sized from the proven x − max ≤ 0: a lower clamp only, 11 constraints instead of interval bounds’ 25', () => {
    const ir = softmaxChain()
    const b = analyzeBounds(ir).get(2)!
    expect([b.lo[0], b.hi[0], b.lo[10], b.hi[10]]).toEqual([-255n, 0n, -255n, 255n])
    const op = ir.steps[2].op as RequantOp
    const plan = (lo: bigint, hi: bigint) => planRequant(op, lo, hi) as { constraints: number; HIMODE: number }
    expect([plan(-255n, 0n).HIMODE, plan(-255n, 0n).constraints]).toEqual([0, 11])
    // Interval bounds [−255, 255]: the upper clamp at 0 is a second range check (W + 1 = 10, no power of two).
    expect([plan(-255n, 255n).HIMODE, plan(-255n, 255n).constraints]).toEqual([2, 25])
  })

  it('direct backend = circom (O1), on random rows and corners', async () => {
    const ir = softmaxChain()
    await expectEquivalent(ir, PUBLIC, inputsOf(ir, 3, 9, CORNERS))
  })

  it('on exact score sums (±2^18, a 20-bit max, shift 9): direct backend = circom, every wire constrained', async () => {
    const ir = softmaxChain(WIDE)
    const x = [[[-260096n, 262144n, 262144n, 0n, 511n, -260096n, -260096n, 1n, 512n, 513n]]]
    await expectEquivalent(ir, PUBLIC, inputsOf(ir, 2, 4, x))
    const { system, witness } = buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility: PUBLIC, inputs: x[0] })
    expect(checkWitness(system, witness!)).toBeNull()
    expect(freeWires(system, witness!)).toEqual([])
  })

  it.each(CORNERS.map((x, i) => [i, x] as const))('corner %i: changing any single wire breaks a constraint', (_, x) => {
    const ir = softmaxChain()
    const { system, witness } = buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility: PUBLIC, inputs: x })
    expect(checkWitness(system, witness!)).toBeNull()
    expect(freeWires(system, witness!)).toEqual([])
  })
})
