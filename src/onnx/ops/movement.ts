import { sizeOf } from '../graph.js'
import { broadcastIndex, broadcastShapes, reshapeTarget, strides, unravel } from '../shapes.js'
import {
  type Handler,
  LoweringError,
  attrInts,
  attrString,
  intsParam,
  need,
  needConst,
  normalizeAxis,
  attrNum,
  remap,
  shapeOf,
  sumPlaced,
  withShape,
} from './common.js'
import { gatherByTokenIds } from './embedding.js'

// Movement ops are index maps: they compose into the pending map (or fold a constant) and
// cost nothing in the circuit.

export const Flatten: Handler = (ctx, [x]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', 1), s.length + 1)
  return [withShape(v, [sizeOf(s.slice(0, axis)), sizeOf(s.slice(axis))])]
}

export const Reshape: Handler = (ctx, [x, spec]) => {
  const v = need(ctx, x, 'input')
  const wanted = Array.from(needConst(ctx, spec, 'shape').data)
  const target = reshapeTarget(shapeOf(v), wanted)
  if (!target) throw new LoweringError({ node: ctx.node, problem: `cannot reshape [${shapeOf(v)}] to [${wanted}]` })
  return [withShape(v, target)]
}

export const Transpose: Handler = (ctx, [x]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const perm = attrInts(ctx, 'perm') ?? s.map((_, i) => s.length - 1 - i)
  if (perm.length !== s.length || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
    throw new LoweringError({ node: ctx.node, problem: `perm [${perm}] is not a permutation of ${s.length} axes` })
  const out = perm.map((p) => s[p])
  const si = strides(s),
    so = strides(out)
  return [remap(v, out, (o) => unravel(o, out, so).reduce((at, c, i) => at + c * si[perm[i]], 0))]
}

export const Squeeze: Handler = (ctx, [x, axesIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const axes = intsParam(ctx, axesIn, 'axes')?.map((a) => normalizeAxis(ctx, a, s.length))
  for (const a of axes ?? [])
    if (s[a] !== 1) throw new LoweringError({ node: ctx.node, problem: `cannot squeeze axis ${a} of size ${s[a]}` })
  return [
    withShape(
      v,
      s.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)),
    ),
  ]
}

export const Unsqueeze: Handler = (ctx, [x, axesIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const given = intsParam(ctx, axesIn, 'axes')
  if (!given) throw new LoweringError({ node: ctx.node, problem: 'missing axes' })
  const rank = s.length + given.length
  const axes = given.map((a) => normalizeAxis(ctx, a, rank))
  if (new Set(axes).size !== axes.length)
    throw new LoweringError({ node: ctx.node, problem: `repeated axes [${given}]` })
  const out: number[] = []
  let at = 0
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : s[at++])
  return [withShape(v, out)]
}

/** Pad: constant, edge and reflect modes are all index maps (constant pads become bias). */
export const Pad: Handler = (ctx, [x, padsIn, valueIn, axesIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const r = s.length
  const mode = attrString(ctx, 'mode', 'constant')
  const given = intsParam(ctx, padsIn, 'pads')
  if (!given) throw new LoweringError({ node: ctx.node, problem: 'missing pads' })
  const axes = axesIn
    ? Array.from(needConst(ctx, axesIn, 'axes').data, (a) => normalizeAxis(ctx, a, r))
    : s.map((_, i) => i)
  if (given.length !== 2 * axes.length)
    throw new LoweringError({ node: ctx.node, problem: `pads [${given}] do not match ${axes.length} axes` })
  const begin = new Array<number>(r).fill(0),
    end = new Array<number>(r).fill(0)
  axes.forEach((a, i) => {
    begin[a] = given[i]
    end[a] = given[i + axes.length]
  })
  const value = valueIn ? (needConst(ctx, valueIn, 'constant_value').data[0] ?? 0) : attrNum(ctx, 'value', 0)
  const out = s.map((d, i) => d + begin[i] + end[i])
  if (out.some((d) => d < 0))
    throw new LoweringError({ node: ctx.node, problem: `pads [${given}] crop more than the input [${s}]` })
  const coord: Record<string, (c: number, d: number) => number> = {
    constant: (c, d) => (c >= 0 && c < d ? c : -1),
    edge: (c, d) => Math.min(Math.max(c, 0), d - 1),
    reflect: (c, d) => {
      if (d === 1) return 0
      const p = 2 * (d - 1)
      const m = ((c % p) + p) % p
      return m < d ? m : p - m
    },
  }
  const map = coord[mode]
  if (!map)
    throw new LoweringError({
      node: ctx.node,
      problem: `unsupported mode "${mode}"`,
      details: ['Supported: constant, edge, reflect.'],
    })
  const si = strides(s),
    so = strides(out)
  return [
    remap(
      v,
      out,
      (o) => {
        let at = 0
        for (let i = 0; i < r; i++) {
          const c = map((Math.floor(o / so[i]) % out[i]) - begin[i], s[i])
          if (c < 0) return -1
          at += c * si[i]
        }
        return at
      },
      value,
    ),
  ]
}

export const Slice: Handler = (ctx, [x, startsIn, endsIn, axesIn, stepsIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const starts = intsParam(ctx, startsIn, 'starts'),
    ends = intsParam(ctx, endsIn, 'ends')
  if (!starts || !ends || starts.length !== ends.length)
    throw new LoweringError({ node: ctx.node, problem: 'starts and ends are required and must have the same length' })
  const axes = (intsParam(ctx, axesIn, 'axes') ?? starts.map((_, i) => i)).map((a) => normalizeAxis(ctx, a, s.length))
  const steps = stepsIn ? Array.from(needConst(ctx, stepsIn, 'steps').data) : starts.map(() => 1)
  const first = s.map(() => 0),
    step = s.map(() => 1),
    out = [...s]
  axes.forEach((a, i) => {
    const d = s[a],
      k = steps[i]
    if (k === 0) throw new LoweringError({ node: ctx.node, problem: 'a step of 0 is not allowed' })
    // INVARIANT: ONNX clamps starts to [0, d] and ends to [0, d] going forwards, to [0, d-1] and [-1, d-1] going backwards.
    let b = starts[i] < 0 ? starts[i] + d : starts[i]
    let e = ends[i] < 0 ? ends[i] + d : ends[i]
    b = k > 0 ? Math.min(Math.max(b, 0), d) : Math.min(Math.max(b, 0), d - 1)
    e = k > 0 ? Math.min(Math.max(e, 0), d) : Math.min(Math.max(e, -1), d - 1)
    first[a] = b
    step[a] = k
    out[a] = Math.max(0, Math.ceil((e - b) / k))
  })
  const si = strides(s),
    so = strides(out)
  return [remap(v, out, (o) => unravel(o, out, so).reduce((at, c, i) => at + (first[i] + c * step[i]) * si[i], 0))]
}

export const Concat: Handler = (ctx, inputs) => {
  const parts = inputs.map((x, i) => need(ctx, x, `input ${i}`))
  const shapes = parts.map(shapeOf)
  const r = shapes[0].length
  if (typeof ctx.node.attributes.axis !== 'number')
    throw new LoweringError({ node: ctx.node, problem: 'missing attribute axis' })
  const axis = normalizeAxis(ctx, ctx.node.attributes.axis, r)
  if (shapes.some((p) => p.length !== r || p.some((d, i) => i !== axis && d !== shapes[0][i]))) {
    throw new LoweringError({
      node: ctx.node,
      problem: `shapes ${shapes.map((p) => `[${p}]`).join(', ')} do not concatenate along axis ${axis}`,
    })
  }
  const out = [...shapes[0]]
  out[axis] = shapes.reduce((n, p) => n + p[axis], 0)
  const so = strides(out)
  let offset = 0
  // Each piece is placed in the output (the rest of its rows empty), then all are summed.
  const placed = parts.map((p, k) => {
    const lo = offset,
      d = shapes[k][axis],
      sp = strides(shapes[k])
    offset += d
    return remap(p, out, (o) => {
      const c = unravel(o, out, so)
      if (c[axis] < lo || c[axis] >= lo + d) return -1
      c[axis] -= lo
      return c.reduce((at, ci, i) => at + ci * sp[i], 0)
    })
  })
  return [sumPlaced(placed, out)]
}

/**
 * Gather with constant indices (negative ones count from the end): an index map. Indices that
 * depend on the input (token ids) select rows of a constant table: src/onnx/ops/embedding.ts.
 */
export const Gather: Handler = (ctx, [x, indicesIn]) => {
  const v = need(ctx, x, 'data')
  const given = need(ctx, indicesIn, 'indices')
  if (given.kind === 'affine') return [gatherByTokenIds(ctx, v, given)]
  const ind = given
  const s = shapeOf(v)
  const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', 0), s.length)
  const d = s[axis]
  const indices = Array.from(ind.data, (i) => {
    if (i < -d || i >= d)
      throw new LoweringError({ node: ctx.node, problem: `index ${i} is out of range for axis ${axis} of size ${d}` })
    return i < 0 ? i + d : i
  })
  const inner = sizeOf(s.slice(axis + 1)),
    n = indices.length
  const out = [...s.slice(0, axis), ...ind.dims, ...s.slice(axis + 1)]
  return [
    remap(v, out, (o) => {
      const i = o % inner,
        j = Math.floor(o / inner) % n,
        b = Math.floor(o / (inner * n))
      return (b * d + indices[j]) * inner + i
    }),
  ]
}

/** Expand: numpy broadcast of the input to (the broadcast of) a constant shape: an index map. */
export const Expand: Handler = (ctx, [x, shapeIn]) => {
  const v = need(ctx, x, 'input')
  const wanted = Array.from(needConst(ctx, shapeIn, 'shape').data)
  const out = broadcastShapes(shapeOf(v), wanted)
  if (!out) throw new LoweringError({ node: ctx.node, problem: `cannot expand [${shapeOf(v)}] to [${wanted}]` })
  const index = broadcastIndex(shapeOf(v), out)
  return [remap(v, out, (o) => index[o])]
}

/** Tile: the input repeated `repeats[i]` times along each axis: an index map. */
export const Tile: Handler = (ctx, [x, repeatsIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const repeats = Array.from(needConst(ctx, repeatsIn, 'repeats').data)
  if (repeats.length !== s.length || repeats.some((n) => !Number.isInteger(n) || n < 0))
    throw new LoweringError({ node: ctx.node, problem: `repeats [${repeats}] do not fit an input of rank ${s.length}` })
  const out = s.map((d, i) => d * repeats[i])
  const si = strides(s),
    so = strides(out)
  return [remap(v, out, (o) => unravel(o, out, so).reduce((at, c, i) => at + (c % s[i]) * si[i], 0))]
}

/**
 * Split along `axis`: sizes from the `split` attribute (opset < 13) or input (≥ 13), else equal
 * parts, one per output (the last one smaller when opset 18's num_outputs does not divide).
 */
export const Split: Handler = (ctx, [x, splitIn]) => {
  const v = need(ctx, x, 'input')
  const s = shapeOf(v)
  const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', 0), s.length)
  const d = s[axis]
  const count = ctx.node.outputs.length
  const given = intsParam(ctx, splitIn, 'split')
  const part = Math.ceil(d / count)
  const sizes = given ?? Array.from({ length: count }, (_, i) => Math.max(0, Math.min(part, d - i * part)))
  if (sizes.length !== count || sizes.reduce((a, b) => a + b, 0) !== d || (!given && d % count !== 0 && ctx.opset < 18))
    throw new LoweringError({
      node: ctx.node,
      problem: `cannot split axis ${axis} of size ${d} into ${given ? `[${given}]` : `${count} equal parts`}`,
    })
  const si = strides(s)
  let at = 0
  return sizes.map((n) => {
    const lo = at
    at += n
    const out = s.map((e, i) => (i === axis ? n : e))
    const so = strides(out)
    return remap(v, out, (o) => unravel(o, out, so).reduce((acc, c, i) => acc + (i === axis ? c + lo : c) * si[i], 0))
  })
}
