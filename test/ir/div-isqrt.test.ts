import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { OperandRangeError } from '../../src/ir/errors.js'
import { execute } from '../../src/ir/execute.js'
import { divValue, isqrtValue } from '../../src/ir/ops.js'
import type { IrModel, PrimitiveOp } from '../../src/ir/types.js'
import { randInt, rng } from '../helpers/circuit.js'

/** A two-input model (a: [n], d: [n]) with one step reading both. */
function model(op: PrimitiveOp, n: number, a: [bigint, bigint], d: [bigint, bigint]): IrModel {
  const input = (id: number, name: string, [lo, hi]: [bigint, bigint]) => ({
    id,
    name,
    shape: [n],
    quant: { scale: 1, zeroPoint: 0 },
    lo,
    hi,
  })
  return {
    name: 'div-isqrt',
    inputs: [input(0, 'a', a), input(1, 'd', d)],
    steps: [{ origin: 's', op, output: { id: 2, name: 'y', shape: [n] } }],
    outputs: [{ tensor: 2, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

describe('div: round(a · 2^shift / d), half up', () => {
  it('matches the rational definition on random operands, ties going up', () => {
    const r = rng(11)
    for (let t = 0; t < 2000; t++) {
      const a = randInt(r, -(1n << 40n), 1n << 40n),
        d = randInt(r, 1n, 1n << 20n),
        s = Number(randInt(r, 0n, 24n))
      const y = divValue(a, d, s)
      // |a·2^s/d - y| ≤ 1/2, and a tie (exactly 1/2 below) rounds up: 2·a·2^s - 2·y·d ∈ [-d, d).
      const twice = 2n * (a << BigInt(s)) - 2n * y * d
      expect(twice >= -d && twice < d).toBe(true)
    }
    expect([divValue(3n, 2n, 0), divValue(-3n, 2n, 0), divValue(5n, 2n, 0), divValue(-5n, 2n, 0)]).toEqual([
      2n,
      -1n,
      3n,
      -2n,
    ])
    expect(divValue(1n, 3n, 8)).toBe(85n) // 256/3 = 85.33
    expect(() => divValue(1n, 0n, 0)).toThrow(RangeError)
  })

  it('bounds hold every value, and a divisor that may be < 1 is refused with the step named', () => {
    const n = 4
    const op: PrimitiveOp = {
      op: 'div',
      inputs: [0, 1],
      num: Int32Array.from([0, 1, 2, -1]),
      den: Int32Array.from([4, 5, 6, 7]),
      shift: 6,
    }
    const m = model(op, n, [-300n, 200n], [3n, 90n])
    const b = analyzeBounds(m).get(2)!
    const r = rng(5)
    for (let t = 0; t < 300; t++) {
      const a = Array.from({ length: n }, () => randInt(r, -300n, 200n))
      const d = Array.from({ length: n }, () => randInt(r, 3n, 90n))
      const y = execute(m, [a, d]).values.get(2)!
      y.forEach((v, i) => {
        expect(v >= b.lo[i] && v <= b.hi[i]).toBe(true)
      })
      expect(y[3]).toBe(divValue(1n, d[3], 6))
    }
    // The bounds are attained (corners): element 0 is a0·64/d0 over a ∈ [-300, 200], d ∈ [3, 90].
    expect([b.lo[0], b.hi[0]]).toEqual([divValue(-300n, 3n, 6), divValue(200n, 3n, 6)])
    expect(() => analyzeBounds(model(op, n, [-300n, 200n], [0n, 90n]))).toThrow(OperandRangeError)
    expect(() => analyzeBounds(model(op, n, [-300n, 200n], [0n, 90n]))).toThrow(/step "s": divisor of element 0/)
  })
})

describe('isqrt: floor(√x)', () => {
  it('is exact on random and edge operands of any size', () => {
    const r = rng(12)
    const xs = [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, (1n << 200n) - 1n, 1n << 200n]
    for (let t = 0; t < 2000; t++) xs.push(randInt(r, 0n, 1n << BigInt(Number(randInt(r, 1n, 120n)))))
    for (const x of xs) {
      const y = isqrtValue(x)
      expect(y * y <= x && (y + 1n) * (y + 1n) > x).toBe(true)
    }
    expect(() => isqrtValue(-1n)).toThrow(RangeError)
  })

  it('bounds are floor(√lo), floor(√hi); a possibly negative operand is refused', () => {
    const m = model({ op: 'isqrt', inputs: [0] }, 2, [5n, 1000n], [1n, 1n])
    expect(analyzeBounds(m).get(2)).toEqual({ lo: [2n, 2n], hi: [31n, 31n] })
    expect(
      execute(m, [
        [5n, 1000n],
        [1n, 1n],
      ]).values.get(2),
    ).toEqual([2n, 31n])
    expect(() => analyzeBounds(model({ op: 'isqrt', inputs: [0] }, 2, [-1n, 9n], [1n, 1n]))).toThrow(
      /square-root operand of element 0 may take values in \[-1, 9\]/,
    )
  })
})

describe('mul bounds of a square', () => {
  it('x·x of one element is ≥ 0 (exactly [0, max²] across 0), so its root needs no clamp', () => {
    const sq = (lo: bigint, hi: bigint) =>
      analyzeBounds(
        model({ op: 'mul', inputs: [0], left: Int32Array.of(0), right: Int32Array.of(0) }, 1, [lo, hi], [1n, 1n]),
      ).get(2)
    expect(sq(-5n, 3n)).toEqual({ lo: [0n], hi: [25n] })
    expect(sq(2n, 3n)).toEqual({ lo: [4n], hi: [9n] })
    expect(sq(-7n, -2n)).toEqual({ lo: [4n], hi: [49n] })
    // Two different elements keep the corner rule: [-5, 3]·[-5, 3] spans [-15, 25].
    const two = analyzeBounds(
      model({ op: 'mul', inputs: [0], left: Int32Array.of(0), right: Int32Array.of(1) }, 2, [-5n, 3n], [1n, 1n]),
    ).get(2)!
    expect([two.lo[0], two.hi[0]]).toEqual([-15n, 25n])
  })
})
