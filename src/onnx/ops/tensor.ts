import {
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  constOf,
  emit,
  fresh,
  materialize,
  need,
  needConst,
  attrNum,
  isNumbers,
  shapeOf,
} from './common.js'
import { ofBinaryInput } from './input-mask.js'

export const Identity: Handler = (ctx, [x]) => [need(ctx, x, 'input')]

export const Constant: Handler = (ctx) => {
  const a = ctx.node.attributes
  if (a.value && typeof a.value === 'object' && 'dims' in a.value) return [constOf(a.value)]
  // sparse_value arrives dense from the parser.
  if (a.sparse_value && typeof a.sparse_value === 'object' && 'dims' in a.sparse_value) return [constOf(a.sparse_value)]
  if (typeof a.value_float === 'number') return [{ kind: 'const', dims: [], data: Float64Array.of(a.value_float) }]
  if (typeof a.value_int === 'number') return [{ kind: 'const', dims: [], data: Float64Array.of(a.value_int) }]
  for (const key of ['value_floats', 'value_ints'] as const) {
    const v = a[key]
    if (isNumbers(v)) return [{ kind: 'const', dims: [v.length], data: Float64Array.from(v) }]
  }
  throw new LoweringError({
    node: ctx.node,
    problem: 'unsupported Constant form',
    details: ['Use the value, sparse_value, value_float(s) or value_int(s) attribute.'],
  })
}

/** Shape of a known-shape tensor: a constant, so the Gather/Concat/Reshape chains exporters write around it fold away. */
export const Shape: Handler = (ctx, [x]) => {
  const s = shapeOf(need(ctx, x, 'input'))
  const r = s.length
  const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + r : a, 0), r)
  const dims = s.slice(clampAxis(attrNum(ctx, 'start', 0)), clampAxis(attrNum(ctx, 'end', r)))
  return [{ kind: 'const', dims: [dims.length], data: Float64Array.from(dims) }]
}

// TensorProto.DataType codes.
const FLOAT = 1,
  DOUBLE = 11,
  BOOL = 9
const INTEGER = new Set([2, 3, 4, 5, 6, 7, 12, 13])

/** Cast: exact on constants; on input-dependent values only a cast to float is linear (the identity). */
export const Cast: Handler = (ctx, [x]) => {
  const v = need(ctx, x, 'input')
  const to = attrNum(ctx, 'to', NaN)
  const convert: ((e: number) => number) | undefined =
    to === FLOAT
      ? Math.fround
      : to === DOUBLE
        ? (e) => e
        : to === BOOL
          ? (e) => (e !== 0 ? 1 : 0)
          : INTEGER.has(to)
            ? Math.trunc
            : undefined
  if (!convert)
    throw new LoweringError({
      node: ctx.node,
      problem: `cast to data type ${to} is not supported`,
      details: ['Supported: float, double, bool and integer types.'],
    })
  if (v.kind === 'const') return [{ ...v, data: v.data.map(convert) }]
  // An attention mask cast to bool or back to int (src/onnx/ops/input-mask.ts).
  const onMask = to !== FLOAT && to !== DOUBLE ? ofBinaryInput(ctx, [v], shapeOf(v), ([e]) => convert(e)) : null
  if (onMask) return [onMask]
  if (to !== FLOAT && to !== DOUBLE)
    throw new LoweringError({
      node: ctx.node,
      problem: `cast of an input-dependent value to data type ${to} is not supported`,
      details: ['Only casts to float are linear.'],
    })
  return [v]
}

/** y = min(max(x, lo), hi) as a clamp step; null bounds are open. */
export function clamp(ctx: Ctx, v: Sym, lo: number | null, hi: number | null): Sym {
  if (v.kind === 'const')
    return { ...v, data: v.data.map((e) => Math.min(Math.max(e, lo ?? -Infinity), hi ?? Infinity)) }
  if (lo === null && hi === null) return v
  const id = emit(ctx, { kind: 'clamp', inputs: [materialize(ctx, v)], lo, hi }, v.a.shape)
  return fresh(id, v.a.shape)
}

export const Relu: Handler = (ctx, [x]) => [clamp(ctx, need(ctx, x, 'input'), 0, null)]

/** Clip: min/max are inputs from opset 11 (absent = open), attributes before. Clip(0, 6) is ReLU6. */
export const Clip: Handler = (ctx, [x, minIn, maxIn]) => {
  const bound = (input: Sym | undefined, name: 'min' | 'max'): number | null => {
    if (input) {
      const c = needConst(ctx, input, name)
      if (c.data.length !== 1) throw new LoweringError({ node: ctx.node, problem: `${name} must be a scalar` })
      // -inf (let through by the parser for masks) is no bound at all.
      return Number.isFinite(c.data[0]) ? c.data[0] : null
    }
    const a = ctx.node.attributes[name]
    return typeof a === 'number' ? a : null
  }
  return [clamp(ctx, need(ctx, x, 'input'), bound(minIn, 'min'), bound(maxIn, 'max'))]
}
