import { broadcastIndex, broadcastShapes } from '../shapes.js'
import {
  type ConstSym,
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  constOf,
  need,
  needConst,
  shapeOf,
} from './common.js'
import { ofBinaryInput } from './input-mask.js'

// Ops that only ever appear in the shape subgraphs exporters write (Shape → Gather → Range,
// ConstantOfShape, Equal → Where around a Reshape, a causal mask built from Range and Less):
// folded to constants. Their inputs must be constants; an input-dependent one is refused.

// TensorProto.DataType codes.
const BOOL = 9,
  INT64 = 7,
  FLOAT = 1

function constant(ctx: Ctx, s: Sym | undefined, what: string): ConstSym {
  const v = need(ctx, s, what)
  if (v.kind !== 'const')
    throw new LoweringError({
      node: ctx.node,
      problem: `${what} depends on the model input`,
      details: [
        `${ctx.node.opType} is folded at import: veriml supports it on constants (shape and mask computations) only.`,
      ],
    })
  return v
}

/** f of values of which some depend on one 0/1 attention mask input alone (ofBinaryInput), or null. */
function maskFunction(ctx: Ctx, xs: (Sym | undefined)[], f: (v: number[]) => number): Sym | null {
  if (xs.some((x) => !x) || xs.every((x) => x!.kind === 'const')) return null
  const syms = xs as Sym[]
  const shape = syms.slice(1).reduce<number[] | null>((s, x) => s && broadcastShapes(s, shapeOf(x)), shapeOf(syms[0]))
  return shape && ofBinaryInput(ctx, syms, shape, f)
}

/** A boolean or comparison op on two constants, broadcast. */
function binary(f: (p: number, q: number) => boolean | number, dataType?: number): Handler {
  return (ctx, [x, y]) => {
    // A comparison of an attention mask (attention_mask == 0) (src/onnx/ops/input-mask.ts).
    const onMask = maskFunction(ctx, [x, y], ([p, q]) => Number(f(p, q)))
    if (onMask) return [onMask]
    const a = constant(ctx, x, 'input A'),
      b = constant(ctx, y, 'input B')
    const shape = broadcastShapes(a.dims, b.dims)
    if (!shape)
      throw new LoweringError({ node: ctx.node, problem: `shapes [${a.dims}] and [${b.dims}] do not broadcast` })
    const ia = broadcastIndex(a.dims, shape),
      ib = broadcastIndex(b.dims, shape)
    const data = Float64Array.from(ia, (i, o) => Number(f(a.data[i], b.data[ib[o]])))
    return [{ kind: 'const', dims: shape, data, dataType: dataType ?? a.dataType }]
  }
}

export const Equal = binary((p, q) => p === q, BOOL)
export const Less = binary((p, q) => p < q, BOOL)
export const LessOrEqual = binary((p, q) => p <= q, BOOL)
export const Greater = binary((p, q) => p > q, BOOL)
export const GreaterOrEqual = binary((p, q) => p >= q, BOOL)
export const And = binary((p, q) => p !== 0 && q !== 0, BOOL)
export const Or = binary((p, q) => p !== 0 || q !== 0, BOOL)
export const Xor = binary((p, q) => (p !== 0) !== (q !== 0), BOOL)

export const Not: Handler = (ctx, [x]) => {
  const onMask = maskFunction(ctx, [x], ([e]) => (e === 0 ? 1 : 0))
  if (onMask) return [onMask]
  const a = constant(ctx, x, 'input')
  return [{ kind: 'const', dims: a.dims, data: a.data.map((e) => (e === 0 ? 1 : 0)), dataType: BOOL }]
}

/** ConstantOfShape: `value` (a one-element tensor, default float 0) repeated over the given shape. */
export const ConstantOfShape: Handler = (ctx, [shapeIn]) => {
  const dims = Array.from(needConst(ctx, shapeIn, 'shape').data)
  if (dims.some((d) => !Number.isInteger(d) || d < 0))
    throw new LoweringError({ node: ctx.node, problem: `shape [${dims}] is not a list of sizes` })
  const v = ctx.node.attributes.value
  const value = v && typeof v === 'object' && 'dims' in v ? constOf(v) : undefined
  if (value && value.kind === 'const' && value.data.length !== 1)
    throw new LoweringError({ node: ctx.node, problem: 'attribute "value" must hold one element' })
  const fill = value?.kind === 'const' ? value.data[0] : 0
  const dataType = value?.kind === 'const' ? value.dataType : FLOAT
  const size = dims.reduce((a, b) => a * b, 1)
  return [{ kind: 'const', dims, data: new Float64Array(size).fill(fill), dataType }]
}

/** Range(start, limit, delta): max(ceil((limit - start) / delta), 0) elements. */
export const Range: Handler = (ctx, [s, l, d]) => {
  const [start, limit, delta] = [s, l, d].map((x, i) => {
    const c = constant(ctx, x, ['start', 'limit', 'delta'][i])
    if (c.data.length !== 1)
      throw new LoweringError({ node: ctx.node, problem: 'start, limit and delta must be scalars' })
    return c
  })
  const d0 = delta.data[0]
  if (d0 === 0) throw new LoweringError({ node: ctx.node, problem: 'delta is 0' })
  const n = Math.max(Math.ceil((limit.data[0] - start.data[0]) / d0), 0)
  const data = Float64Array.from({ length: n }, (_, i) => start.data[0] + i * d0)
  return [{ kind: 'const', dims: [n], data, dataType: start.dataType }]
}

/** NonZero of a constant: the [rank, count] int64 coordinates of its non-zero elements, row-major. */
export const NonZero: Handler = (ctx, [x]) => {
  const a = constant(ctx, x, 'input')
  const dims = a.dims.length === 0 ? [1] : a.dims
  const hits: number[] = []
  a.data.forEach((e, i) => {
    if (e !== 0) hits.push(i)
  })
  const r = dims.length
  const data = new Float64Array(r * hits.length)
  hits.forEach((flat, j) => {
    let rest = flat
    for (let d = r - 1; d >= 0; d--) {
      data[d * hits.length + j] = rest % dims[d]
      rest = Math.floor(rest / dims[d])
    }
  })
  return [{ kind: 'const', dims: [r, hits.length], data, dataType: INT64 }]
}

/** An elementwise function of one constant (rotary tables, integer shape arithmetic). */
function unaryConst(f: (v: number) => number): Handler {
  return (ctx, [x]) => {
    const a = constant(ctx, x, 'input')
    return [{ ...a, data: a.data.map(f) }]
  }
}

export const Floor = unaryConst(Math.floor)
export const Ceil = unaryConst(Math.ceil)
export const Sin = unaryConst(Math.sin)
export const Cos = unaryConst(Math.cos)

/** Mod of two constants: fmod=0 takes the divisor's sign (Python's %), fmod=1 the dividend's (C's fmod). */
export const Mod: Handler = (ctx, inputs) => {
  const fmod = ctx.node.attributes.fmod === 1
  return binary((p, q) => (fmod ? p % q : p - q * Math.floor(p / q)))(ctx, inputs)
}

/** Size of a known-shape tensor: a constant, as Shape. */
export const Size: Handler = (ctx, [x]) => {
  const v = need(ctx, x, 'input')
  const dims = v.kind === 'const' ? v.dims : v.a.shape
  return [{ kind: 'const', dims: [], data: Float64Array.of(dims.reduce((a, b) => a * b, 1)), dataType: INT64 }]
}

/** CumSum of a constant along a constant axis (position ids), with ONNX's exclusive and reverse. */
export const CumSum: Handler = (ctx, [x, axisIn]) => {
  const a = constant(ctx, x, 'input')
  const r = a.dims.length
  const axis0 = needConst(ctx, axisIn, 'axis').data[0]
  const axis = axis0 < 0 ? axis0 + r : axis0
  if (!(axis >= 0 && axis < r)) throw new LoweringError({ node: ctx.node, problem: `axis ${axis0} is out of range` })
  const exclusive = ctx.node.attributes.exclusive === 1,
    reverse = ctx.node.attributes.reverse === 1
  const d = a.dims[axis]
  const inner = a.dims.slice(axis + 1).reduce((p, q) => p * q, 1)
  const outer = a.data.length / (d * inner)
  const data = new Float64Array(a.data.length)
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let acc = 0
      for (let t = 0; t < d; t++) {
        const j = reverse ? d - 1 - t : t
        const at = (o * d + j) * inner + i
        if (exclusive) {
          data[at] = acc
          acc += a.data[at]
        } else {
          acc += a.data[at]
          data[at] = acc
        }
      }
    }
  return [{ ...a, data }]
}
