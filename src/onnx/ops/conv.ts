import { sizeOf } from '../graph.js'
import { type AutoPad, type Window, windowGeometry, windowTaps } from '../shapes.js'
import {
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  attrInts,
  attrString,
  linear,
  need,
  needConst,
  attrNum,
  shapeOf,
} from './common.js'

const AUTO_PADS: readonly string[] = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER']

/** Kernel window attributes with their ONNX defaults (strides and dilations 1, pads 0), checked against the rank. */
export function windowAttributes(
  ctx: Ctx,
  xShape: number[],
  kernel: number[],
): { r: number; autoPad: AutoPad; strides: number[]; dilations: number[]; pads: number[] } {
  const r = xShape.length - 2
  if (r < 1) throw new LoweringError({ node: ctx.node, problem: `input must be [N, C, spatial…], got [${xShape}]` })
  if (kernel.length !== r)
    throw new LoweringError({ node: ctx.node, problem: `kernel_shape [${kernel}] does not match ${r} spatial dims` })
  const autoPad = attrString(ctx, 'auto_pad', 'NOTSET')
  if (!AUTO_PADS.includes(autoPad))
    throw new LoweringError({
      node: ctx.node,
      problem: `unknown auto_pad "${autoPad}"`,
      details: [`Expected one of ${AUTO_PADS.join(', ')}.`],
    })
  const strides = attrInts(ctx, 'strides') ?? kernel.map(() => 1)
  const dilations = attrInts(ctx, 'dilations') ?? kernel.map(() => 1)
  const pads = attrInts(ctx, 'pads') ?? new Array<number>(2 * r).fill(0)
  if (strides.length !== r || dilations.length !== r || pads.length !== 2 * r) {
    throw new LoweringError({
      node: ctx.node,
      problem: `strides [${strides}], dilations [${dilations}] or pads [${pads}] do not match ${r} spatial dims`,
    })
  }
  return { r, autoPad: autoPad as AutoPad, strides, dilations, pads }
}

function geometry(ctx: Ctx, xShape: number[], kernel: number[]): Window {
  const { autoPad, strides, dilations, pads } = windowAttributes(ctx, xShape, kernel)
  const w = windowGeometry(xShape.slice(2), kernel, strides, dilations, pads, autoPad)
  if (!w)
    throw new LoweringError({
      node: ctx.node,
      problem: `kernel [${kernel}] does not fit input [${xShape}] with these pads, strides and dilations`,
    })
  return w
}

export const Conv: Handler = (ctx, [x, weight, b]) => {
  const X = need(ctx, x, 'input X')
  const W = needConst(ctx, weight, 'weight W')
  const xs = shapeOf(X)
  const [M, Cg, ...kernel] = W.dims
  const group = attrNum(ctx, 'group', 1)
  const [N, C] = xs
  if (Cg * group !== C || M % group !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: `weight [${W.dims}] with group ${group} does not fit input [${xs}]`,
    })
  const declared = attrInts(ctx, 'kernel_shape')
  if (declared && declared.join() !== kernel.join())
    throw new LoweringError({
      node: ctx.node,
      problem: `kernel_shape [${declared}] differs from the weight's [${kernel}]`,
    })
  const B = b ? needConst(ctx, b, 'bias B') : undefined
  if (B && B.data.length !== M)
    throw new LoweringError({ node: ctx.node, problem: `bias has ${B.data.length} elements, expected ${M}` })
  const w = geometry(ctx, xs, kernel)
  const taps = windowTaps(w)
  const K = sizeOf(kernel),
    P = sizeOf(w.out),
    S = sizeOf(w.input),
    Mg = M / group
  const idx: number[] = [],
    wt: number[] = []
  return [
    linear(X, [N, M, ...w.out], (o) => {
      const p = o % P,
        m = Math.floor(o / P) % M,
        n = Math.floor(o / (P * M))
      const g = Math.floor(m / Mg)
      idx.length = 0
      wt.length = 0
      for (let c = 0; c < Cg; c++) {
        const base = (n * C + g * Cg + c) * S
        for (let q = 0; q < K; q++) {
          const t = taps[p * K + q]
          if (t >= 0) {
            idx.push(base + t)
            wt.push(W.data[(m * Cg + c) * K + q])
          }
        }
      }
      return { idx, w: wt, bias: B ? B.data[m] : 0 }
    }),
  ]
}

/** Averages over windows (`taps` per output position, `divisor` of the window's valid-tap count). */
function average(
  X: Sym,
  outShape: number[],
  taps: Int32Array,
  K: number,
  S: number,
  divisor: (valid: number) => number,
): Sym {
  const P = sizeOf(outShape.slice(2))
  const idx: number[] = [],
    wt: number[] = []
  return linear(X, outShape, (o) => {
    const p = o % P,
      nc = Math.floor(o / P)
    idx.length = 0
    wt.length = 0
    for (let q = 0; q < K; q++) if (taps[p * K + q] >= 0) idx.push(nc * S + taps[p * K + q])
    const d = divisor(idx.length)
    for (let t = 0; t < idx.length; t++) wt.push(1 / d)
    return { idx, w: wt, bias: 0 }
  })
}

export const AveragePool: Handler = (ctx, [x]) => {
  const X = need(ctx, x, 'input X')
  const xs = shapeOf(X)
  const kernel = attrInts(ctx, 'kernel_shape')
  if (!kernel) throw new LoweringError({ node: ctx.node, problem: 'missing attribute kernel_shape' })
  if (attrNum(ctx, 'ceil_mode', 0) !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: 'ceil_mode=1 is not supported',
      details: ['Export with ceil_mode=0, or pad the input explicitly.'],
    })
  const w = geometry(ctx, xs, kernel)
  const K = sizeOf(kernel)
  // In floor mode every window lies inside the padded input, so "including pads" means the full kernel.
  const includePad = attrNum(ctx, 'count_include_pad', 0) !== 0
  return [
    average(X, [xs[0], xs[1], ...w.out], windowTaps(w), K, sizeOf(w.input), (valid) =>
      includePad ? K : Math.max(valid, 1),
    ),
  ]
}

export const GlobalAveragePool: Handler = (ctx, [x]) => {
  const X = need(ctx, x, 'input X')
  const xs = shapeOf(X)
  if (xs.length < 3) throw new LoweringError({ node: ctx.node, problem: `input must be [N, C, spatial…], got [${xs}]` })
  const S = sizeOf(xs.slice(2))
  const taps = Int32Array.from({ length: S }, (_, i) => i)
  return [average(X, [xs[0], xs[1], ...xs.slice(2).map(() => 1)], taps, S, S, () => S)]
}

/** Inference-mode BatchNormalization: a per-channel affine map, so it folds into a preceding Conv. */
export const BatchNormalization: Handler = (ctx, [x, scale, bias, mean, variance]) => {
  const X = need(ctx, x, 'input X')
  if (attrNum(ctx, 'training_mode', 0) !== 0)
    throw new LoweringError({
      node: ctx.node,
      problem: 'training_mode=1 is not supported',
      details: ['Export the model in eval mode.'],
    })
  const xs = shapeOf(X)
  const C = xs.length > 1 ? xs[1] : 1
  const eps = attrNum(ctx, 'epsilon', 1e-5)
  const [s, b, mu, v] = [
    needConst(ctx, scale, 'scale'),
    needConst(ctx, bias, 'B'),
    needConst(ctx, mean, 'input_mean'),
    needConst(ctx, variance, 'input_var'),
  ]
  for (const t of [s, b, mu, v])
    if (t.data.length !== C)
      throw new LoweringError({
        node: ctx.node,
        problem: `per-channel parameter has ${t.data.length} elements, expected ${C} channels`,
      })
  const k = Float64Array.from(s.data, (si, c) => si / Math.sqrt(v.data[c] + eps))
  const inner = sizeOf(xs.slice(2))
  const idx = [0],
    wt = [0]
  return [
    linear(X, xs, (o) => {
      const c = Math.floor(o / inner) % C
      idx[0] = o
      wt[0] = k[c]
      return { idx, w: wt, bias: b.data[c] - mu.data[c] * k[c] }
    }),
  ]
}
