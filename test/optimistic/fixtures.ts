import type { IrModel, PrimitiveOp, Step } from '../../src/ir/types.js'
import { denseLinear, inputTensor, relu, rng } from './models.js'

const quant = { scale: 1, zeroPoint: 0 }

function step(id: number, op: PrimitiveOp, size: number): Step {
  return { origin: `${op.op}_${id}`, op, output: { id, name: `t${id}`, shape: [size] } }
}

/** Fixed shapes for gas measurements over the ops that existed before max and lookup. */
export function legacyGasModel(): IrModel {
  const r = rng(3)
  const gather = {
    op: 'gather' as const,
    inputs: [2],
    index: Int32Array.from({ length: 8 }, (_, i) => (i === 7 ? 15 : 2 * i)),
    fill: 0n,
  }
  return {
    name: 'gas-legacy',
    inputs: [inputTensor(0, 36)],
    steps: [
      step(1, denseLinear([0], 36, 16, r), 16),
      step(2, relu(1, 3n, 9), 16),
      step(3, gather, 8),
      step(4, denseLinear([3], 8, 4, r), 4),
    ],
    outputs: [{ tensor: 4, name: 'out', quant }],
  }
}

/** The 256-entry table of `maxLookupModel` over the int8 lane: distinct, signed, with recognisable ends. */
export const INT8_TABLE = Array.from({ length: 256 }, (_, i) =>
  i === 0 ? -999n : i === 255 ? 999n : BigInt(((i * 37) % 201) - 100),
)
/** The clamp range of the half-even requant, and the domain of the table that reads it. */
export const CLAMP = { lo: -20n, hi: 20n }

/**
 * Every new primitive with its edge cases, on two int8 inputs (8 and 3 values):
 *   t2 = max over [in0, in1] (11 columns), rows [0,1] | [2,2,2] | [3,4,5,6] | [0..8] | [8,9,10] | [7]
 *   t3 = lookup in0 in INT8_TABLE (offset -128: the whole lane)
 *   t4 = requant half-even of in0: clamp(round(3x / 4), -20, 20) (x ≡ 2 mod 4 is a tie)
 *   t5 = lookup t4 in a 41-entry table over [-20, 20]
 *   t6 = linear over [t2, t3, t5]
 */
export function maxLookupModel(): IrModel {
  const r = rng(9)
  const rows = [[0, 1], [2, 2, 2], [3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6, 7, 8], [8, 9, 10], [7]]
  const rowPtr = Int32Array.from([0, ...rows.map((_, i) => rows.slice(0, i + 1).flat().length)])
  const max = { op: 'max' as const, inputs: [0, 1], rowPtr, cols: Int32Array.from(rows.flat()) }
  const requant = {
    op: 'requant' as const,
    inputs: [0] as [number],
    mul: 3n,
    shift: 2,
    zeroPoint: 0n,
    lo: CLAMP.lo,
    hi: CLAMP.hi,
    rounding: 'half-even' as const,
  }
  const small = Array.from({ length: 41 }, (_, i) => BigInt(i * i - 7 * i))
  return {
    name: 'max-lookup',
    inputs: [inputTensor(0, 8), inputTensor(1, 3)],
    steps: [
      step(2, max, rows.length),
      step(3, { op: 'lookup', inputs: [0], offset: -128n, table: INT8_TABLE }, 8),
      step(4, requant, 8),
      step(5, { op: 'lookup', inputs: [4], offset: CLAMP.lo, table: small }, 8),
      step(6, denseLinear([2, 3, 5], rows.length + 16, 3, r, 5), 3),
    ],
    outputs: [{ tensor: 6, name: 'out', quant }],
  }
}

/** Inputs of `maxLookupModel` that reach both ends of both tables, ties of both signs and negative, equal maxima. */
export const MAX_LOOKUP_INPUTS = [
  [-128n, 127n, -2n, -2n, -7n, -2n, 6n, 10n],
  [-1n, -1n, -100n],
]

/** Rows of a k×k max pool with stride `stride` and padding `pad` over an h×w map (padding left out of the rows). */
export function maxPoolRows(h: number, w: number, k: number, stride: number, pad: number): number[][] {
  const rows: number[][] = []
  for (let oy = 0; oy + k <= h + 2 * pad; oy += stride) {
    for (let ox = 0; ox + k <= w + 2 * pad; ox += stride) {
      const row: number[] = []
      for (let dy = 0; dy < k; dy++) {
        for (let dx = 0; dx < k; dx++) {
          const y = oy + dy - pad
          const x = ox + dx - pad
          if (y >= 0 && y < h && x >= 0 && x < w) row.push(y * w + x)
        }
      }
      rows.push(row)
    }
  }
  return rows
}

function maxOp(input: number, rows: number[][]): PrimitiveOp {
  const rowPtr = Int32Array.from([0, ...rows.map((_, i) => rows.slice(0, i + 1).flat().length)])
  return { op: 'max', inputs: [input], rowPtr, cols: Int32Array.from(rows.flat()) }
}

/**
 * A small CNN tail at realistic sizes for gas: 16×16 int8 map → 2×2/2 max pool (rows of 4) →
 * 3×3/1 max pool, padding 1, over 8×8 (rows of 4, 6 or 9) → 256-entry lookup → half-even
 * requant → linear 64 → 4.
 */
export function gasModel(): IrModel {
  const r = rng(4)
  const table = Array.from({ length: 256 }, (_, i) => BigInt(((i * 53) % 255) - 127))
  return {
    name: 'gas-max-lookup',
    inputs: [inputTensor(0, 256)],
    steps: [
      step(1, maxOp(0, maxPoolRows(16, 16, 2, 2, 0)), 64),
      step(2, maxOp(1, maxPoolRows(8, 8, 3, 1, 1)), 64),
      step(3, { op: 'lookup', inputs: [2], offset: -128n, table }, 64),
      step(
        4,
        { op: 'requant', inputs: [3], mul: 3n, shift: 2, zeroPoint: 0n, lo: -128n, hi: 127n, rounding: 'half-even' },
        64,
      ),
      step(5, denseLinear([4], 64, 4, r, 5), 4),
    ],
    outputs: [{ tensor: 5, name: 'out', quant }],
  }
}

/**
 * Products of input-dependent tensors on two int8 inputs (8 and 3 values):
 *   t2 = linear over in0 (4 values, up to ~2^17)
 *   t3 = mul over [in0, in1, t2] (15 columns): pairs (0,0) the same element twice, (1,8) in0·in1,
 *        (8,9) within in1, (11,14) within t2, (2,13) in0·t2, (9,7) in1·in0, (12,12) t2 squared
 *   t4 = mul over [t3]: (0,1) | (6,5) | (3,3): products of products (up to ~2^68)
 *   t5 = linear over [t3, t4]
 */
export const MUL_PAIRS: [number, number][] = [
  [0, 0],
  [1, 8],
  [8, 9],
  [11, 14],
  [2, 13],
  [9, 7],
  [12, 12],
]
export function mulModel(): IrModel {
  const r = rng(12)
  const mul1 = {
    op: 'mul' as const,
    inputs: [0, 1, 2],
    left: Int32Array.from(MUL_PAIRS, (p) => p[0]),
    right: Int32Array.from(MUL_PAIRS, (p) => p[1]),
  }
  const mul2 = { op: 'mul' as const, inputs: [3], left: Int32Array.from([0, 6, 3]), right: Int32Array.from([1, 5, 3]) }
  return {
    name: 'mul',
    inputs: [inputTensor(0, 8), inputTensor(1, 3)],
    steps: [
      step(2, denseLinear([0], 8, 4, r), 4),
      step(3, mul1, MUL_PAIRS.length),
      step(4, mul2, 3),
      step(5, denseLinear([3, 4], MUL_PAIRS.length + 3, 2, r, 3), 2),
    ],
    outputs: [{ tensor: 5, name: 'out', quant }],
  }
}

/**
 * One linear row summing 600 one-value inputs: its step header (one operand id a tensor) alone
 * is too large for a dispute transaction, so the budget check must refuse it, naming the step.
 */
export function manyOperandsModel(n = 600): IrModel {
  return {
    name: 'many-operands',
    inputs: Array.from({ length: n }, (_, i) => inputTensor(i, 1)),
    steps: [
      {
        origin: 'Concat_42',
        op: {
          op: 'linear',
          inputs: Array.from({ length: n }, (_, i) => i),
          rowPtr: Int32Array.from([0, n]),
          cols: Int32Array.from({ length: n }, (_, i) => i),
          vals: Array(n).fill(1n),
          bias: [0n],
        },
        output: { id: n, name: 'sum', shape: [1] },
      },
    ],
    outputs: [{ tensor: n, name: 'sum', quant }],
  }
}

/** The div step of `divIsqrtModel`: in0 (6) then t2 (3) as operand columns 0..8. */
export const DIV_PAIRS: [number, number][] = [
  [0, 6],
  [1, 6],
  [2, 6],
  [3, 7],
  [4, 6],
  [5, 6],
  [-1, 6],
  [-1, 8],
  [8, 6],
]
export const DIV_SHIFT = 2
/** t2 = [8, 1, 127]: with shift 2, a·4/8 is a tie for every odd a (-7, 127, 5, -1), either sign. */
export const DIV_ISQRT_INPUTS = [
  [-128n, 127n, -7n, 0n, 5n, -1n],
  [8n, -50n, 127n],
]

/**
 * div and isqrt on two int8 inputs (6 and 3 values):
 *   t2 = requant in1 clamped to [1, 127] (a divisor, ≥ 1 for every input of the lane)
 *   t3 = div over [in0, t2], shift 2, pairs DIV_PAIRS: a broadcast divisor (t2[0]), d = 1 (t2[1]
 *        for the fixed inputs), reciprocals (num -1), a quotient of two step-state elements (t2[2] / t2[0])
 *   t4 = requant 100·in0 clamped below at 0, t5 = isqrt t4 (10·in0 where in0 ≥ 0)
 *   t6 = linear over [t3, t5]
 */
export function divIsqrtModel(): IrModel {
  const r = rng(16)
  const clamp = {
    op: 'requant' as const,
    inputs: [1] as [number],
    mul: 1n,
    shift: 0,
    zeroPoint: 0n,
    lo: 1n,
    hi: 127n,
  }
  const div = {
    op: 'div' as const,
    inputs: [0, 2],
    num: Int32Array.from(DIV_PAIRS, (p) => p[0]),
    den: Int32Array.from(DIV_PAIRS, (p) => p[1]),
    shift: DIV_SHIFT,
  }
  // A clamp at 0, not x·x: the interval rule of mul does not know a square is ≥ 0.
  const nonNegative = { ...clamp, inputs: [0] as [number], mul: 100n, lo: 0n, hi: null }
  return {
    name: 'div-isqrt',
    inputs: [inputTensor(0, 6), inputTensor(1, 3)],
    steps: [
      step(2, clamp, 3),
      step(3, div, DIV_PAIRS.length),
      step(4, nonNegative, 6),
      step(5, { op: 'isqrt', inputs: [4] }, 6),
      step(6, denseLinear([3, 5], DIV_PAIRS.length + 6, 2, r, 3), 2),
    ],
    outputs: [{ tensor: 6, name: 'out', quant }],
  }
}
