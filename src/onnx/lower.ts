import { BaseError } from '../errors.js'
import { type Affine, add, compose, identity, isIndexMap } from './affine.js'
import { type FloatGraph, type FloatOp, type FloatStep, sizeOf } from './graph.js'
import type { AttributeValue, OnnxModel, OnnxNode, OnnxTensor } from './parse.js'
import { broadcastIndex, broadcastShapes, reshapeTarget } from './shapes.js'

/** A value during lowering: a folded constant, or an affine map over emitted tensors. */
export type Sym = { kind: 'const'; dims: number[]; data: Float64Array } | { kind: 'affine'; a: Affine; origin?: string[] }

export class UnsupportedOpsError extends BaseError {
  override name = 'UnsupportedOpsError'
  readonly nodes: { name: string; opType: string; opset: number }[]
  constructor(nodes: { name: string; opType: string; opset: number }[]) {
    super(`${nodes.length} unsupported ONNX node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => `${n.name} (${n.opType}, opset ${n.opset})`).join(', ')}`, {
      details: [`Supported ops: ${Object.keys(OPS).sort().join(', ')}.`],
    })
    this.nodes = nodes
  }
}

export class LoweringError extends BaseError {
  override name = 'LoweringError'
  readonly node: string
  readonly opType: string
  constructor(node: OnnxNode, problem: string, details: string[] = []) {
    super(`node "${node.name}" (${node.opType}): ${problem}`, { details })
    this.node = node.name
    this.opType = node.opType
  }
}

interface Ctx {
  steps: FloatStep[]
  nextId: number
  node: OnnxNode
}

type Handler = (ctx: Ctx, inputs: (Sym | undefined)[]) => Sym[]

const num = (v: AttributeValue | undefined, dflt: number): number => (typeof v === 'number' ? v : dflt)

function emit(ctx: Ctx, op: FloatOp, shape: number[], origin = ctx.node.name): number {
  const id = ctx.nextId++
  ctx.steps.push({ origin, op, id, shape })
  return id
}

/** Emits the pending affine map as a step (a gather when it is a pure index map) and returns its tensor. */
function materialize(ctx: Ctx, s: Sym): number {
  if (s.kind === 'const') throw new LoweringError(ctx.node, 'a value that does not depend on the model input cannot be an activation or an output')
  const a = s.a
  const inputs = a.bases.map((b) => b.id)
  const isPlainBase = a.bases.length === 1 && a.bias.length === a.bases[0].size && isIndexMap(a) && a.cols.every((c, i) => c === i)
  if (isPlainBase) return a.bases[0].id
  // A fused step is named after the ONNX nodes it implements, for errors and reports.
  const origin = (s.origin?.length ? s.origin : [ctx.node.name]).join('+')
  if (isIndexMap(a)) return emit(ctx, { kind: 'gather', inputs, index: Int32Array.from(a.cols), fill: 0 }, a.shape, origin)
  return emit(ctx, { kind: 'affine', inputs, rowPtr: a.rowPtr, cols: a.cols, vals: a.vals, bias: a.bias }, a.shape, origin)
}

const shapeOf = (s: Sym): number[] => (s.kind === 'const' ? s.dims : s.a.shape)

function need(ctx: Ctx, s: Sym | undefined, what: string): Sym {
  if (!s) throw new LoweringError(ctx.node, `missing ${what}`)
  return s
}
function needConst(ctx: Ctx, s: Sym | undefined, what: string): Extract<Sym, { kind: 'const' }> {
  const v = need(ctx, s, what)
  if (v.kind !== 'const') throw new LoweringError(ctx.node, `${what} must be a constant (an initializer or Constant node)`, ['Products of two input-dependent tensors are not supported yet.'])
  return v
}

function withShape(s: Sym, shape: number[]): Sym {
  return s.kind === 'const' ? { ...s, dims: shape } : { kind: 'affine', a: { ...s.a, shape } }
}

function broadcastTo(s: Extract<Sym, { kind: 'affine' }>, shape: number[]): Affine {
  const idx = broadcastIndex(s.a.shape, shape)
  return compose(s.a, shape, (o) => ({ idx: [idx[o]], w: [1], bias: 0 }))
}

function elementwise(ctx: Ctx, inputs: (Sym | undefined)[], kind: 'Add' | 'Sub' | 'Mul'): Sym {
  const x = need(ctx, inputs[0], 'input A')
  const y = need(ctx, inputs[1], 'input B')
  const shape = broadcastShapes(shapeOf(x), shapeOf(y))
  if (!shape) throw new LoweringError(ctx.node, `shapes [${shapeOf(x)}] and [${shapeOf(y)}] do not broadcast`)
  const f = { Add: (p: number, q: number) => p + q, Sub: (p: number, q: number) => p - q, Mul: (p: number, q: number) => p * q }[kind]
  if (x.kind === 'const' && y.kind === 'const') {
    const ix = broadcastIndex(x.dims, shape)
    const iy = broadcastIndex(y.dims, shape)
    return { kind: 'const', dims: shape, data: Float64Array.from(ix, (i, o) => f(x.data[i], y.data[iy[o]])) }
  }
  if (x.kind === 'affine' && y.kind === 'affine') {
    if (kind === 'Mul') throw new LoweringError(ctx.node, 'Mul of two input-dependent tensors is not supported yet', ['Multiply by a constant instead.'])
    return { kind: 'affine', a: add(broadcastTo(x, shape), broadcastTo(y, shape), kind === 'Add' ? 1 : -1) }
  }
  // One side affine, the other constant.
  const [lin, c, linFirst] = x.kind === 'affine' ? [x, y as Extract<Sym, { kind: 'const' }>, true] : [y as Extract<Sym, { kind: 'affine' }>, x, false]
  const il = broadcastIndex(lin.a.shape, shape)
  const ic = broadcastIndex(c.dims, shape)
  const a = compose(lin.a, shape, (o) => {
    const cv = c.data[ic[o]]
    if (kind === 'Mul') return { idx: [il[o]], w: [cv], bias: 0 }
    const sign = kind === 'Sub' && !linFirst ? -1 : 1
    const bias = kind === 'Add' ? cv : linFirst ? -cv : cv
    return { idx: [il[o]], w: [sign], bias }
  })
  return { kind: 'affine', a }
}

/** y[m,n] = Σ_k A[m,k]·B[k,n] where exactly one of A, B is affine (2-D after transposes). */
function matmul2d(ctx: Ctx, A: Sym, B: Sym, M: number, K: number, N: number, aAt: (m: number, k: number) => number, bAt: (k: number, n: number) => number, bias: (m: number, n: number) => number): Sym {
  const shape = [M, N]
  if (A.kind === 'affine' && B.kind === 'const') {
    const idx = new Int32Array(K)
    const w = new Float64Array(K)
    return { kind: 'affine', a: compose(A.a, shape, (o) => {
      const m = Math.floor(o / N), n = o % N
      for (let k = 0; k < K; k++) { idx[k] = aAt(m, k); w[k] = B.data[bAt(k, n)] }
      return { idx, w, bias: bias(m, n) }
    }) }
  }
  if (A.kind === 'const' && B.kind === 'affine') {
    const idx = new Int32Array(K)
    const w = new Float64Array(K)
    return { kind: 'affine', a: compose(B.a, shape, (o) => {
      const m = Math.floor(o / N), n = o % N
      for (let k = 0; k < K; k++) { idx[k] = bAt(k, n); w[k] = A.data[aAt(m, k)] }
      return { idx, w, bias: bias(m, n) }
    }) }
  }
  throw new LoweringError(ctx.node, 'exactly one operand must be a constant', ['Products of two input-dependent tensors are not supported yet.'])
}

function constOf(t: OnnxTensor): Sym {
  return { kind: 'const', dims: t.dims, data: Float64Array.from(t.data as ArrayLike<number | bigint>, Number) }
}

/** The one table mapping ONNX ops to lowering rules. */
export const OPS: Record<string, Handler> = {
  Identity: (_, [x]) => [x!],
  Dropout: (ctx, [x]) => [need(ctx, x, 'input')],
  Constant: (ctx) => {
    const a = ctx.node.attributes
    if (a.value && typeof a.value === 'object' && 'dims' in a.value) return [constOf(a.value)]
    if (typeof a.value_float === 'number') return [{ kind: 'const', dims: [], data: Float64Array.of(a.value_float) }]
    if (typeof a.value_int === 'number') return [{ kind: 'const', dims: [], data: Float64Array.of(a.value_int) }]
    for (const key of ['value_floats', 'value_ints'] as const) {
      const v = a[key]
      if (Array.isArray(v)) return [{ kind: 'const', dims: [v.length], data: Float64Array.from(v) }]
    }
    throw new LoweringError(ctx.node, 'unsupported Constant form', ['Use the value, value_float(s) or value_int(s) attribute.'])
  },
  Relu: (ctx, [x]) => {
    const v = need(ctx, x, 'input')
    if (v.kind === 'const') return [{ ...v, data: v.data.map((e) => Math.max(0, e)) }]
    const id = emit(ctx, { kind: 'clamp', inputs: [materialize(ctx, v)], lo: 0, hi: null }, v.a.shape)
    // A fresh tensor: the nodes fused before it are done.
    return [{ kind: 'affine', a: identity(id, v.a.shape), origin: [] }]
  },
  Add: (ctx, inputs) => [elementwise(ctx, inputs, 'Add')],
  Sub: (ctx, inputs) => [elementwise(ctx, inputs, 'Sub')],
  Mul: (ctx, inputs) => [elementwise(ctx, inputs, 'Mul')],
  Flatten: (ctx, [x]) => {
    const v = need(ctx, x, 'input')
    const s = shapeOf(v)
    const axis = (num(ctx.node.attributes.axis, 1) + s.length) % (s.length || 1)
    return [withShape(v, [sizeOf(s.slice(0, axis)), sizeOf(s.slice(axis))])]
  },
  Reshape: (ctx, [x, spec]) => {
    const v = need(ctx, x, 'input')
    const target = reshapeTarget(shapeOf(v), Array.from(needConst(ctx, spec, 'shape').data))
    if (!target) throw new LoweringError(ctx.node, `cannot reshape [${shapeOf(v)}] to [${Array.from((spec as { data: Float64Array }).data)}]`)
    return [withShape(v, target)]
  },
  Gemm: (ctx, [a, b, c]) => {
    const A = need(ctx, a, 'input A'), B = need(ctx, b, 'input B')
    const at = ctx.node.attributes
    const alpha = num(at.alpha, 1), beta = num(at.beta, 1), tA = num(at.transA, 0), tB = num(at.transB, 0)
    const [a0, a1] = shapeOf(A), [b0, b1] = shapeOf(B)
    const [M, K] = tA ? [a1, a0] : [a0, a1]
    const [K2, N] = tB ? [b1, b0] : [b0, b1]
    if (shapeOf(A).length !== 2 || shapeOf(B).length !== 2 || K !== K2) {
      throw new LoweringError(ctx.node, `incompatible shapes A [${shapeOf(A)}] and B [${shapeOf(B)}] (transA=${tA}, transB=${tB})`)
    }
    const scale = (s: Sym): Sym => (s.kind === 'const' ? { ...s, data: s.data.map((e) => e * alpha) } : s)
    let C: Sym | undefined = c
    let cIdx: Int32Array | null = null
    if (C?.kind === 'const') cIdx = broadcastIndex(C.dims, [M, N])
    const bias = (m: number, n: number) => (C?.kind === 'const' ? beta * C.data[cIdx![m * N + n]] : 0)
    // alpha is folded into whichever operand is constant.
    let y = matmul2d(ctx, scale(A), scale(B), M, K, N,
      (m, k) => (tA ? k * M + m : m * K + k), (k, n) => (tB ? n * K + k : k * N + n), bias)
    if (C?.kind === 'affine') y = { kind: 'affine', a: add((y as { a: Affine }).a, broadcastTo(elementwise(ctx, [C, { kind: 'const', dims: [], data: Float64Array.of(beta) }], 'Mul') as Extract<Sym, { kind: 'affine' }>, [M, N]), 1) }
    return [y]
  },
  MatMul: (ctx, [a, b]) => {
    const A = need(ctx, a, 'input A'), B = need(ctx, b, 'input B')
    const sa = shapeOf(A), sb = shapeOf(B)
    const a2 = sa.length === 1 ? [1, sa[0]] : sa
    const b2 = sb.length === 1 ? [sb[0], 1] : sb
    const [M, K] = a2.slice(-2), [K2, N] = b2.slice(-2)
    const batch = a2.slice(0, -2)
    if (K !== K2 || b2.length > 2 || (batch.length > 0 && A.kind !== 'affine')) {
      throw new LoweringError(ctx.node, `unsupported MatMul shapes [${sa}] × [${sb}]`, ['Supported: [..., M, K] × constant [K, N], and constant [M, K] × [K, N].'])
    }
    const outShape = [...(sa.length === 1 ? [] : [...batch, M]), ...(sb.length === 1 ? [] : [N])]
    const B_ = sizeOf(batch)
    if (B_ === 1) return [withShape(matmul2d(ctx, A, B, M, K, N, (m, k) => m * K + k, (k, n) => k * N + n, () => 0), outShape)]
    // Batched affine × constant: rows of every batch share the constant.
    const Bc = needConst(ctx, B, 'input B')
    const idx = new Int32Array(K), w = new Float64Array(K)
    return [{ kind: 'affine', a: compose((A as { a: Affine }).a, outShape, (o) => {
      const bt = Math.floor(o / (M * N)), m = Math.floor(o / N) % M, n = o % N
      for (let k = 0; k < K; k++) { idx[k] = bt * M * K + m * K + k; w[k] = Bc.data[k * N + n] }
      return { idx, w, bias: 0 }
    }) }]
  },
}

/**
 * Lowers a parsed ONNX model to the float graph. Fails with ONE error listing every
 * unsupported node before doing any work.
 */
export function lowerOnnx(model: OnnxModel): FloatGraph {
  const unsupported = model.nodes.filter((n) => !(n.opType in OPS) || (n.domain && n.domain !== 'ai.onnx'))
  if (unsupported.length > 0) throw new UnsupportedOpsError(unsupported.map((n) => ({ name: n.name, opType: n.opType, opset: model.opset })))
  const syms = new Map<string, Sym>()
  for (const [name, t] of model.initializers) syms.set(name, constOf(t))
  const inputs = model.inputs.map((v, id) => ({ id, name: v.name, shape: v.shape }))
  for (const i of inputs) syms.set(i.name, { kind: 'affine', a: identity(i.id, i.shape) })
  const ctx: Ctx = { steps: [], nextId: inputs.length, node: model.nodes[0] }
  for (const node of model.nodes) {
    ctx.node = node
    const ins = node.inputs.map((n) => (n === '' ? undefined : syms.get(n)))
    const outs = OPS[node.opType](ctx, ins)
    // Pending affine maps remember which nodes they fuse (those that changed the map).
    const before = ins.flatMap((x) => (x?.kind === 'affine' && x.origin ? x.origin : []))
    node.outputs.forEach((name, i) => {
      const out = outs[i]
      if (!out) return
      if (out.kind === 'affine' && !ins.includes(out) && out.origin === undefined) out.origin = [...new Set([...before, node.name])]
      syms.set(name, out)
    })
  }
  const outputs = model.outputs.map((o) => {
    const s = syms.get(o.name)
    ctx.node = model.nodes.find((n) => n.outputs.includes(o.name)) ?? ctx.node
    if (!s) throw new LoweringError(ctx.node, `graph output "${o.name}" is never produced`)
    return { id: materialize(ctx, s), name: o.name }
  })
  return { name: model.name, inputs, steps: ctx.steps, outputs }
}
