import { sizeOf } from '../graph.js'
import { type Window, windowTaps } from '../shapes.js'
import { windowAttributes } from './conv.js'
import {
  type AffineSym,
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  attrInts,
  emit,
  fresh,
  linear,
  materialize,
  need,
  attrNum,
  shapeOf,
} from './common.js'

/**
 * MaxPool window geometry exactly as onnxruntime (the yardstick) computes it, per spatial dim:
 * - SAME_*: the total pad is (ceil(in/stride) − 1)·stride + kernel − in with the UNdilated
 *   kernel (onnxruntime's legacy formula; the ONNX text uses the dilated span, so the two
 *   disagree only when dilations > 1). A negative total (stride > kernel) is taken as 0, where
 *   onnxruntime refuses the model.
 * - out = trunc(n / stride) + 1 with n = in + pads − dilation·(kernel − 1) − 1 (C++ division);
 *   ceil_mode=1 rounds n / stride up, then drops a last window that would start in the
 *   end padding (onnx/onnx#5741), also under VALID and SAME_*.
 */
function poolGeometry(ctx: Ctx, xShape: number[], kernel: number[], ceilMode: boolean): Window {
  const { r, autoPad, strides, dilations, pads } = windowAttributes(ctx, xShape, kernel)
  if ([...kernel, ...strides, ...dilations].some((v) => !(v >= 1)) || pads.some((p) => p < 0)) {
    throw new LoweringError({
      node: ctx.node,
      problem: `kernel_shape [${kernel}], strides [${strides}] and dilations [${dilations}] must be ≥ 1 and pads [${pads}] ≥ 0`,
    })
  }
  const input = xShape.slice(2)
  const padsBegin: number[] = [],
    out: number[] = []
  for (let i = 0; i < r; i++) {
    const [n, k, s, d] = [input[i], kernel[i], strides[i], dilations[i]]
    let head = pads[i],
      tail = pads[i + r]
    if (autoPad === 'VALID') head = tail = 0
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (Math.ceil(n / s) - 1) * s + k - n)
      head = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2)
      tail = total - head
    }
    const numerator = n + head + tail - d * (k - 1) - 1
    let o = ceilMode ? Math.ceil(numerator / s) + 1 : Math.trunc(numerator / s) + 1
    if (ceilMode && (o - 1) * s >= n + head) o--
    if (!(o >= 1))
      throw new LoweringError({
        node: ctx.node,
        problem: `kernel [${kernel}] does not fit input [${xShape}] with pads [${head}, ${tail}], strides [${strides}] and dilations [${dilations}] (spatial dim ${i})`,
      })
    padsBegin.push(head)
    out.push(o)
  }
  return { input, kernel, strides, dilations, padsBegin, out }
}

/**
 * The pending map as y[j] = w·x[src[j]] + b with one positive w and one b for every element
 * (an index map such as Transpose or Concat, or a per-tensor scale such as DequantizeLinear),
 * else null. Such a map is increasing, so it commutes with max: the max reads the emitted
 * tensors directly and the map stays pending for the next op — in a QDQ model the max is
 * then over the int8 values themselves, exactly as onnxruntime's int8 MaxPool.
 */
function uniformIncreasing(X: AffineSym): { src: Int32Array; w: number; b: number } | null {
  const { rowPtr, cols, vals, bias } = X.a
  if (bias.length === 0) return null
  const w = vals[rowPtr[0]],
    b = bias[0]
  if (!(w > 0)) return null
  const src = new Int32Array(bias.length)
  for (let j = 0; j < bias.length; j++) {
    if (rowPtr[j + 1] - rowPtr[j] !== 1 || vals[rowPtr[j]] !== w || bias[j] !== b) return null
    src[j] = cols[rowPtr[j]]
  }
  return { src, w, b }
}

/** Max over rows of a flat input (CSR rows of positions): folded on constants, a 'max' step otherwise. */
function maxRows(ctx: Ctx, X: Sym, outShape: number[], rowPtr: Int32Array, cols: Int32Array): Sym {
  if (X.kind === 'const') {
    const data = Float64Array.from({ length: rowPtr.length - 1 }, (_, i) =>
      Math.max(...Array.from(cols.subarray(rowPtr[i], rowPtr[i + 1]), (c) => X.data[c])),
    )
    return { kind: 'const', dims: outShape, data }
  }
  const through = uniformIncreasing(X)
  if (!through) {
    const id = emit(ctx, { kind: 'max', inputs: [materialize(ctx, X)], rowPtr, cols }, outShape)
    return fresh(id, outShape)
  }
  // max_k (w·x_k + b) = w·max_k x_k + b for w > 0.
  const id = emit(
    ctx,
    { kind: 'max', inputs: X.a.bases.map((base) => base.id), rowPtr, cols: cols.map((c) => through.src[c]) },
    outShape,
  )
  if (through.w === 1 && through.b === 0) return fresh(id, outShape)
  const idx = [0],
    wt = [through.w]
  return linear(fresh(id, outShape), outShape, (o) => {
    idx[0] = o
    return { idx, w: wt, bias: through.b }
  })
}

/** CSR rows over the flat [N·C, S] input: one row per (n, c, output position), padding left out. */
function windowRows(ctx: Ctx, NC: number, w: Window): { rowPtr: Int32Array; cols: Int32Array } {
  const taps = windowTaps(w)
  const K = sizeOf(w.kernel),
    P = sizeOf(w.out),
    S = sizeOf(w.input)
  // Padding never wins a max: a row holds only the window's positions inside the input.
  for (let p = 0; p < P; p++) {
    let inside = false
    for (let q = 0; q < K && !inside; q++) inside = taps[p * K + q] >= 0
    if (!inside)
      throw new LoweringError({
        node: ctx.node,
        problem: `pooling window ${p} (of output [${w.out}]) covers only padding: its max is undefined`,
        details: ['Use smaller pads or dilations.'],
      })
  }
  const rowPtr = new Int32Array(NC * P + 1)
  const cols: number[] = []
  for (let nc = 0; nc < NC; nc++) {
    for (let p = 0; p < P; p++) {
      for (let q = 0; q < K; q++) {
        const t = taps[p * K + q]
        if (t >= 0) cols.push(nc * S + t)
      }
      rowPtr[nc * P + p + 1] = cols.length
    }
  }
  return { rowPtr, cols: Int32Array.from(cols) }
}

/**
 * MaxPool (opsets 1–22): kernel_shape, strides, pads, auto_pad, dilations, ceil_mode, any
 * spatial rank. storage_order only changes the Indices output, which is refused.
 */
export const MaxPool: Handler = (ctx, [x]) => {
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1] !== '') {
    throw new LoweringError({
      node: ctx.node,
      problem: `the optional Indices output "${ctx.node.outputs[1]}" is not supported`,
      details: ['Indices are positions, not values a circuit proves; drop the second output.'],
    })
  }
  const X = need(ctx, x, 'input X')
  const xs = shapeOf(X)
  const kernel = attrInts(ctx, 'kernel_shape')
  if (!kernel) throw new LoweringError({ node: ctx.node, problem: 'missing attribute kernel_shape' })
  const ceilMode = attrNum(ctx, 'ceil_mode', 0)
  if (ceilMode !== 0 && ceilMode !== 1)
    throw new LoweringError({ node: ctx.node, problem: `ceil_mode must be 0 or 1, got ${ceilMode}` })
  const w = poolGeometry(ctx, xs, kernel, ceilMode === 1)
  const { rowPtr, cols } = windowRows(ctx, xs[0] * xs[1], w)
  return [maxRows(ctx, X, [xs[0], xs[1], ...w.out], rowPtr, cols)]
}

export const GlobalMaxPool: Handler = (ctx, [x]) => {
  const X = need(ctx, x, 'input X')
  const xs = shapeOf(X)
  if (xs.length < 3) throw new LoweringError({ node: ctx.node, problem: `input must be [N, C, spatial…], got [${xs}]` })
  const NC = xs[0] * xs[1],
    S = sizeOf(xs.slice(2))
  const rowPtr = Int32Array.from({ length: NC + 1 }, (_, i) => i * S)
  const cols = Int32Array.from({ length: NC * S }, (_, i) => i)
  return [maxRows(ctx, X, [xs[0], xs[1], ...xs.slice(2).map(() => 1)], rowPtr, cols)]
}
