import { roundHalfEven } from '../graph.js'
import { sizeOf } from '../graph.js'
import { LeakyRelu, Sigmoid } from './activation.js'
import { AveragePool, Conv, GlobalAveragePool } from './conv.js'
import { Gemm, MatMul, elementwise } from './linear.js'
import { Concat } from './movement.js'
import {
  type ConstSym,
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  emit,
  fresh,
  linear,
  materialize,
  need,
  needConst,
  normalizeAxis,
  attrNum,
  shapeOf,
} from './common.js'

/**
 * Quantised ONNX: QDQ (QuantizeLinear / DequantizeLinear around float ops) and QOperator
 * (QLinearConv, QLinearMatMul, MatMulInteger, ConvInteger, com.microsoft QLinearAdd) forms.
 *
 * The float graph stays integer-valued at quantisation boundaries, exactly as ONNX defines
 * them: QuantizeLinear of an input-dependent tensor is a 'quant' step whose values are the
 * integers themselves; DequantizeLinear is the affine map (q - zp)·scale, which composes
 * with the following constant linear ops; a QOperator op is DequantizeLinear of its operands,
 * the float op, then QuantizeLinear. src/quantize/fixed.ts turns this into the integer IR
 * with the model's own scales.
 */

// TensorProto.DataType codes of the integer types QuantizeLinear may produce here.
const UINT8 = 2,
  INT8 = 3,
  INT32 = 6
const RANGE: Record<number, [number, number]> = { [UINT8]: [0, 255], [INT8]: [-128, 127] }
const TYPE_NAME: Record<number, string> = {
  1: 'float',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  10: 'float16',
  11: 'double',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  21: 'uint4',
  22: 'int4',
}

/** Scale and zero point of one (De)QuantizeLinear, per tensor (length 1) or along `axis`. */
interface QuantParams {
  scale: Float64Array
  zeroPoint: Float64Array
  /** TensorProto.DataType of the quantised side (the zero point's type; uint8 when absent). */
  dataType: number
  /** Normalised axis of a per-axis parameter, or null per tensor. */
  axis: number | null
}

function params(
  ctx: Ctx,
  x: Sym,
  scaleIn: Sym | undefined,
  zpIn: Sym | undefined,
  what: string,
  axisAttr = attrNum(ctx, 'axis', 1),
): QuantParams {
  if (attrNum(ctx, 'block_size', 0) !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: 'blocked quantisation (block_size) is not supported',
      details: ['Use per-tensor or per-axis scales.'],
    })
  const scale = needConst(ctx, scaleIn, `${what} scale`)
  for (const s of scale.data)
    if (!(s > 0) || !Number.isFinite(s))
      throw new LoweringError({ node: ctx.node, problem: `${what} scale ${s} is not a positive finite number` })
  const zp: ConstSym | undefined = zpIn ? needConst(ctx, zpIn, `${what} zero point`) : undefined
  const n = scale.data.length
  if (zp && zp.data.length !== n)
    throw new LoweringError({
      node: ctx.node,
      problem: `${what} zero point has ${zp.data.length} elements but the scale has ${n}`,
    })
  const declared = attrNum(ctx, 'output_dtype', 0)
  const dataType = zp?.dataType ?? (declared || UINT8)
  if (n === 1 && scale.dims.length <= 1)
    return { scale: scale.data, zeroPoint: zp?.data ?? new Float64Array(1), dataType, axis: null }
  const dims = shapeOf(x)
  const axis = normalizeAxis(ctx, axisAttr, dims.length)
  if (scale.dims.length !== 1 || dims[axis] !== n)
    throw new LoweringError({
      node: ctx.node,
      problem: `${what} scale of shape [${scale.dims}] does not match axis ${axis} of [${dims}]`,
      details: ['Per-axis scales are 1-D with one entry per index of the axis.'],
    })
  return { scale: scale.data, zeroPoint: zp?.data ?? new Float64Array(n), dataType, axis }
}

/** Index into the per-axis parameters of flat element o of a tensor of shape `dims`. */
function channelOf(dims: number[], axis: number | null): (o: number) => number {
  if (axis === null) return () => 0
  const inner = sizeOf(dims.slice(axis + 1)),
    d = dims[axis]
  return (o) => Math.floor(o / inner) % d
}

/**
 * (q - zp)·scale. On constants the product is kept exact in float64 (an 8-bit integer times a
 * float32 scale has at most 33 significant bits): onnxruntime's fused kernels use the integers
 * and the scales, never a float32-rounded weight, and the exact product keeps every row of the
 * fused affine map a small integer multiple of one factor for src/quantize/fixed.ts.
 */
function dequantize(_ctx: Ctx, x: Sym, p: QuantParams): Sym {
  const dims = shapeOf(x)
  const ch = channelOf(dims, p.axis)
  const idx = [0],
    w = [0]
  return linear(x, dims, (o) => {
    const c = ch(o)
    idx[0] = o
    w[0] = p.scale[c]
    return { idx, w, bias: -p.zeroPoint[c] * p.scale[c] }
  })
}

/**
 * clamp(roundHalfEven(x / scale) + zp, lo, hi). Constants are folded as onnxruntime computes
 * them (float32 division); an input-dependent tensor becomes a per-tensor 'quant' step.
 */
function quantize(ctx: Ctx, x: Sym, p: QuantParams): Sym {
  const range = RANGE[p.dataType]
  if (!range)
    throw new LoweringError({
      node: ctx.node,
      problem: `quantisation to ${TYPE_NAME[p.dataType] ?? `data type ${p.dataType}`} is not supported`,
      details: ['Supported: int8 and uint8.'],
    })
  const [lo, hi] = range
  const dims = shapeOf(x)
  if (x.kind === 'const') {
    const ch = channelOf(dims, p.axis)
    const data = x.data.map((v, o) =>
      Math.min(Math.max(roundHalfEven(Math.fround(v / p.scale[ch(o)])) + p.zeroPoint[ch(o)], lo), hi),
    )
    return { kind: 'const', dims, data, dataType: p.dataType }
  }
  if (p.axis !== null)
    throw new LoweringError({
      node: ctx.node,
      problem: 'per-axis quantisation of an input-dependent tensor is not supported',
      details: ['Activations are quantised per tensor; per-axis scales are for constant weights.'],
    })
  const id = emit(
    ctx,
    { kind: 'quant', inputs: [materialize(ctx, x)], scale: p.scale[0], zeroPoint: p.zeroPoint[0], lo, hi },
    dims,
  )
  return fresh(id, dims)
}

/** A zero point of an integer op (MatMulInteger, ConvInteger) as (De)QuantizeLinear parameters with scale 1. */
function integerParams(ctx: Ctx, x: Sym, zpIn: Sym | undefined, what: string, axis: number): QuantParams {
  const zp = zpIn ? needConst(ctx, zpIn, `${what} zero point`) : undefined
  const n = zp?.data.length ?? 1
  const base: QuantParams = {
    scale: new Float64Array(n).fill(1),
    zeroPoint: zp?.data ?? new Float64Array(1),
    dataType: zp?.dataType ?? UINT8,
    axis: null,
  }
  if (n === 1) return base
  const dims = shapeOf(x)
  const a = normalizeAxis(ctx, axis, dims.length)
  if (dims[a] !== n)
    throw new LoweringError({
      node: ctx.node,
      problem: `${what} zero point has ${n} elements, expected 1 or ${dims[a]} (axis ${a} of [${dims}])`,
    })
  return { ...base, axis: a }
}

export const QuantizeLinear: Handler = (ctx, [x, scale, zp]) => {
  const X = need(ctx, x, 'input x')
  return [quantize(ctx, X, params(ctx, X, scale, zp, 'y'))]
}

export const DequantizeLinear: Handler = (ctx, [x, scale, zp]) => {
  const X = need(ctx, x, 'input x')
  return [dequantize(ctx, X, params(ctx, X, scale, zp, 'x'))]
}

/** The dequantised operand of a QOperator op, with its scale along `axis` when per-axis. */
function operand(
  ctx: Ctx,
  x: Sym | undefined,
  scale: Sym | undefined,
  zp: Sym | undefined,
  what: string,
  axis: number,
): { v: Sym; p: QuantParams } {
  const X = need(ctx, x, what)
  const p = params(ctx, X, scale, zp, what, axis)
  return { v: dequantize(ctx, X, p), p }
}

function output(ctx: Ctx, y: Sym, scale: Sym | undefined, zp: Sym | undefined): Sym {
  const p = params(ctx, y, scale, zp, 'y')
  if (p.axis !== null) throw new LoweringError({ node: ctx.node, problem: 'y_scale must be a scalar' })
  return quantize(ctx, y, p)
}

/** QLinearConv: y = Q(Conv(DQ(x), DQ(w), B·x_scale·w_scale)), w per tensor or per output channel. */
export const QLinearConv: Handler = (ctx, [x, xs, xz, w, ws, wz, ys, yz, b]) => {
  const X = operand(ctx, x, xs, xz, 'x', 1)
  if (X.p.axis !== null) throw new LoweringError({ node: ctx.node, problem: 'x_scale must be a scalar' })
  const W = operand(ctx, w, ws, wz, 'w', 0)
  let B: Sym | undefined
  if (b) {
    // INVARIANT: the int32 bias is in units of x_scale · w_scale (per output channel), zero point 0.
    const bias = needConst(ctx, b, 'bias B')
    if (bias.dataType !== undefined && bias.dataType !== INT32)
      throw new LoweringError({
        node: ctx.node,
        problem: `bias B must be int32, got ${TYPE_NAME[bias.dataType] ?? bias.dataType}`,
      })
    B = {
      kind: 'const',
      dims: bias.dims,
      data: bias.data.map((v, m) => v * X.p.scale[0] * W.p.scale[W.p.axis === null ? 0 : m]),
    }
  }
  return [output(ctx, Conv(ctx, [X.v, W.v, B])[0], ys, yz)]
}

/** QLinearMatMul: y = Q(DQ(a) · DQ(b)); a's scale may be per row, b's per column. */
export const QLinearMatMul: Handler = (ctx, [a, as, az, b, bs, bz, ys, yz]) => {
  const A = operand(ctx, a, as, az, 'a', -2)
  const B = operand(ctx, b, bs, bz, 'b', -1)
  return [output(ctx, MatMul(ctx, [A.v, B.v])[0], ys, yz)]
}

/** MatMulInteger: the int32 product (A - a_zp)·(B - b_zp); a_zp may be per row, b_zp per column. */
export const MatMulInteger: Handler = (ctx, [a, b, az, bz]) => {
  const A = need(ctx, a, 'input A'),
    B = need(ctx, b, 'input B')
  return MatMul(ctx, [
    dequantize(ctx, A, integerParams(ctx, A, az, 'a', -2)),
    dequantize(ctx, B, integerParams(ctx, B, bz, 'b', -1)),
  ])
}

/** ConvInteger: the int32 convolution of (x - x_zp) by (w - w_zp); w_zp may be per output channel. */
export const ConvInteger: Handler = (ctx, [x, w, xz, wz]) => {
  const X = need(ctx, x, 'input x'),
    W = need(ctx, w, 'input w')
  const px = integerParams(ctx, X, xz, 'x', 1)
  if (px.axis !== null) throw new LoweringError({ node: ctx.node, problem: 'x_zero_point must be a scalar' })
  return Conv(ctx, [dequantize(ctx, X, px), dequantize(ctx, W, integerParams(ctx, W, wz, 'w', 0))])
}

/** com.microsoft QLinearAdd: C = Q(DQ(A) + DQ(B)), numpy broadcasting, per-tensor scales. */
export const QLinearAdd: Handler = (ctx, [a, as, az, b, bs, bz, cs, cz]) => {
  const A = operand(ctx, a, as, az, 'A', 0),
    B = operand(ctx, b, bs, bz, 'B', 0)
  if (A.p.axis !== null || B.p.axis !== null)
    throw new LoweringError({ node: ctx.node, problem: 'A_scale and B_scale must be scalars' })
  return [output(ctx, elementwise(ctx, [A.v, B.v], 'Add'), cs, cz)]
}

// onnxruntime's com.microsoft QOperator ops (what quantize_static writes in QOperator format):
// the same pattern, DequantizeLinear of the operands, the float op, QuantizeLinear.

/** QGemm: alpha·DQ(A)·DQ(B) + C, C int32 at scale a_scale·b_scale; quantised when y_scale is given, else float. */
export const QGemm: Handler = (ctx, [a, as, az, b, bs, bz, c, ys, yz]) => {
  const A = operand(ctx, a, as, az, 'A', 0)
  if (A.p.axis !== null) throw new LoweringError({ node: ctx.node, problem: 'a_scale must be a scalar' })
  // B's per-column scale is along N: axis 0 of a transposed B, axis 1 otherwise.
  const B = operand(ctx, b, bs, bz, 'B', attrNum(ctx, 'transB', 0) ? 0 : 1)
  let C: Sym | undefined
  if (c) {
    const bias = needConst(ctx, c, 'C')
    const alpha = attrNum(ctx, 'alpha', 1)
    const cols = bias.dims.at(-1) ?? 1
    if (B.p.axis !== null && cols !== B.p.scale.length)
      throw new LoweringError({
        node: ctx.node,
        problem: `C of shape [${bias.dims}] cannot carry ${B.p.scale.length} per-column scales`,
      })
    // INVARIANT: C is in units of alpha·a_scale·b_scale[n] (onnxruntime adds it to the integer accumulator).
    C = {
      kind: 'const',
      dims: bias.dims,
      data: bias.data.map((v, i) => v * alpha * A.p.scale[0] * B.p.scale[B.p.axis === null ? 0 : i % cols]),
    }
  }
  const y = Gemm({ ...ctx, node: { ...ctx.node, attributes: { ...ctx.node.attributes, beta: 1 } } }, [A.v, B.v, C])[0]
  return [ys ? output(ctx, y, ys, yz) : y]
}

/** QLinearAveragePool: Q(AveragePool(DQ(x))), NCHW only. */
export const QLinearAveragePool: Handler = (ctx, [x, xs, xz, ys, yz]) => {
  if (attrNum(ctx, 'channels_last', 0) !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: 'channels_last=1 is not supported',
      details: ['Use the NCHW layout.'],
    })
  return [output(ctx, AveragePool(ctx, [operand(ctx, x, xs, xz, 'x', 1).v])[0], ys, yz)]
}

/** QLinearGlobalAveragePool: Q(GlobalAveragePool(DQ(x))), NCHW only. */
export const QLinearGlobalAveragePool: Handler = (ctx, [x, xs, xz, ys, yz]) => {
  if (attrNum(ctx, 'channels_last', 0) !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: 'channels_last=1 is not supported',
      details: ['Use the NCHW layout.'],
    })
  return [output(ctx, GlobalAveragePool(ctx, [operand(ctx, x, xs, xz, 'x', 1).v])[0], ys, yz)]
}

/** QLinearConcat(Y_scale, Y_zero_point, (X, X_scale, X_zero_point)…): Q(Concat(DQ(X)…)). */
export const QLinearConcat: Handler = (ctx, [ys, yz, ...rest]) => {
  if (rest.length === 0 || rest.length % 3 !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: `expects (X, X_scale, X_zero_point) triples after Y_scale and Y_zero_point, got ${rest.length} inputs`,
    })
  const parts = Array.from(
    { length: rest.length / 3 },
    (_, i) => operand(ctx, rest[3 * i], rest[3 * i + 1], rest[3 * i + 2], `X${i}`, 0).v,
  )
  return [output(ctx, Concat(ctx, parts)[0], ys, yz)]
}

/** QLinearSigmoid: Q(Sigmoid(DQ(x))), a table once quantised. */
export const QLinearSigmoid: Handler = (ctx, [x, xs, xz, ys, yz]) => [
  output(ctx, Sigmoid(ctx, [operand(ctx, x, xs, xz, 'X', 0).v])[0], ys, yz),
]

/** QLinearLeakyRelu: Q(LeakyRelu(DQ(x))) with the alpha attribute, a table once quantised. */
export const QLinearLeakyRelu: Handler = (ctx, [x, xs, xz, ys, yz]) => [
  output(ctx, LeakyRelu(ctx, [operand(ctx, x, xs, xz, 'X', 0).v])[0], ys, yz),
]

export class DynamicQuantizationError extends LoweringError {
  override name = 'DynamicQuantizationError'
}

/**
 * DynamicQuantizeLinear computes its scale and zero point from each input's own min and max
 * at run time: a data-dependent division, not a fixed integer map, so it cannot be proven as
 * the model's integer arithmetic.
 */
export const DynamicQuantizeLinear: Handler = (ctx) => {
  throw new DynamicQuantizationError({
    node: ctx.node,
    problem: 'dynamic quantisation (scale and zero point computed from each input at run time) cannot be proven',
    details: [
      'Quantise the model statically (e.g. onnxruntime.quantization.quantize_static, QDQ or QOperator format) so every scale and zero point is a constant.',
    ],
  })
}
