import { BaseError, type ErrorParameters } from '../../errors.js'
import { type Affine, type RowTerms, add, compose, identity, isIndexMap } from '../affine.js'
import { type FloatOp, type FloatPostprocess, type FloatStep, sizeOf } from '../graph.js'
import type { AttributeValue, OnnxNode, OnnxTensor } from '../parse.js'
import { broadcastIndex } from '../shapes.js'

/** A value during lowering: a folded constant, or an affine map over emitted tensors. */
/** `dataType` (TensorProto.DataType) is kept where known: a quantisation zero point's type picks the integer range. */
export type Sym =
  | { kind: 'const'; dims: number[]; data: Float64Array; dataType?: number }
  | { kind: 'affine'; a: Affine; origin?: string[] }
export type ConstSym = Extract<Sym, { kind: 'const' }>
export type AffineSym = Extract<Sym, { kind: 'affine' }>

/** An ONNX node veriml cannot lower: names the node (`node`, `opType`) and what is wrong with it. */
export class LoweringError extends BaseError {
  override name = 'LoweringError'
  readonly node: string
  readonly opType: string
  readonly problem: string
  /** `node` is the ONNX node itself; the error keeps its name and op type. */
  constructor({
    node,
    problem,
    details,
    cause,
  }: ErrorParameters<{ node: Pick<OnnxNode, 'name' | 'opType'>; problem: string }>) {
    super(`node "${node.name}" (${node.opType}): ${problem}`, { details, cause })
    this.node = node.name
    this.opType = node.opType
    this.problem = problem
  }
}

export interface Ctx {
  steps: FloatStep[]
  nextId: number
  node: OnnxNode
  /** Opset of the ai.onnx domain: decides whether a parameter is an attribute or an input. */
  opset: number
  /** Graph outputs that no node reads: the only place an output-only op (Softmax) may stand. */
  finalOutputs: ReadonlySet<string>
  /** Post-processing noted by output-only ops, by the graph output name they produce. */
  postprocess: Map<string, FloatPostprocess>
  /** Token ids (src/onnx/ops/embedding.ts): the int32/int64 graph inputs by tensor id, and the tables Gather indexes with them. */
  tokenIds: TokenIdState
  /** int32/int64 inputs a Softmax reads as a 0/1 attention mask (src/onnx/ops/input-mask.ts): declared binary. */
  maskInputs: Set<number>
}

export interface TokenIdState {
  /** Graph inputs that may hold token ids (int32/int64), by tensor id: their names. */
  candidates: ReadonlyMap<number, string>
  /** Per input indexing a table: the fewest rows of the tables it indexes (its domain is [0, rows − 1]), and that table. */
  domains: Map<number, { rows: number; table: string }>
  /** The steps of those Gathers (the ids' clamp to the rows, the lookups): the only steps that may read token ids. */
  readers: Set<number>
}

export type Handler = (ctx: Ctx, inputs: (Sym | undefined)[]) => Sym[]

export const num = (v: AttributeValue | undefined, dflt: number): number => (typeof v === 'number' ? v : dflt)

/** What an attribute value is, in the user's words, for an error naming what was expected instead. */
export function describeAttribute(v: AttributeValue): string {
  if (typeof v === 'number') return 'a number'
  if (typeof v === 'string') return 'a string'
  if (Array.isArray(v)) {
    const first = v[0]
    return typeof first === 'string'
      ? 'a list of strings'
      : typeof first === 'object'
        ? 'a list of tensors'
        : 'a list of numbers'
  }
  return 'opaque' in v ? `a ${v.opaque.replace('_', ' ')}` : 'a tensor'
}

function wrongAttribute(ctx: Ctx, name: string, expected: string, v: AttributeValue): LoweringError {
  return new LoweringError({
    node: ctx.node,
    problem: `attribute "${name}" must be ${expected}, the model gives ${describeAttribute(v)}`,
  })
}

/** A number attribute (int or float), `dflt` when absent; any other type is the model's error, named. */
export function attrNum(ctx: Ctx, name: string, dflt: number): number {
  const v = ctx.node.attributes[name]
  if (v === undefined) return dflt
  if (typeof v !== 'number') throw wrongAttribute(ctx, name, 'a number', v)
  return v
}

export function attrInts(ctx: Ctx, name: string): number[] | undefined {
  const v = ctx.node.attributes[name]
  if (v === undefined) return undefined
  if (!isNumbers(v)) throw wrongAttribute(ctx, name, 'a list of ints', v)
  return v
}

/** A list of numbers (an empty list counts: the parser cannot tell an empty INTS from an empty STRINGS). */
export const isNumbers = (v: AttributeValue | undefined): v is number[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'number')

export function attrString(ctx: Ctx, name: string, dflt: string): string {
  const v = ctx.node.attributes[name]
  if (v === undefined) return dflt
  if (typeof v !== 'string') throw wrongAttribute(ctx, name, 'a string', v)
  return v
}

/** A parameter that moved from an attribute to an input in some opset: the input wins when given. */
export function intsParam(ctx: Ctx, input: Sym | undefined, name: string): number[] | undefined {
  if (input) return Array.from(needConst(ctx, input, name).data)
  return attrInts(ctx, name)
}

export function normalizeAxis(ctx: Ctx, axis: number, rank: number): number {
  if (axis < -rank || axis >= rank)
    throw new LoweringError({ node: ctx.node, problem: `axis ${axis} is out of range for rank ${rank}` })
  return axis < 0 ? axis + rank : axis
}

export function emit(ctx: Ctx, op: FloatOp, shape: number[], origin = ctx.node.name): number {
  const id = ctx.nextId++
  ctx.steps.push({ origin, op, id, shape })
  return id
}

/** The gather index of `a` when every row is one unit-weight base element or the constant 0; else null. */
function gatherIndex(a: Affine): Int32Array | null {
  const index = new Int32Array(a.bias.length)
  for (let j = 0; j < index.length; j++) {
    const n = a.rowPtr[j + 1] - a.rowPtr[j]
    if (a.bias[j] !== 0 || n > 1 || (n === 1 && a.vals[a.rowPtr[j]] !== 1)) return null
    index[j] = n === 0 ? -1 : a.cols[a.rowPtr[j]]
  }
  return index
}

/**
 * Tensors already emitted for a pending map, per lowering: a value read by several non-linear
 * nodes, or also a graph output (e.g. the logits under a final Softmax), is emitted once.
 * Pending maps are never changed in place, so the same object always means the same tensor.
 */
const emitted = new WeakMap<Ctx, WeakMap<AffineSym, number>>()

/** Emits the pending affine map as a step (a gather when it is a pure index map) and returns its tensor. */
export function materialize(ctx: Ctx, s: Sym): number {
  if (s.kind === 'const')
    throw new LoweringError({
      node: ctx.node,
      problem: 'a value that does not depend on the model input cannot be an activation or an output',
    })
  const a = s.a
  const inputs = a.bases.map((b) => b.id)
  const isPlainBase =
    a.bases.length === 1 && a.bias.length === a.bases[0].size && isIndexMap(a) && a.cols.every((c, i) => c === i)
  if (isPlainBase) return a.bases[0].id
  let memo = emitted.get(ctx)
  if (!memo) emitted.set(ctx, (memo = new WeakMap()))
  const done = memo.get(s)
  if (done !== undefined) return done
  const id = emitStep(ctx, s, inputs)
  memo.set(s, id)
  return id
}

function emitStep(ctx: Ctx, s: AffineSym, inputs: number[]): number {
  const a = s.a
  // A fused step is named after the ONNX nodes it implements, for errors and reports.
  const origin = (s.origin?.length ? s.origin : [ctx.node.name]).join('+')
  // Zero fill only: a gather's fill is not requantised, so another constant could leave the activation domain.
  const index = gatherIndex(a)
  if (index) return emit(ctx, { kind: 'gather', inputs, index, fill: 0 }, a.shape, origin)
  // The parser lets -inf through for attention masks, which Where and Add map to a finite fill; anywhere else it is refused.
  if (!a.vals.every(Number.isFinite) || !a.bias.every(Number.isFinite))
    throw new LoweringError({
      node: ctx.node,
      problem: 'an infinite constant (-inf) reaches a linear step',
      details: ['-inf is supported only as an attention mask: the fill of a Where, or a constant added to scores.'],
    })
  return emit(
    ctx,
    { kind: 'affine', inputs, rowPtr: a.rowPtr, cols: a.cols, vals: a.vals, bias: a.bias },
    a.shape,
    origin,
  )
}

/** A fresh tensor for an emitted step: the nodes fused before it are done. */
export const fresh = (id: number, shape: number[]): Sym => ({ kind: 'affine', a: identity(id, shape), origin: [] })

export const shapeOf = (s: Sym): number[] => (s.kind === 'const' ? s.dims : s.a.shape)

export function need(ctx: Ctx, s: Sym | undefined, what: string): Sym {
  if (!s) throw new LoweringError({ node: ctx.node, problem: `missing ${what}` })
  return s
}

export function needConst(ctx: Ctx, s: Sym | undefined, what: string): ConstSym {
  const v = need(ctx, s, what)
  if (v.kind !== 'const')
    throw new LoweringError({
      node: ctx.node,
      problem: `${what} must be a constant (an initializer or Constant node)`,
      details: [
        'Only Mul, MatMul and Gemm take two input-dependent tensors; weights of the other linear ops (Conv…) and parameters must be constants.',
      ],
    })
  return v
}

export function withShape(s: Sym, shape: number[]): Sym {
  return s.kind === 'const' ? { ...s, dims: shape } : { kind: 'affine', a: { ...s.a, shape } }
}

export function broadcastTo(s: AffineSym, shape: number[]): Affine {
  const idx = broadcastIndex(s.a.shape, shape)
  return compose(s.a, shape, (o) => ({ idx: [idx[o]], w: [1], bias: 0 }))
}

export function constOf(t: OnnxTensor): Sym {
  // Float data is copied as is (Number is the identity on it): a mapped from() took seconds on 10M weights.
  const data =
    t.data instanceof Float64Array ? t.data.slice() : Float64Array.from(t.data as ArrayLike<number | bigint>, Number)
  return { kind: 'const', dims: t.dims, data, ...(t.dataType !== undefined ? { dataType: t.dataType } : {}) }
}

/** A linear map of `s` with constant coefficients: composed when pending, evaluated when constant. */
export function linear(s: Sym, shape: number[], row: (o: number) => RowTerms): Sym {
  if (s.kind === 'affine') return { kind: 'affine', a: compose(s.a, shape, row) }
  const data = new Float64Array(sizeOf(shape))
  for (let o = 0; o < data.length; o++) {
    const { idx, w, bias } = row(o)
    let acc = bias
    for (let t = 0; t < idx.length; t++) acc += w[t] * s.data[idx[t]]
    data[o] = acc
  }
  return { kind: 'const', dims: shape, data }
}

/** A movement op: output element o is input element src(o), or `fill` where src(o) < 0. */
export function remap(s: Sym, shape: number[], src: (o: number) => number, fill = 0): Sym {
  const one = [0],
    unit = [1],
    none: number[] = []
  return linear(s, shape, (o) => {
    const i = src(o)
    if (i < 0) return { idx: none, w: none, bias: fill }
    one[0] = i
    return { idx: one, w: unit, bias: 0 }
  })
}

/**
 * Sums maps of one shape whose elements come from different values (e.g. Concat's pieces
 * placed in the output): pending maps are merged over the union of their bases with `add`,
 * constants go into the bias.
 */
export function sumPlaced(parts: Sym[], shape: number[]): Sym {
  const pending = parts.filter((p): p is AffineSym => p.kind === 'affine')
  const consts = parts.filter((p): p is ConstSym => p.kind === 'const')
  const n = sizeOf(shape)
  const constSum = new Float64Array(n)
  for (const c of consts) for (let o = 0; o < n; o++) constSum[o] += c.data[o]
  if (pending.length === 0) return { kind: 'const', dims: shape, data: constSum }
  let a = pending[0].a
  for (const p of pending.slice(1)) a = add(a, p.a, 1)
  if (consts.length > 0) a = { ...a, bias: a.bias.map((b, o) => b + constSum[o]) }
  return { kind: 'affine', a: { ...a, shape } }
}
