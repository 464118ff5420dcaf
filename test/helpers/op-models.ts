/**
 * The max, lookup, mul and step-template test models: shared by the circom gadget tests
 * (test/circuit/max, lookup, mul, steps) and the direct backend's equivalence and tamper tests.
 */
import type { IrModel, LinearOp, LookupOp, Step } from '../../src/ir/types.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { int, tensor } from '../onnx/quantized-models.js'
import { randInt, rng } from './circuit.js'
import { type Params, rq } from './requant-models.js'

const span = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i)
const count = (n: number) => Array.from({ length: n }, (_, i) => i)
const q = { scale: 1, zeroPoint: 0 }

/**
 * Positions of the max op's operand vector (the concatenation of its inputs):
 *   0..5  x, int8 [-128, 127]          6..9  u, unsigned [0, 200]
 *   10    u0 + 300, in [300, 500]      11..16  3·x + 7 (a requant the bounds make linear)
 *   17    constant 0 (padding fill)    18    constant -1000
 */
export const MAX_ROWS: { name: string; cols: number[]; gadgets: number }[] = [
  { name: 'window 1', cols: [0], gadgets: 0 },
  { name: 'int8 pair', cols: [0, 1], gadgets: 1 },
  { name: 'window 3', cols: [0, 1, 2], gadgets: 2 },
  { name: 'window 4', cols: [2, 3, 4, 5], gadgets: 3 },
  { name: 'unsigned pair', cols: [6, 7], gadgets: 1 },
  { name: 'window 5, signed and unsigned', cols: [5, 6, 7, 8, 9], gadgets: 4 },
  { name: 'decided: u0 + 300 always wins', cols: [0, 10], gadgets: 0 },
  { name: 'decided: constant -1000 never wins', cols: [1, 18], gadgets: 0 },
  { name: 'max with constant 0 (ReLU)', cols: [2, 17], gadgets: 1 },
  { name: 'same signal twice', cols: [3, 3], gadgets: 0 },
  { name: 'affine operands 3x + 7', cols: [11, 12, 4], gadgets: 2 },
  { name: 'window 9 (3×3 pool)', cols: [0, 1, 2, 3, 4, 5, 6, 7, 8], gadgets: 8 },
  { name: 'decided: dominated operands dropped', cols: [6, 10, 0], gadgets: 0 },
]

export function maxModel(): IrModel {
  const steps: Step[] = [
    {
      origin: 'shift',
      output: { id: 2, name: 'big', shape: [1] },
      op: { op: 'linear', inputs: [1], rowPtr: Int32Array.of(0, 1), cols: Int32Array.of(0), vals: [1n], bias: [300n] },
    },
    {
      origin: 'affine',
      output: { id: 3, name: 'affine', shape: [6] },
      op: { op: 'requant', inputs: [0], mul: 3n, shift: 0, zeroPoint: 7n, lo: null, hi: null },
    },
    {
      origin: 'pad0',
      output: { id: 4, name: 'zero', shape: [1] },
      op: { op: 'gather', inputs: [0], index: Int32Array.of(-1), fill: 0n },
    },
    {
      origin: 'padlow',
      output: { id: 5, name: 'low', shape: [1] },
      op: { op: 'gather', inputs: [0], index: Int32Array.of(-1), fill: -1000n },
    },
    {
      origin: 'maxpool',
      output: { id: 6, name: 'y', shape: [MAX_ROWS.length] },
      op: {
        op: 'max',
        inputs: [0, 1, 2, 3, 4, 5],
        rowPtr: Int32Array.from([
          0,
          ...MAX_ROWS.map((_, i) => MAX_ROWS.slice(0, i + 1).reduce((s, r) => s + r.cols.length, 0)),
        ]),
        cols: Int32Array.from(MAX_ROWS.flatMap((r) => r.cols)),
      },
    },
  ]
  return {
    name: 'max-cases',
    inputs: [
      { id: 0, name: 'x', shape: [6], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n },
      { id: 1, name: 'u', shape: [4], quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: 200n },
    ],
    steps,
    outputs: [{ tensor: 6, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

/** tanh over the int8 domain, saturating at ±127 from |v| ≈ 70: not affine anywhere wide. */
export const TANH = { offset: -128n, table: span(-128, 127).map((v) => BigInt(Math.round(127 * Math.tanh(v / 16)))) }
/** Leaky ReLU: identity on v ≥ 0 (affine there), v / 8 rounded down below. */
export const LEAKY = {
  offset: -128n,
  table: span(-128, 127).map((v) => (v >= 0 ? BigInt(v) : BigInt(Math.floor(v / 8)))),
}
/** Unsigned domain [0, 300), squares mod 97: an unstructured table. */
export const SQUARES = { offset: 0n, table: span(0, 299).map((v) => BigInt((v * v) % 97) - 48n) }
export const SMALL = { offset: 0n, table: [0n, 5n, 1n] }

type Rq = Params

/**
 * Inputs: x int8 [4], u unsigned [0, 255] [1], k fixed at 5 [1]. Each case picks one
 * element, optionally requantises it into a sub-range, and looks it up.
 */
export const LOOKUP_CASES: {
  name: string
  src: number
  pre?: Rq
  table: Omit<LookupOp, 'op' | 'inputs'>
  plan: string
}[] = [
  { name: 'full int8 domain, 256 entries', src: 0, table: TANH, plan: 'gadget' },
  { name: 'full int8 domain, second element', src: 1, table: TANH, plan: 'gadget' },
  { name: 'partial domain [-5, 20]', src: 2, pre: rq({ shift: 2, lo: -5n, hi: 20n }), table: TANH, plan: 'gadget' },
  {
    name: '3 entries (A = B = 2)',
    src: 3,
    pre: rq({ shift: 6, lo: 0n, hi: 2n, zeroPoint: 1n }),
    table: SMALL,
    plan: 'gadget',
  },
  { name: 'unsigned [0, 255] of a 300-entry table', src: 4, table: SQUARES, plan: 'gadget' },
  { name: 'saturated range: constant', src: 0, pre: rq({ lo: 100n }), table: TANH, plan: 'constant' },
  { name: 'identity part of leaky ReLU: linear', src: 1, pre: rq({ shift: 1, lo: 0n }), table: LEAKY, plan: 'linear' },
  { name: 'one-value input: constant', src: 5, table: SQUARES, plan: 'constant' },
]

export function lookupModel(): IrModel {
  const steps: Step[] = [
    {
      origin: 'concat',
      output: { id: 3, name: 'all', shape: [6] },
      op: { op: 'gather', inputs: [0, 1, 2], index: Int32Array.from(span(0, 5)), fill: 0n },
    },
  ]
  let id = 4
  const outputs: number[] = []
  for (const c of LOOKUP_CASES) {
    const pick = id++
    steps.push({
      origin: c.name,
      output: { id: pick, name: `pick${pick}`, shape: [1] },
      op: { op: 'gather', inputs: [3], index: Int32Array.of(c.src), fill: 0n },
    })
    let src = pick
    if (c.pre) {
      src = id++
      steps.push({
        origin: c.name,
        output: { id: src, name: `pre${src}`, shape: [1] },
        op: { op: 'requant', inputs: [pick], ...c.pre },
      })
    }
    const out = id++
    steps.push({
      origin: c.name,
      output: { id: out, name: `lk${out}`, shape: [1] },
      op: { op: 'lookup', inputs: [src], ...c.table },
    })
    outputs.push(out)
  }
  return {
    name: 'lookup-cases',
    inputs: [
      { id: 0, name: 'x', shape: [4], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n },
      { id: 1, name: 'u', shape: [1], quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: 255n },
      { id: 2, name: 'k', shape: [1], quant: { scale: 1, zeroPoint: 0 }, lo: 5n, hi: 5n },
    ],
    steps,
    outputs: outputs.map((t) => ({ tensor: t, name: `y${t}`, quant: { scale: 1, zeroPoint: 0 } })),
  }
}

/**
 * Positions of the mul op's operand vector (the concatenation of its inputs):
 *   0..3 x, int8 [-128, 127]    4..5 u, unsigned [0, 200]
 *   6..9 3·x + 7 (a requant the bounds make linear)    10 constant 5
 */
export const MUL_PAIRS: { name: string; l: number; r: number; constant: boolean }[] = [
  { name: 'x0·u0', l: 0, r: 4, constant: false },
  { name: 'x1·u1', l: 1, r: 5, constant: false },
  { name: 'x2·x2 (same signal)', l: 2, r: 2, constant: false },
  { name: '(3x0+7)·x1 (affine operand)', l: 6, r: 1, constant: false },
  { name: 'u0·(3x0+7)', l: 4, r: 6, constant: false },
  { name: '5·x3 (linear)', l: 10, r: 3, constant: true },
  { name: '5·5 (constant)', l: 10, r: 10, constant: true },
  { name: 'x3·(3x3+7)', l: 3, r: 9, constant: false },
]
export const MUL_PRODUCTS = MUL_PAIRS.filter((p) => !p.constant).length

export function mulModel(): IrModel {
  const steps: Step[] = [
    {
      origin: 'affine',
      output: { id: 2, name: 'affine', shape: [4] },
      op: { op: 'requant', inputs: [0], mul: 3n, shift: 0, zeroPoint: 7n, lo: null, hi: null },
    },
    {
      origin: 'five',
      output: { id: 3, name: 'five', shape: [1] },
      op: { op: 'gather', inputs: [0], index: Int32Array.of(-1), fill: 5n },
    },
    {
      origin: 'mul',
      output: { id: 4, name: 'y', shape: [MUL_PAIRS.length] },
      op: {
        op: 'mul',
        inputs: [0, 1, 2, 3],
        left: Int32Array.from(MUL_PAIRS, (p) => p.l),
        right: Int32Array.from(MUL_PAIRS, (p) => p.r),
      },
    },
  ]
  return {
    name: 'mul-cases',
    inputs: [
      { id: 0, name: 'x', shape: [4], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n },
      { id: 1, name: 'u', shape: [2], quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: 200n },
    ],
    steps,
    outputs: [{ tensor: 4, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

/** Every constrained kind once: linear 6×8 → requant → max of pairs, tanh lookup, products; outputs gathered. */
export function stepsModel(): IrModel {
  const r = rng(5)
  const rowPtr = Int32Array.from(count(7), (j) => 8 * j)
  const cols = Int32Array.from(count(48), (k) => k % 8)
  const tanh = count(256).map((v) => BigInt(Math.round(127 * Math.tanh((v - 128) / 16))))
  return {
    name: 'steps',
    inputs: [{ id: 0, name: 'x', shape: [8], quant: q, lo: -128n, hi: 127n }],
    steps: [
      {
        origin: 'fc',
        output: { id: 1, name: 'fc', shape: [6] },
        op: {
          op: 'linear',
          inputs: [0],
          rowPtr,
          cols,
          vals: count(48).map(() => randInt(r, -3n, 3n)),
          bias: count(6).map(() => randInt(r, -50n, 50n)),
        },
      },
      {
        origin: 'rq',
        output: { id: 2, name: 'rq', shape: [6] },
        op: {
          op: 'requant',
          inputs: [1],
          mul: 1n,
          shift: 3,
          zeroPoint: 0n,
          lo: -128n,
          hi: 127n,
          rounding: 'half-even',
        },
      },
      {
        origin: 'pool',
        output: { id: 3, name: 'pool', shape: [3] },
        op: { op: 'max', inputs: [2], rowPtr: Int32Array.of(0, 2, 4, 6), cols: Int32Array.of(0, 1, 2, 3, 4, 5) },
      },
      {
        origin: 'tanh',
        output: { id: 4, name: 'tanh', shape: [6] },
        op: { op: 'lookup', inputs: [2], offset: -128n, table: tanh },
      },
      {
        origin: 'mul',
        output: { id: 5, name: 'mul', shape: [3] },
        op: { op: 'mul', inputs: [2], left: Int32Array.of(0, 1, 2), right: Int32Array.of(3, 4, 5) },
      },
      {
        origin: 'concat',
        output: { id: 6, name: 'y', shape: [12] },
        op: { op: 'gather', inputs: [3, 4, 5], index: Int32Array.from(count(12)), fill: 0n },
      },
    ],
    outputs: [{ tensor: 6, name: 'y', quant: q }],
  }
}

/** ONNX: Mul of a [1,4,3] and a [4,1] float input (broadcast), then Relu (mul.test.ts quantises it from samples). */
export function mulReluOnnx(): Uint8Array {
  return buildModel({
    name: 'mul-relu',
    opset: 13,
    inputs: [
      { name: 'a', shape: [1, 4, 3] },
      { name: 'b', shape: [4, 1] },
    ],
    outputs: [{ name: 'y', shape: [1, 4, 3] }],
    nodes: [
      { op: 'Mul', name: 'mul', inputs: ['a', 'b'], outputs: ['p'] },
      { op: 'Relu', name: 'relu', inputs: ['p'], outputs: ['y'] },
    ],
  })
}

/** ONNX: a QDQ Mul of two uint8 inputs with nonzero zero points (centred operands, half-even requant). */
export function qdqMulOnnx(): Uint8Array {
  const q = (x: string, y: string, p: string) => [
    { op: 'QuantizeLinear', name: `${y}_quant`, inputs: [x, `${p}_s`, `${p}_z`], outputs: [`${y}_q`] },
    { op: 'DequantizeLinear', name: `${y}_dequant`, inputs: [`${y}_q`, `${p}_s`, `${p}_z`], outputs: [y] },
  ]
  return buildModel({
    name: 'qdq-mul',
    opset: 13,
    inputs: [
      { name: 'x', shape: [2, 3] },
      { name: 'x2', shape: [3] },
    ],
    outputs: [{ name: 'y', shape: [2, 3] }],
    initializers: [
      { name: 'a_s', dims: [], data: Float32Array.of(0.02) },
      { name: 'a_z', dims: [], data: Uint8Array.of(120) },
      { name: 'b_s', dims: [], data: Float32Array.of(0.03) },
      { name: 'b_z', dims: [], data: Uint8Array.of(131) },
      { name: 'y_s', dims: [], data: Float32Array.of(0.05) },
      { name: 'y_z', dims: [], data: Uint8Array.of(128) },
    ],
    nodes: [
      ...q('x', 'a', 'a'),
      ...q('x2', 'b', 'b'),
      { op: 'Mul', name: 'mul', inputs: ['a', 'b'], outputs: ['p'] },
      ...q('p', 'y', 'y'),
    ],
  })
}

/** A small QDQ model: float input → Q → DQ → Conv (per-channel int8) → Relu → Q → DQ → MaxPool → Q → DQ → Gemm → Q → DQ → Sigmoid → Q → DQ. */
export function tinyQdq(): BuildModelParameters {
  const r = rng(21)
  const s = (name: string, v: number) => tensor(name, 'float32', [], [v])
  return {
    name: 'tiny-qdq',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 1, 5, 5] }],
    outputs: [{ name: 'y', shape: [1, 3] }],
    initializers: [
      s('s0', 0.0078125 * 1.37),
      tensor('z0', 'uint8', [], [128]),
      s('s1', 0.0213),
      tensor('z1', 'uint8', [], [0]),
      s('s2', 0.0371),
      tensor('z2', 'int8', [], [5]),
      s('s3', 1 / 256),
      tensor('z3', 'uint8', [], [0]),
      tensor(
        'w1',
        'int8',
        [2, 1, 3, 3],
        Array.from({ length: 18 }, () => int(r, -64, 63)),
      ),
      tensor('w1s', 'float32', [2], [0.0061, 0.0093]),
      tensor('w1z', 'int8', [2], [0, 0]),
      tensor(
        'w2',
        'int8',
        [8, 3],
        Array.from({ length: 24 }, () => int(r, -64, 63)),
      ),
      s('w2s', 0.0047),
      tensor('w2z', 'int8', [], [0]),
      tensor('b2', 'int32', [3], [120, -340, 15]),
      s('b2s', Math.fround(0.0213 * 0.0047)),
      tensor('b2z', 'int32', [], [0]),
    ],
    nodes: [
      { op: 'QuantizeLinear', name: 'q0', inputs: ['x', 's0', 'z0'], outputs: ['xq'] },
      { op: 'DequantizeLinear', name: 'dq0', inputs: ['xq', 's0', 'z0'], outputs: ['xd'] },
      {
        op: 'DequantizeLinear',
        name: 'dqw1',
        inputs: ['w1', 'w1s', 'w1z'],
        outputs: ['w1d'],
        attributes: { axis: { int: 0 } },
      },
      { op: 'Conv', name: 'conv', inputs: ['xd', 'w1d'], outputs: ['c'] },
      { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['rl'] },
      { op: 'QuantizeLinear', name: 'q1', inputs: ['rl', 's1', 'z1'], outputs: ['cq'] },
      { op: 'DequantizeLinear', name: 'dq1', inputs: ['cq', 's1', 'z1'], outputs: ['cd'] },
      {
        op: 'MaxPool',
        name: 'pool',
        inputs: ['cd'],
        outputs: ['p'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [1, 1] } },
      },
      { op: 'QuantizeLinear', name: 'q2', inputs: ['p', 's1', 'z1'], outputs: ['pq'] },
      { op: 'DequantizeLinear', name: 'dq2', inputs: ['pq', 's1', 'z1'], outputs: ['pd'] },
      { op: 'Flatten', name: 'flat', inputs: ['pd'], outputs: ['f'] },
      { op: 'DequantizeLinear', name: 'dqw2', inputs: ['w2', 'w2s', 'w2z'], outputs: ['w2d'] },
      { op: 'DequantizeLinear', name: 'dqb2', inputs: ['b2', 'b2s', 'b2z'], outputs: ['b2d'] },
      { op: 'Gemm', name: 'gemm', inputs: ['f', 'w2d', 'b2d'], outputs: ['g'] },
      { op: 'QuantizeLinear', name: 'q3', inputs: ['g', 's2', 'z2'], outputs: ['gq'] },
      { op: 'DequantizeLinear', name: 'dq3', inputs: ['gq', 's2', 'z2'], outputs: ['gd'] },
      { op: 'Sigmoid', name: 'sig', inputs: ['gd'], outputs: ['sg'] },
      { op: 'QuantizeLinear', name: 'q4', inputs: ['sg', 's3', 'z3'], outputs: ['sq'] },
      { op: 'DequantizeLinear', name: 'dq4', inputs: ['sq', 's3', 'z3'], outputs: ['y'] },
    ],
  }
}

/**
 * x[3] ∈ [-128, 127] → linear 3→4 (negative, zero and wide weights) → ReLU int8 → gather
 * with a constant fill (a constant operand of the next linear op) → linear 5→2.
 */
export function weightsModel(): IrModel {
  const lin = (inputs: number[], rows: bigint[][], bias: bigint[]): LinearOp => ({
    op: 'linear',
    inputs,
    bias,
    vals: rows.flat(),
    rowPtr: Int32Array.from({ length: rows.length + 1 }, (_, i) => rows.slice(0, i).reduce((s, r) => s + r.length, 0)),
    cols: Int32Array.from(rows.flatMap((r) => r.map((_, c) => c))),
  })
  return {
    name: 'weights-cases',
    inputs: [{ id: 0, name: 'x', shape: [3], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
    steps: [
      {
        origin: 'fc1',
        output: { id: 1, name: 'acc1', shape: [4] },
        op: lin(
          [0],
          [
            [37n, -21n, 5n],
            [-128n, 0n, 127n],
            [1n, 1n, 1n],
            [300n, -2n, 9n],
          ],
          [3n, -1000n, 0n, 77n],
        ),
      },
      {
        origin: 'relu1',
        output: { id: 2, name: 'a1', shape: [4] },
        op: { op: 'requant', inputs: [1], mul: 1n, shift: 6, zeroPoint: 0n, lo: 0n, hi: 127n },
      },
      {
        origin: 'pad',
        output: { id: 3, name: 'g', shape: [5] },
        op: { op: 'gather', inputs: [2], index: Int32Array.of(0, 1, -1, 2, 3), fill: 5n },
      },
      {
        origin: 'fc2',
        output: { id: 4, name: 'acc2', shape: [2] },
        op: lin(
          [3],
          [
            [3n, -4n, 7n, 1n, -1n],
            [-9n, 2n, -3n, 0n, 12n],
          ],
          [100000n, -5n],
        ),
      },
    ],
    outputs: [{ tensor: 4, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

/**
 * Positions of the main div op's operand vector (the concatenation of its inputs):
 *   0..3 x, int8 [-128, 127]    4..6 den = max(1, round(u/4)) for u ∈ [0, 255], so [1, 64]
 *   7 constant 7
 * Each case is one element num/den (num -1: the reciprocal 1/den).
 */
export const DIV_CASES: { name: string; num: number; den: number }[] = [
  { name: 'x0/den0', num: 0, den: 4 },
  { name: 'x1/den0 (one divisor, several numerators)', num: 1, den: 4 },
  { name: 'x2/den0', num: 2, den: 4 },
  { name: 'x3/den0', num: 3, den: 4 },
  { name: 'x0/den1', num: 0, den: 5 },
  { name: 'reciprocal 1/den2', num: -1, den: 6 },
  { name: 'x2/7 (constant divisor)', num: 2, den: 7 },
  { name: '7/den1 (constant numerator)', num: 7, den: 5 },
  { name: 'den0/den0 (the same signal twice)', num: 4, den: 4 },
  { name: '7/7 (both constant)', num: 7, den: 7 },
]

/** The div cases with shift 4, then a shift-0 reciprocal the bounds make constant (1/d for d ≥ 3) beside a gadget one. */
export function divModel(): IrModel {
  const clamp = (lo: bigint) => ({ mul: 1n, shift: 2, zeroPoint: 0n, lo, hi: null })
  return {
    name: 'div-cases',
    inputs: [
      { id: 0, name: 'x', shape: [4], quant: q, lo: -128n, hi: 127n },
      { id: 1, name: 'u', shape: [3], quant: q, lo: 0n, hi: 255n },
    ],
    steps: [
      { origin: 'den', output: { id: 2, name: 'den', shape: [3] }, op: { op: 'requant', inputs: [1], ...clamp(1n) } },
      {
        origin: 'seven',
        output: { id: 3, name: 'seven', shape: [1] },
        op: { op: 'gather', inputs: [0], index: Int32Array.of(-1), fill: 7n },
      },
      {
        origin: 'div',
        output: { id: 4, name: 'q', shape: [DIV_CASES.length] },
        op: {
          op: 'div',
          inputs: [0, 2, 3],
          num: Int32Array.from(DIV_CASES, (c) => c.num),
          den: Int32Array.from(DIV_CASES, (c) => c.den),
          shift: 4,
        },
      },
      { origin: 'den3', output: { id: 5, name: 'den3', shape: [3] }, op: { op: 'requant', inputs: [1], ...clamp(3n) } },
      {
        origin: 'recip',
        output: { id: 6, name: 'recip', shape: [2] },
        op: { op: 'div', inputs: [5, 2], num: Int32Array.of(-1, -1), den: Int32Array.of(0, 4), shift: 0 },
      },
    ],
    outputs: [
      { tensor: 4, name: 'q', quant: q },
      { tensor: 6, name: 'recip', quant: q },
    ],
  }
}

/**
 * Square roots of: v0 ∈ [0, 1000]; 3·v1 + 5 (an affine ref, root from 2); v0 clamped to
 * [100, 120] (one root: constant); v1 clamped to [0, 3] (a one-bit root from 0); x0² clamped to ≥ 0.
 */
export function isqrtModel(): IrModel {
  const rq = (lo: bigint | null, hi: bigint | null, mul = 1n, zeroPoint = 0n) => ({
    mul,
    shift: 0,
    zeroPoint,
    lo,
    hi,
  })
  return {
    name: 'isqrt-cases',
    inputs: [
      { id: 0, name: 'x', shape: [2], quant: q, lo: -128n, hi: 127n },
      { id: 1, name: 'v', shape: [2], quant: q, lo: 0n, hi: 1000n },
    ],
    steps: [
      {
        origin: 'affine',
        output: { id: 2, name: 'affine', shape: [2] },
        op: { op: 'requant', inputs: [1], ...rq(null, null, 3n, 5n) },
      },
      {
        origin: 'narrow',
        output: { id: 3, name: 'narrow', shape: [2] },
        op: { op: 'requant', inputs: [1], ...rq(100n, 120n) },
      },
      {
        origin: 'small',
        output: { id: 4, name: 'small', shape: [2] },
        op: { op: 'requant', inputs: [1], ...rq(0n, 3n) },
      },
      {
        origin: 'square',
        output: { id: 5, name: 'square', shape: [1] },
        op: { op: 'mul', inputs: [0], left: Int32Array.of(0), right: Int32Array.of(0) },
      },
      {
        origin: 'relu',
        output: { id: 6, name: 'sq0', shape: [1] },
        op: { op: 'requant', inputs: [5], ...rq(0n, null) },
      },
      {
        origin: 'pick',
        output: { id: 7, name: 'operands', shape: [5] },
        op: { op: 'gather', inputs: [1, 2, 3, 4, 6], index: Int32Array.of(0, 3, 4, 7, 8), fill: 0n },
      },
      { origin: 'isqrt', output: { id: 8, name: 'root', shape: [5] }, op: { op: 'isqrt', inputs: [7] } },
    ],
    outputs: [{ tensor: 8, name: 'root', quant: q }],
  }
}

/**
 * A normalisation in miniature, every new kind chained after a product: x int8 [4] → x² (mul)
 * → Σ x² (linear) → /4 clamped ≥ 0 (requant) → √ (isqrt) → ≥ 1 (requant) → x_i·2^4 / std (div,
 * one divisor for the row); outputs the quotients and the root.
 */
export function normModel(): IrModel {
  return {
    name: 'norm',
    inputs: [{ id: 0, name: 'x', shape: [4], quant: q, lo: -128n, hi: 127n }],
    steps: [
      {
        origin: 'square',
        output: { id: 1, name: 'sq', shape: [4] },
        op: { op: 'mul', inputs: [0], left: Int32Array.from(count(4)), right: Int32Array.from(count(4)) },
      },
      {
        origin: 'sum',
        output: { id: 2, name: 'sum', shape: [1] },
        op: {
          op: 'linear',
          inputs: [1],
          rowPtr: Int32Array.of(0, 4),
          cols: Int32Array.from(count(4)),
          vals: [1n, 1n, 1n, 1n],
          bias: [0n],
        },
      },
      {
        origin: 'var',
        output: { id: 3, name: 'var', shape: [1] },
        op: { op: 'requant', inputs: [2], mul: 1n, shift: 2, zeroPoint: 0n, lo: 0n, hi: null },
      },
      { origin: 'std', output: { id: 4, name: 'std', shape: [1] }, op: { op: 'isqrt', inputs: [3] } },
      {
        origin: 'clamp',
        output: { id: 5, name: 'den', shape: [1] },
        op: { op: 'requant', inputs: [4], mul: 1n, shift: 0, zeroPoint: 0n, lo: 1n, hi: null },
      },
      {
        origin: 'normalise',
        output: { id: 6, name: 'y', shape: [4] },
        op: { op: 'div', inputs: [0, 5], num: Int32Array.from(count(4)), den: Int32Array.of(4, 4, 4, 4), shift: 4 },
      },
    ],
    outputs: [
      { tensor: 6, name: 'y', quant: q },
      { tensor: 4, name: 'std', quant: q },
    ],
  }
}
