import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel, Step } from '../../src/ir/types.js'
import { randInt, rng } from '../helpers/circuit.js'

const q = { scale: 1, zeroPoint: 0 }

/**
 * x: [2 rows × 4] in [lo, hi] → m = max of each row → one linear step whose outputs are the
 * given terms over [x, m] (x at 0..7, m at 8..9), each [col, weight][] plus a bias.
 */
function model(rows: { terms: [number, bigint][]; bias: bigint }[], [lo, hi] = [-128n, 127n]): IrModel {
  const rowPtr = [0]
  const cols: number[] = []
  const vals: bigint[] = []
  for (const r of rows) {
    for (const [c, w] of r.terms) {
      cols.push(c)
      vals.push(w)
    }
    rowPtr.push(cols.length)
  }
  const steps: Step[] = [
    {
      origin: 'max',
      op: { op: 'max', inputs: [0], rowPtr: Int32Array.of(0, 4, 8), cols: Int32Array.of(0, 1, 2, 3, 4, 5, 6, 7) },
      output: { id: 1, name: 'm', shape: [2] },
    },
    {
      origin: 'sub',
      op: {
        op: 'linear',
        inputs: [0, 1],
        rowPtr: Int32Array.from(rowPtr),
        cols: Int32Array.from(cols),
        vals,
        bias: rows.map((r) => r.bias),
      },
      output: { id: 2, name: 'c', shape: [rows.length] },
    },
  ]
  return {
    name: 'row-max',
    inputs: [{ id: 0, name: 'x', shape: [8], quant: q, lo, hi }],
    steps,
    outputs: [{ tensor: 2, name: 'c', quant: q }],
  }
}

const boundsOf = (m: IrModel) => {
  const b = analyzeBounds(m).get(2)!
  return b.lo.map((lo, i) => [lo, b.hi[i]])
}

describe('bounds of x − max over a row that holds x (softmax’s centred scores)', () => {
  it('are ≤ the bias for w·x − w·m (either term order), ≥ it for −w·x + w·m', () => {
    const m = model([
      {
        terms: [
          [0, 1n],
          [8, -1n],
        ],
        bias: 0n,
      },
      {
        terms: [
          [9, -3n],
          [6, 3n],
        ],
        bias: 5n,
      },
      {
        terms: [
          [2, -2n],
          [8, 2n],
        ],
        bias: -1n,
      },
    ])
    expect(boundsOf(m)).toEqual([
      [-255n, 0n],
      [-760n, 5n],
      [-1n, 509n],
    ])
  })

  it('stay interval bounds when x is not in the max’s row, the weights differ, or a third term or no max enters', () => {
    const m = model([
      // x[4] is in row 1, not row 0 (a masked position is left out of its row the same way).
      {
        terms: [
          [4, 1n],
          [8, -1n],
        ],
        bias: 0n,
      },
      {
        terms: [
          [0, 2n],
          [8, -1n],
        ],
        bias: 0n,
      },
      {
        terms: [
          [0, 1n],
          [8, -1n],
          [1, 1n],
        ],
        bias: 0n,
      },
      {
        terms: [
          [0, 1n],
          [1, -1n],
        ],
        bias: 0n,
      },
    ])
    expect(boundsOf(m)).toEqual([
      [-255n, 255n],
      [-383n, 382n],
      [-383n, 382n],
      [-255n, 255n],
    ])
  })

  it('hold on random inputs, and are reached (x at its row’s max gives exactly the bias)', () => {
    const m = model([
      {
        terms: [
          [1, 1n],
          [8, -1n],
        ],
        bias: 0n,
      },
      {
        terms: [
          [7, 2n],
          [9, -2n],
        ],
        bias: 3n,
      },
    ])
    const b = analyzeBounds(m).get(2)!
    const r = rng(5)
    const seen = new Set<bigint>()
    for (let t = 0; t < 300; t++) {
      const x = Array.from({ length: 8 }, () => randInt(r, -128n, 127n))
      if (t % 3 === 0) x[1] = 127n
      const c = execute(m, [x]).outputs[0]
      c.forEach((v, i) => expect(v >= b.lo[i] && v <= b.hi[i]).toBe(true))
      seen.add(c[0])
    }
    expect(seen.has(b.hi[0])).toBe(true)
  })
})
