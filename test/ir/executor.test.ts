import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { FieldOverflowError } from '../../src/ir/errors.js'
import { execute } from '../../src/ir/execute.js'
import { requantValue } from '../../src/ir/ops.js'
import type { IrModel } from '../../src/ir/types.js'
import { randInt, rng } from '../helpers/circuit.js'

const rq = { mul: 1n, shift: 2, zeroPoint: 0n, lo: null, hi: null }

describe('reference executor semantics', () => {
  it('requant rounds half up, floors negatives, and clamps', () => {
    // x/4: 5/4=1.25→1, 6/4=1.5→2, -6/4=-1.5→-1, -7/4=-1.75→-2
    expect([5n, 6n, -6n, -7n].map((x) => requantValue(x, rq))).toEqual([1n, 2n, -1n, -2n])
    expect(requantValue(1000n, { ...rq, lo: 0n, hi: 127n })).toBe(127n)
    expect(requantValue(-1000n, { ...rq, lo: 0n, hi: 127n })).toBe(0n)
    expect(requantValue(10n, { ...rq, mul: 3n, zeroPoint: -5n })).toBe(3n) // round(30/4)=8 → 8-5
  })

  it('keeps every value of random models within its proven bounds', () => {
    const r = rng(3)
    for (let trial = 0; trial < 20; trial++) {
      const n = 6,
        m = 5
      const model: IrModel = {
        name: 'random',
        inputs: [{ id: 0, name: 'x', shape: [n], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
        steps: [
          {
            origin: 'a',
            output: { id: 1, name: 'acc', shape: [m] },
            op: {
              op: 'linear',
              inputs: [0],
              rowPtr: Int32Array.from({ length: m + 1 }, (_, i) => i * n),
              cols: Int32Array.from({ length: m * n }, (_, i) => i % n),
              vals: Array.from({ length: m * n }, () => randInt(r, -127n, 127n)),
              bias: Array.from({ length: m }, () => randInt(r, -999n, 999n)),
            },
          },
          {
            origin: 'b',
            output: { id: 2, name: 'act', shape: [m] },
            op: {
              op: 'requant',
              inputs: [1],
              mul: randInt(r, 1n, 5n),
              shift: 1 + Math.floor(r() * 8),
              zeroPoint: randInt(r, -3n, 3n),
              lo: 0n,
              hi: 127n,
            },
          },
          {
            origin: 'c',
            output: { id: 3, name: 'mix', shape: [m + 1] },
            op: {
              op: 'gather',
              inputs: [2, 0],
              index: Int32Array.from({ length: m + 1 }, (_, i) => (i === m ? -1 : (i * 3) % (m + n))),
              fill: 7n,
            },
          },
        ],
        outputs: [{ tensor: 3, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
      }
      const bounds = analyzeBounds(model)
      for (let k = 0; k < 20; k++) {
        const x = Array.from({ length: n }, () => (k < 2 ? (k === 0 ? -128n : 127n) : randInt(r, -128n, 127n)))
        for (const [id, values] of execute(model, [x]).values) {
          values.forEach((v, i) => {
            expect(v >= bounds.get(id)!.lo[i] && v <= bounds.get(id)!.hi[i]).toBe(true)
          })
        }
      }
    }
  })

  it('refuses a model whose values could leave the safe field range', () => {
    const huge = 1n << 200n
    const model: IrModel = {
      name: 'overflow',
      inputs: [{ id: 0, name: 'x', shape: [2], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
      steps: [
        {
          origin: 'fc',
          output: { id: 1, name: 'fc:acc', shape: [1] },
          op: {
            op: 'linear',
            inputs: [0],
            rowPtr: Int32Array.of(0, 2),
            cols: Int32Array.of(0, 1),
            vals: [huge, huge],
            bias: [0n],
          },
        },
        {
          origin: 'fc2',
          output: { id: 2, name: 'fc2:acc', shape: [1] },
          op: {
            op: 'linear',
            inputs: [1],
            rowPtr: Int32Array.of(0, 1),
            cols: Int32Array.of(0),
            vals: [huge],
            bias: [0n],
          },
        },
      ],
      outputs: [{ tensor: 2, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => analyzeBounds(model)).toThrow(FieldOverflowError)
    expect(() => analyzeBounds(model)).toThrow(/step "fc2:acc": values may need \d+ bits/)
  })

  it('rejects inputs outside the declared domain or of the wrong size', () => {
    const model: IrModel = {
      name: 'id',
      inputs: [{ id: 0, name: 'x', shape: [2], quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: 9n }],
      steps: [],
      outputs: [{ tensor: 0, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => execute(model, [[1n, 10n]])).toThrow(/input "x": expected integers in \[0, 9\], found 10 at index 1/)
    expect(() => execute(model, [[1n]])).toThrow(/expected 2 values/)
  })
})
