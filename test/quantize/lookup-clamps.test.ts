import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel, RequantOp, Step } from '../../src/ir/types.js'
import { narrowLookupClamps } from '../../src/quantize/lookup-clamps.js'
import { randInt, rng } from '../helpers/circuit.js'

const q = { scale: 1, zeroPoint: 0 }

/**
 * x: [n] in [xlo, xhi] → requant (mul, shift, clamp [lo, hi]) → lookup over [lo, hi], whose
 * table is `table` (offset lo). `extraReader` adds a second step reading the requant.
 */
function model(
  n: number,
  [xlo, xhi]: [bigint, bigint],
  req: Pick<RequantOp, 'mul' | 'shift' | 'lo' | 'hi'>,
  table: bigint[],
  { extraReader = false, requantIsOutput = false } = {},
): IrModel {
  const steps: Step[] = [
    {
      origin: 'r',
      op: { op: 'requant', inputs: [0], zeroPoint: 0n, ...req },
      output: { id: 1, name: 'q', shape: [n] },
    },
    {
      origin: 't',
      op: { op: 'lookup', inputs: [1], offset: req.lo!, table },
      output: { id: 2, name: 'y', shape: [n] },
    },
  ]
  if (extraReader)
    steps.push({
      origin: 'e',
      op: {
        op: 'linear',
        inputs: [1],
        rowPtr: Int32Array.from([0, 1]),
        cols: Int32Array.from([0]),
        vals: [1n],
        bias: [0n],
      },
      output: { id: 3, name: 'z', shape: [1] },
    })
  return {
    name: 'lookup-clamps',
    inputs: [{ id: 0, name: 'x', shape: [n], quant: q, lo: xlo, hi: xhi }],
    steps,
    outputs: [
      { tensor: 2, name: 'y', quant: q },
      ...(requantIsOutput ? [{ tensor: 1, name: 'q', quant: q }] : []),
      ...(extraReader ? [{ tensor: 3, name: 'z', quant: q }] : []),
    ],
  }
}

/** A table over [lo, hi] constant below `a` and above `b` (a saturating activation). */
function saturating(lo: bigint, hi: bigint, a: bigint, b: bigint, r: () => number): bigint[] {
  const t: bigint[] = []
  for (let v = lo; v <= hi; v++) t.push(v <= a ? -7n : v >= b ? 9n : randInt(r, -50n, 50n))
  return t
}

const outputsOf = (m: IrModel, xs: bigint[]) => execute(m, [xs]).outputs

describe('narrowLookupClamps: a requant read only by a table clamps where the table stops varying', () => {
  it('changes no output on any input (exhaustive), and the clamp spans a power of two covering the varying part', () => {
    const r = rng(41)
    for (let t = 0; t < 60; t++) {
      const shift = Number(randInt(r, 0n, 4n))
      const a = randInt(r, -120n, 20n),
        b = a + randInt(r, 1n, 90n)
      const m = model(
        1,
        [-3000n, 3000n],
        { mul: randInt(r, 1n, 5n), shift, lo: -128n, hi: 127n },
        saturating(-128n, 127n, a, b, r),
      )
      const n = narrowLookupClamps(m)
      const op = n.steps[0].op as RequantOp
      const span = op.hi! - op.lo! + 1n
      expect(span & (span - 1n)).toBe(0n) // a power of two
      // The table varies at most on [a, b]: the clamp narrows to the power of two above that.
      let bound = 1n
      while (bound < b - a + 1n) bound <<= 1n
      expect(span).toBeLessThanOrEqual(bound < 256n ? bound : 256n)
      for (let x = -3000n; x <= 3000n; x += 7n) expect(outputsOf(n, [x])).toEqual(outputsOf(m, [x]))
      // The tensor the table reads is proven inside the new clamp: the circuit's table holds only that.
      const b1 = analyzeBounds(n).get(1)!
      expect(b1.lo[0] >= op.lo! && b1.hi[0] <= op.hi!).toBe(true)
    }
  })

  it('narrows a GELU-shaped table (zero below, saturated above) from 256 entries to 128', () => {
    const r = rng(3)
    const m = model(
      4,
      [-40000n, 40000n],
      { mul: 1n, shift: 8, lo: -128n, hi: 127n },
      saturating(-128n, 127n, -30n, 95n, r),
    )
    const op = narrowLookupClamps(m).steps[0].op as RequantOp
    expect([op.lo, op.hi]).toEqual([-30n, 97n])
  })

  it('keeps exactly the varying entries when the table varies up to its proven top (exp of x − max ≤ 0): a lower clamp only', () => {
    // exp(v/8) over [−127, 0] at 2^11: 0 from v = −67 down (exp(−67/8)·2048 = 0.47), varying above.
    const table = Array.from({ length: 128 }, (_, i) => BigInt(Math.round(Math.exp((i - 127) / 8) * 2048)))
    const m = model(3, [-255n, 0n], { mul: 1n, shift: 0, lo: -127n, hi: 0n }, table)
    const n = narrowLookupClamps(m)
    const op = n.steps[0].op as RequantOp
    const L = -67n
    expect([table[Number(L) + 127], table[Number(L) + 128]]).toEqual([0n, 1n])
    expect([op.lo, op.hi]).toEqual([L, 0n])
    for (let x = -255n; x <= 0n; x++) expect(outputsOf(n, [x, x, 0n])).toEqual(outputsOf(m, [x, x, 0n]))
    // The circuit's table is the reachable slice: 68 entries, not the 128 a power-of-two span would keep.
    const b1 = analyzeBounds(n).get(1)!
    expect([b1.lo[0], b1.hi[0]]).toEqual([L, 0n])
  })

  it('leaves a requant alone when another step or the model output reads it, or the table varies everywhere', () => {
    const r = rng(8)
    const table = saturating(-128n, 127n, -60n, 40n, r)
    const req = { mul: 1n, shift: 4, lo: -128n, hi: 127n }
    for (const flags of [{ extraReader: true }, { requantIsOutput: true }]) {
      const m = model(1, [-4000n, 4000n], req, table, flags)
      expect(narrowLookupClamps(m)).toBe(m)
    }
    const varying = Array.from({ length: 256 }, (_, i) => BigInt(i % 2))
    const m = model(1, [-4000n, 4000n], req, varying)
    expect(narrowLookupClamps(m)).toBe(m)
  })
})
