import { sizeOf } from '../graph.js'
import { broadcastIndex, broadcastShapes } from '../shapes.js'
import { unary } from './activation.js'
import { Softmax as FinalSoftmax, LogSoftmax as FinalLogSoftmax } from './activation.js'
import {
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  attrNum,
  emit,
  fresh,
  materialize,
  need,
  needConst,
  normalizeAxis,
  remap,
  shapeOf,
} from './common.js'
import { elementwise } from './linear.js'
import { maskedRows } from './mask.js'
import { maskValues, splitInputMask } from './input-mask.js'
import { type Reduction, reduceLinear, reduceMax, reduceStep, reducer, reduction } from './reduce.js'

/**
 * Division, square roots, powers, softmax inside the graph and LayerNormalization: the ops of
 * transformers' normalisations, lowered to float div/sqrt/mul/max/unary steps and affine maps.
 * LayerNormalization is lowered into exactly the steps of PyTorch's decomposed export
 * (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β), so a fused and a
 * decomposed model quantise alike, and RMSNorm's decomposition comes out of the same rules.
 */

const constant = (dims: number[], v: number): Sym => ({
  kind: 'const',
  dims,
  data: new Float64Array(sizeOf(dims)).fill(v),
})

/** a / b with NumPy broadcasting: folded on constants, affine for a constant divisor, a float 'div' step otherwise. */
export function divide(ctx: Ctx, a: Sym, b: Sym, denLo?: number): Sym {
  const shape = broadcastShapes(shapeOf(a), shapeOf(b))
  if (!shape)
    throw new LoweringError({ node: ctx.node, problem: `shapes [${shapeOf(a)}] and [${shapeOf(b)}] do not broadcast` })
  if (b.kind === 'const') {
    if (b.data.some((v) => v === 0)) throw new LoweringError({ node: ctx.node, problem: 'division by a constant 0' })
    // Also folds a constant numerator (Mul of two constants).
    return elementwise(ctx, [a, { ...b, data: b.data.map((v) => 1 / v) }], 'Mul')
  }
  const den = materialize(ctx, b)
  if (a.kind === 'const') {
    // c / b = c · (1/b): one reciprocal step, then the constant factor composes as an affine map.
    const recip = emit(
      ctx,
      {
        kind: 'div',
        inputs: [den],
        num: new Int32Array(sizeOf(shape)).fill(-1),
        den: broadcastIndex(b.a.shape, shape),
      },
      shape,
    )
    const r = fresh(recip, shape)
    return a.data.every((v) => v === 1) ? r : elementwise(ctx, [r, a], 'Mul')
  }
  const num = materialize(ctx, a)
  const inputs = num === den ? [num] : [num, den]
  const off = num === den ? 0 : sizeOf(a.a.shape)
  const id = emit(
    ctx,
    {
      kind: 'div',
      inputs,
      num: broadcastIndex(a.a.shape, shape),
      den: broadcastIndex(b.a.shape, shape).map((v) => v + off),
      ...(denLo === undefined ? {} : { denLo }),
    },
    shape,
  )
  return fresh(id, shape)
}

/** √x: folded on constants, a float 'sqrt' step otherwise. */
export function squareRoot(ctx: Ctx, x: Sym): Sym {
  if (x.kind === 'const') return { ...x, data: x.data.map(Math.sqrt) }
  const shape = shapeOf(x)
  return fresh(emit(ctx, { kind: 'sqrt', inputs: [materialize(ctx, x)] }, shape), shape)
}

export const Div: Handler = (ctx, [a, b]) => [divide(ctx, need(ctx, a, 'input A'), need(ctx, b, 'input B'))]

export const Reciprocal: Handler = (ctx, [x]) => [divide(ctx, constant([], 1), need(ctx, x, 'input X'))]

export const Sqrt: Handler = (ctx, [x]) => [squareRoot(ctx, need(ctx, x, 'input X'))]

/**
 * Pow by a constant exponent (one value, possibly repeated): 2 is x·x (a 'mul' step, whose
 * products a following reduction sums exactly), 0.5 a square root, -1 and -0.5 reciprocals,
 * 1 the identity, 0 the constant 1; any other exponent a unary function (a lookup table).
 */
export const Pow: Handler = (ctx, [x, y]) => {
  const X = need(ctx, x, 'input X')
  const Y = needConst(ctx, y, 'exponent Y')
  const p = Y.data[0]
  if (Y.data.some((v) => v !== p))
    throw new LoweringError({
      node: ctx.node,
      problem: 'the exponent must be one value (a scalar, or one value repeated)',
    })
  const shape = broadcastShapes(shapeOf(X), Y.dims)
  if (!shape || shape.length !== shapeOf(X).length || sizeOf(shape) !== sizeOf(shapeOf(X)))
    throw new LoweringError({
      node: ctx.node,
      problem: `exponent of shape [${Y.dims}] would broadcast the base [${shapeOf(X)}]`,
    })
  if (X.kind === 'const') return [{ ...X, data: X.data.map((v) => v ** p) }]
  if (p === 1) return [X]
  if (p === 0) return [constant(shapeOf(X), 1)]
  if (p === 2) return [elementwise(ctx, [X, X], 'Mul')]
  if (p === 0.5) return [squareRoot(ctx, X)]
  if (p === -1) return [divide(ctx, constant([], 1), X)]
  if (p === -0.5) return [divide(ctx, constant([], 1), squareRoot(ctx, X))]
  return unary(ctx, X, `Pow(${p})`, (v) => v ** p)
}

/**
 * Softmax or LogSoftmax inside the graph, decomposed as exporters write it by hand:
 *   m = max over the axis, c = x − m (affine, ≤ 0), e = exp(c) (a lookup on an activation whose
 *   domain is ≤ 0, so the table never overflows), s = Σ e (affine), softmax = e / s (one division
 *   per row shared by the row: the quantiser takes one reciprocal per row and a product per
 *   element); log-softmax = c − log(max(s, 1)) (log a lookup on the row sum, which is ≥ 1).
 * Before opset 13 the reduction is over the flattened trailing axes from `axis`, from 13 on over
 * the one axis.
 */
function softmaxInGraph(ctx: Ctx, input: Sym, op: 'softmax' | 'logsoftmax'): Sym {
  // A 0/1 attention mask input added as (1 − m)·(−big) (src/onnx/ops/input-mask.ts): split off
  // the scores, and weighing each exp by m below.
  const split = splitInputMask(ctx, input)
  if (split && op === 'logsoftmax')
    throw new LoweringError({
      node: ctx.node,
      problem: 'LogSoftmax of scores with an attention mask input is not supported',
    })
  const X = split ? split.scores : input
  const shape = shapeOf(X)
  const rank = Math.max(shape.length, 1)
  const legacy = ctx.opset < 13
  const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', legacy ? 1 : -1), rank)
  const axes = legacy ? [...Array(rank).keys()].slice(axis) : [axis]
  // Masked positions (a causal mask's MASK_FILL, src/onnx/ops/mask.ts) have weight exactly 0:
  // they are zeroed in the input, left out of the max, and zeroed again after exp, so neither
  // the scores' calibrated range nor the row sum ever sees the mask value.
  const masked = op === 'softmax' ? maskedRows(X) : null
  const unmasked = (v: Sym) => (masked ? remap(v, shape, (o) => (masked[o] ? -1 : o)) : v)
  // The input is read by the max and by the subtraction: emitted once, and a pending linear map
  // (a Gemm's logits) is not recomputed inside the subtraction. The clamp without bounds is
  // the identity; once quantised it is the scores' one requantisation to an activation, which
  // the max and the subtraction both read: x − max is then an exact integer difference at the
  // activation's scale, and the scores (an attention's wide sums of products) are requantised
  // once instead of once for the max and again for the subtraction.
  const x = fresh(
    emit(ctx, { kind: 'clamp', inputs: [materialize(ctx, unmasked(X))], lo: null, hi: null }, shape),
    shape,
  )
  const r = reduction(shape, axes)
  const rows = masked ? withoutMasked(ctx, r, masked) : r
  const m = split ? maskValues(split.mask, shape) : null
  const centred = elementwise(ctx, [x, m ? maskedMax(ctx, x, m, rows) : reduceMax(ctx, x, rows)], 'Sub')
  // x − max ≤ 0, which the integer bounds cannot see: a clamp at 0 that never binds says so, and
  // once quantised it is the requant to the activation itself, so exp's table stops at 0 (129
  // entries for int8, none of them beyond exp(0) = 1). With an input mask it binds at masked
  // positions (their scores may exceed the max of the kept ones), whose exp m zeroes anyway.
  const nonPositive = emit(ctx, { kind: 'clamp', inputs: [materialize(ctx, centred)], lo: null, hi: 0 }, shape)
  const exp = unary(ctx, fresh(nonPositive, shape), 'Exp', Math.exp)[0]
  // m·exp: exactly 0 at a position the input masks (m = 0), the exp itself where it keeps (m = 1).
  const e = unmasked(m ? elementwise(ctx, [exp, m], 'Mul') : exp)
  const sum = reduceLinear(e, r, 1)
  // The row sum holds the max's exp(0) = 1: the divisor's lower bound, which the integer bounds
  // cannot see (with an input mask, the max is over the kept positions, so its m is 1; a row the
  // input masks entirely sums to 0, and the quantiser's clamp of the divisor at 1 binds).
  if (op === 'softmax') return divide(ctx, e, sum, 1)
  // The row sum holds exp(0) = 1, so it is ≥ 1: saying so (a clamp that never binds) keeps the
  // log's table to a positive domain once quantised.
  const atLeastOne = emit(ctx, { kind: 'clamp', inputs: [materialize(ctx, sum)], lo: 1, hi: null }, r.kept)
  const [logSum] = unary(ctx, fresh(atLeastOne, r.kept), 'Log', Math.log)
  return elementwise(ctx, [centred, logSum], 'Sub')
}

/**
 * The row max over the positions an input mask keeps: each masked score is first lowered to
 * the row's minimum, x·m + min·(1 − m), so it never wins, and a kept one is x itself. Written
 * x·m − n + n·m with n = max(−x) = −min, the max step's own output: both products read an
 * activation times 0 or 1 and n is one tensor, so a kept score comes out exactly x whatever
 * the masked ones are (a separately quantised min would round differently in each term, and
 * the masked scores would move the max). One more max per row and two products per score.
 */
function maskedMax(ctx: Ctx, x: Sym, m: Sym, r: Reduction): Sym {
  const n = reduceMax(ctx, elementwise(ctx, [x, constant([], -1)], 'Mul'), r)
  const kept = elementwise(ctx, [x, m], 'Mul')
  const lifted = elementwise(ctx, [elementwise(ctx, [kept, n], 'Sub'), elementwise(ctx, [n, m], 'Mul')], 'Add')
  return reduceMax(ctx, lifted, r)
}

/** The reduction's rows without the masked positions; a row masked entirely has no softmax (onnxruntime's is NaN). */
function withoutMasked(ctx: Ctx, r: Reduction, masked: Uint8Array): Reduction {
  const rowPtr = new Int32Array(r.rowPtr.length)
  const cols: number[] = []
  for (let o = 0; o + 1 < r.rowPtr.length; o++) {
    for (let k = r.rowPtr[o]; k < r.rowPtr[o + 1]; k++) if (!masked[r.cols[k]]) cols.push(r.cols[k])
    rowPtr[o + 1] = cols.length
    if (rowPtr[o + 1] === rowPtr[o])
      throw new LoweringError({ node: ctx.node, problem: 'a softmax row is masked at every position' })
  }
  return { ...r, rowPtr, cols: Int32Array.from(cols) }
}

/** A final Softmax keeps its note (the logits are proven); anywhere else it is decomposed. */
function softmax(op: 'softmax' | 'logsoftmax', final: Handler): Handler {
  return (ctx, inputs) => {
    if (ctx.finalOutputs.has(ctx.node.outputs[0])) return final(ctx, inputs)
    return [softmaxInGraph(ctx, need(ctx, inputs[0], 'input'), op)]
  }
}

export const Softmax: Handler = softmax('softmax', FinalSoftmax)
export const LogSoftmax: Handler = softmax('logsoftmax', FinalLogSoftmax)

/**
 * LayerNormalization (opset 17): over the axes from `axis` (default -1) to the last,
 * y = (x − mean) / √(var + ε) · Scale + B, var the mean of the squared deviations. Lowered to
 * the decomposed steps (see the file comment). The optional Mean and InvStdDev outputs are
 * training outputs; a model that reads them is refused.
 */
export const LayerNormalization: Handler = (ctx, [x, scale, bias]) => {
  const X = need(ctx, x, 'input X')
  const gamma = need(ctx, scale, 'input Scale')
  if (ctx.node.outputs.slice(1).some((o) => o !== ''))
    throw new LoweringError({ node: ctx.node, problem: 'the Mean and InvStdDev outputs are not supported' })
  const shape = shapeOf(X)
  const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', -1), Math.max(shape.length, 1))
  const epsilon = attrNum(ctx, 'epsilon', 1e-5)
  const r = reduction(shape, [...Array(shape.length).keys()].slice(axis))
  const centred = elementwise(ctx, [X, reduceStep(ctx, X, r, 1 / r.n)], 'Sub')
  const variance = reduceStep(ctx, elementwise(ctx, [centred, centred], 'Mul'), r, 1 / r.n)
  const sd = squareRoot(ctx, elementwise(ctx, [variance, constant([], epsilon)], 'Add'))
  const scaled = elementwise(ctx, [divide(ctx, centred, sd), gamma], 'Mul')
  return [bias ? elementwise(ctx, [scaled, bias], 'Add') : scaled]
}

/** Σx²: x·x (a mul step) summed as its exact products. */
export const ReduceSumSquare: Handler = reducer(
  (ctx, x, r) => reduceStep(ctx, elementwise(ctx, [x, x], 'Mul'), r, 1),
  false,
)

/** √Σx²: the sum of squares, then a square root. */
export const ReduceL2: Handler = reducer(
  (ctx, x, r) => squareRoot(ctx, reduceStep(ctx, elementwise(ctx, [x, x], 'Mul'), r, 1)),
  false,
)
