import { sizeOf } from '../graph.js'
import { strides } from '../shapes.js'
import {
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  attrNum,
  emit,
  fresh,
  intsParam,
  linear,
  materialize,
  need,
  normalizeAxis,
  shapeOf,
  withShape,
} from './common.js'

/**
 * The reduction of a tensor of `shape` over `axes`: the output shape with the reduced axes
 * kept as 1 (`kept`), and for each output element the flat input positions it reduces, in CSR
 * form (`rowPtr`, `cols`). Every row has the same length `n`, the product of the reduced dims.
 */
export interface Reduction {
  kept: number[]
  rowPtr: Int32Array
  cols: Int32Array
  n: number
}

export function reduction(shape: readonly number[], axes: readonly number[]): Reduction {
  const reduced = new Set(axes)
  const kept = shape.map((d, i) => (reduced.has(i) ? 1 : d))
  const out = sizeOf(kept)
  const n = out === 0 ? 0 : sizeOf(shape) / out
  const inStrides = strides(shape)
  const outStrides = strides(kept)
  const rowPtr = Int32Array.from({ length: out + 1 }, (_, i) => i * n)
  const cols = new Int32Array(out * n)
  const fill = new Int32Array(out)
  for (let i = 0; i < sizeOf(shape); i++) {
    let o = 0
    for (let d = 0; d < shape.length; d++)
      if (!reduced.has(d)) o += (Math.floor(i / inStrides[d]) % shape[d]) * outStrides[d]
    cols[o * n + fill[o]++] = i
  }
  return { kept, rowPtr, cols, n }
}

/** Σ (or mean, `scale` = 1/n) over each row of the reduction: a linear map, folded on constants. */
export function reduceLinear(x: Sym, r: Reduction, scale: number): Sym {
  const w = new Float64Array(r.n).fill(scale)
  return linear(x, r.kept, (o) => ({ idx: r.cols.subarray(r.rowPtr[o], r.rowPtr[o + 1]), w, bias: 0 }))
}

/** Max over each row of the reduction: folded on constants, a float 'max' step otherwise. */
export function reduceMax(ctx: Ctx, x: Sym, r: Reduction): Sym {
  if (x.kind === 'const') {
    const data = Float64Array.from({ length: r.rowPtr.length - 1 }, (_, o) => {
      let m = -Infinity
      for (let k = r.rowPtr[o]; k < r.rowPtr[o + 1]; k++) m = Math.max(m, x.data[r.cols[k]])
      return m
    })
    return { kind: 'const', dims: r.kept, data }
  }
  const id = emit(ctx, { kind: 'max', inputs: [materialize(ctx, x)], rowPtr: r.rowPtr, cols: r.cols }, r.kept)
  return fresh(id, r.kept)
}

/**
 * The axes of a Reduce* node: an attribute before the opset where they became the optional
 * second input (13 for ReduceSum, 18 for the others), the input from then on. No axes means
 * every axis, or none with noop_with_empty_axes = 1 (each element reduced alone: the identity
 * for a sum, mean, max or min, x² and |x| for ReduceSumSquare and ReduceL2, as onnxruntime).
 */
function reducedAxes(ctx: Ctx, axesInput: Sym | undefined, rank: number): number[] {
  const given = intsParam(ctx, axesInput, 'axes') ?? []
  if (given.length === 0) return attrNum(ctx, 'noop_with_empty_axes', 0) ? [] : [...Array(rank).keys()]
  const axes = given.map((a) => normalizeAxis(ctx, a, rank))
  if (new Set(axes).size !== axes.length)
    throw new LoweringError({ node: ctx.node, problem: `axes [${given}] name an axis twice` })
  return axes
}

/**
 * A Reduce* handler: `apply` maps the input and its reduction to the kept-dims result. With no
 * axis to reduce, an `idempotent` reduction (sum, mean, max, min of one element) is the input.
 */
export function reducer(apply: (ctx: Ctx, x: Sym, r: Reduction) => Sym, idempotent = true): Handler {
  return (ctx, [x, axesInput]) => {
    const X = need(ctx, x, 'input data')
    const shape = shapeOf(X)
    const axes = reducedAxes(ctx, axesInput, shape.length)
    if (axes.length === 0 && idempotent) return [X]
    if (axes.some((a) => shape[a] === 0))
      throw new LoweringError({ node: ctx.node, problem: `reduction over an empty axis of shape [${shape}]` })
    const r = reduction(shape, axes)
    const y = apply(ctx, X, r)
    if (attrNum(ctx, 'keepdims', 1)) return [y]
    const dropped = shape.filter((_, i) => !axes.includes(i))
    return [withShape(y, dropped)]
  }
}

/**
 * A sum or mean emitted as its own step rather than left pending. Composed into what follows,
 * a normalisation's x − mean(x) is ONE row holding 1 − 1/n and −1/n: the quantiser gives a
 * row's weights 8 bits relative to the largest, so for n > 128 every −1/n rounds to 0 and the
 * mean vanishes (a LayerNorm of width 160 on inputs of mean 1 was 33 % off). Emitted, the mean
 * is a tensor of its own (weights all 1/n), and x − mean has weights ±1 over two tensors.
 */
export function reduceStep(ctx: Ctx, x: Sym, r: Reduction, scale: number): Sym {
  const y = reduceLinear(x, r, scale)
  return y.kind === 'const' ? y : fresh(materialize(ctx, y), r.kept)
}

export const ReduceSum: Handler = reducer((ctx, x, r) => reduceStep(ctx, x, r, 1))
export const ReduceMean: Handler = reducer((ctx, x, r) => reduceStep(ctx, x, r, 1 / r.n))
export const ReduceMax: Handler = reducer(reduceMax)

const negate = (x: Sym): Sym => linear(x, shapeOf(x), (o) => ({ idx: [o], w: [-1], bias: 0 }))

/** min = −max(−x): the negation is affine (no constraint), the max one step. */
export const ReduceMin: Handler = reducer((ctx, x, r) => negate(reduceMax(ctx, negate(x), r)))
