import { add, compose, isIndexMap } from '../affine.js'
import { sizeOf } from '../graph.js'
import { broadcastIndex, broadcastShapes } from '../shapes.js'
import {
  type AffineSym,
  type ConstSym,
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  broadcastTo,
  emit,
  linear,
  fresh,
  materialize,
  need,
  attrNum,
  shapeOf,
  withShape,
} from './common.js'
import { maskFill } from './mask.js'

export function elementwise(ctx: Ctx, inputs: (Sym | undefined)[], kind: 'Add' | 'Sub' | 'Mul'): Sym {
  const x = need(ctx, inputs[0], 'input A')
  const y = need(ctx, inputs[1], 'input B')
  const shape = broadcastShapes(shapeOf(x), shapeOf(y))
  if (!shape)
    throw new LoweringError({ node: ctx.node, problem: `shapes [${shapeOf(x)}] and [${shapeOf(y)}] do not broadcast` })
  const f = {
    Add: (p: number, q: number) => p + q,
    Sub: (p: number, q: number) => p - q,
    Mul: (p: number, q: number) => p * q,
  }[kind]
  if (x.kind === 'const' && y.kind === 'const') {
    const ix = broadcastIndex(x.dims, shape)
    const iy = broadcastIndex(y.dims, shape)
    return { kind: 'const', dims: shape, data: Float64Array.from(ix, (i, o) => f(x.data[i], y.data[iy[o]])) }
  }
  if (x.kind === 'affine' && y.kind === 'affine') {
    if (kind === 'Mul') return product(ctx, x, y, shape)
    return { kind: 'affine', a: add(broadcastTo(x, shape), broadcastTo(y, shape), kind === 'Add' ? 1 : -1) }
  }
  // One side affine, the other constant.
  const [lin, c, linFirst] = x.kind === 'affine' ? [x, y as ConstSym, true] : [y as AffineSym, x, false]
  const il = broadcastIndex(lin.a.shape, shape)
  const ic = broadcastIndex(c.dims, shape)
  // (1 − mask)·(−big) of an int input (an attention mask, src/onnx/ops/input-mask.ts): −big as
  // MASK_FILL too, so that the scores' own bias, added next, is not lost beside float32's lowest.
  const onInts =
    lin.a.bases.length > 0 &&
    lin.a.bases.every((b) => ctx.tokenIds.candidates.has(b.id) && !ctx.tokenIds.domains.has(b.id))
  const a = compose(lin.a, shape, (o) => {
    // An additive attention mask (-inf, -1e9, float32's lowest) meets an activation here: kept finite.
    const cv = kind === 'Mul' && !onInts ? c.data[ic[o]] : maskFill(c.data[ic[o]])
    if (kind === 'Mul') return { idx: [il[o]], w: [cv], bias: 0 }
    const sign = kind === 'Sub' && !linFirst ? -1 : 1
    const bias = kind === 'Add' ? cv : linFirst ? -cv : cv
    return { idx: [il[o]], w: [sign], bias }
  })
  return { kind: 'affine', a }
}

/**
 * Mul of two pending maps: each is materialised (a product is not affine) and one 'mul' step
 * reads both, broadcasting as index maps into their concatenation. x·x reads one tensor twice.
 */
function product(ctx: Ctx, x: AffineSym, y: AffineSym, shape: number[]): Sym {
  const ix = materialize(ctx, x),
    iy = materialize(ctx, y)
  const inputs = ix === iy ? [ix] : [ix, iy]
  const off = ix === iy ? 0 : sizeOf(x.a.shape)
  const left = broadcastIndex(x.a.shape, shape)
  const right = broadcastIndex(y.a.shape, shape).map((v) => v + off)
  return fresh(emit(ctx, { kind: 'mul', inputs, left, right }, shape), shape)
}

/**
 * Operand geometry of a (batched) matrix product: y[bt,m,n] = alpha·Σ_k A[aAt(bt,m,k)]·B[bAt(bt,k,n)]
 * + bias(o), with bt the flat index over `batch` (already broadcast).
 */
interface MatmulGeometry {
  batch: number[]
  M: number
  K: number
  N: number
  aAt: (bt: number, m: number, k: number) => number
  bAt: (bt: number, k: number, n: number) => number
  bias: (o: number) => number
  alpha: number
}

/** The matrix product of any two operands: folded, composed into a pending map, or a product step. */
function matmulCore(ctx: Ctx, A: Sym, B: Sym, g: MatmulGeometry): Sym {
  const { batch, M, K, N, aAt, bAt, bias, alpha } = g
  if (A.kind === 'affine' && B.kind === 'affine') return activationProduct(ctx, A, B, g)
  const shape = [...batch, M, N]
  const at = (o: number) => [Math.floor(o / (M * N)), Math.floor(o / N) % M, o % N]
  if (A.kind === 'const' && B.kind === 'const') {
    const data = new Float64Array(sizeOf(shape))
    for (let o = 0; o < data.length; o++) {
      const [bt, m, n] = at(o)
      let acc = 0
      for (let k = 0; k < K; k++) acc += A.data[aAt(bt, m, k)] * B.data[bAt(bt, k, n)]
      data[o] = alpha * acc + bias(o)
    }
    return { kind: 'const', dims: shape, data }
  }
  // One side pending, the other constant: the constant's entries are the weights.
  const linFirst = A.kind === 'affine'
  const lin = sumFirst(ctx, (linFirst ? A : B) as AffineSym, K, sizeOf(shape))
  const c = (linFirst ? B : A) as ConstSym
  const idx = new Int32Array(K)
  const w = new Float64Array(K)
  return {
    kind: 'affine',
    a: compose(lin.a, shape, (o) => {
      const [bt, m, n] = at(o)
      for (let k = 0; k < K; k++) {
        const ia = aAt(bt, m, k),
          ib = bAt(bt, k, n)
        idx[k] = linFirst ? ia : ib
        w[k] = alpha * c.data[linFirst ? ib : ia]
      }
      return { idx, w, bias: bias(o) }
    }),
  }
}

/**
 * A pending sum of products (the P·V of attention) meeting a dense constant contraction (the
 * output projection) is emitted first: composed, every output would read K times as many
 * products (4M terms instead of 200k for 32 positions of width 64), where its own step costs
 * one requantisation. Only when composing would more than quadruple the terms: an elementwise
 * product (one term per row) and maps of other steps compose as always (one step per chain).
 */
function sumFirst(ctx: Ctx, s: AffineSym, K: number, outputs: number): AffineSym {
  if (!s.a.bases.some((b) => ctx.steps.find((st) => st.id === b.id)?.op.kind === 'mul')) return s
  const terms = s.a.cols.length
  const composed = (outputs * K * terms) / s.a.bias.length
  if (composed <= 4 * (terms + outputs * K)) return s
  return fresh(materialize(ctx, s), s.a.shape) as AffineSym
}

/**
 * An operand of a product step: its tensor (`size` elements) and, per element of the operand,
 * where it reads it. A pending pure index map over one tensor (a Transpose, a Reshape, the head
 * split of attention) is read through its index, so no gather step is emitted for it; anything
 * else is materialised (`index` null: read in place).
 */
export function operandOf(ctx: Ctx, s: AffineSym): { id: number; size: number; index: Int32Array | null } {
  if (s.a.bases.length === 1 && isIndexMap(s.a)) return { ...s.a.bases[0], index: s.a.cols }
  return { id: materialize(ctx, s), size: sizeOf(s.a.shape), index: null }
}

/**
 * Matrix product of two input-dependent tensors (attention's Q·Kᵀ and P·V): ONE 'mul' step with
 * every product a[.., m, k]·b[.., k, n], laid out [...batch, M, N, K], then a pending affine sum
 * over k with weight alpha. The sum is an ordinary linear map, so following constant linear ops
 * (bias, scaling, the output projection) compose into it.
 */
function activationProduct(ctx: Ctx, A: AffineSym, B: AffineSym, g: MatmulGeometry): Sym {
  const { batch, M, K, N, aAt, bAt, alpha } = g
  const a = operandOf(ctx, A),
    b = operandOf(ctx, B)
  const same = a.id === b.id
  // The step reads the concatenation of its inputs: B's elements follow A's tensor.
  const offset = same ? 0 : a.size
  const nb = sizeOf(batch)
  const productShape = [...batch, M, N, K]
  const left = new Int32Array(sizeOf(productShape)),
    right = new Int32Array(left.length)
  let p = 0
  for (let bt = 0; bt < nb; bt++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++)
        for (let k = 0; k < K; k++, p++) {
          const ia = aAt(bt, m, k),
            ib = bAt(bt, k, n)
          left[p] = a.index ? a.index[ia] : ia
          right[p] = (b.index ? b.index[ib] : ib) + offset
        }
  const inputs = same ? [a.id] : [a.id, b.id]
  const products = fresh(emit(ctx, { kind: 'mul', inputs, left, right }, productShape), productShape)
  const idx = new Int32Array(K)
  const w = new Float64Array(K).fill(alpha)
  return linear(products, [...batch, M, N], (o) => {
    for (let k = 0; k < K; k++) idx[k] = o * K + k
    return { idx, w, bias: g.bias(o) }
  })
}

export const Add: Handler = (ctx, inputs) => [elementwise(ctx, inputs, 'Add')]
export const Sub: Handler = (ctx, inputs) => [elementwise(ctx, inputs, 'Sub')]
export const Mul: Handler = (ctx, inputs) => [elementwise(ctx, inputs, 'Mul')]
/** Neg: the linear map -x (on activations too), folded on constants. */
export const Neg: Handler = (ctx, [x]) => {
  const v = need(ctx, x, 'input')
  const one = [0],
    minus = [-1]
  return [
    linear(v, shapeOf(v), (o) => {
      one[0] = o
      return { idx: one, w: minus, bias: 0 }
    }),
  ]
}

export const Gemm: Handler = (ctx, [a, b, c]) => {
  const A = need(ctx, a, 'input A'),
    B = need(ctx, b, 'input B')
  const alpha = attrNum(ctx, 'alpha', 1),
    beta = attrNum(ctx, 'beta', 1),
    tA = attrNum(ctx, 'transA', 0),
    tB = attrNum(ctx, 'transB', 0)
  const [a0, a1] = shapeOf(A),
    [b0, b1] = shapeOf(B)
  const [M, K] = tA ? [a1, a0] : [a0, a1]
  const [K2, N] = tB ? [b1, b0] : [b0, b1]
  if (shapeOf(A).length !== 2 || shapeOf(B).length !== 2 || K !== K2) {
    throw new LoweringError({
      node: ctx.node,
      problem: `incompatible shapes A [${shapeOf(A)}] and B [${shapeOf(B)}] (transA=${tA}, transB=${tB})`,
    })
  }
  const C: Sym | undefined = c
  const cIdx = C?.kind === 'const' ? broadcastIndex(C.dims, [M, N]) : null
  let y = matmulCore(ctx, A, B, {
    batch: [],
    M,
    K,
    N,
    aAt: (_, m, k) => (tA ? k * M + m : m * K + k),
    bAt: (_, k, n) => (tB ? n * K + k : k * N + n),
    bias: (o) => (C?.kind === 'const' ? beta * C.data[cIdx![o]] : 0),
    alpha,
  })
  if (C?.kind === 'affine') {
    const scaled = elementwise(ctx, [C, { kind: 'const', dims: [], data: Float64Array.of(beta) }], 'Mul') as AffineSym
    y =
      y.kind === 'const'
        ? elementwise(ctx, [scaled, y], 'Add')
        : { kind: 'affine', a: add(y.a, broadcastTo(scaled, [M, N]), 1) }
  }
  return [y]
}

/** numpy matmul: 1-D operands get a unit dim (dropped again from the result), leading dims broadcast. */
export const MatMul: Handler = (ctx, [a, b]) => {
  const A = need(ctx, a, 'input A'),
    B = need(ctx, b, 'input B')
  const sa = shapeOf(A),
    sb = shapeOf(B)
  const a2 = sa.length === 1 ? [1, sa[0]] : sa
  const b2 = sb.length === 1 ? [sb[0], 1] : sb
  const [M, K] = a2.slice(-2),
    [K2, N] = b2.slice(-2)
  const batchA = a2.slice(0, -2),
    batchB = b2.slice(0, -2)
  const batch = broadcastShapes(batchA, batchB)
  if (K !== K2 || !batch || sa.length === 0 || sb.length === 0)
    throw new LoweringError({ node: ctx.node, problem: `incompatible MatMul shapes [${sa}] × [${sb}]` })
  const ia = broadcastIndex(batchA, batch),
    ib = broadcastIndex(batchB, batch)
  const y = matmulCore(ctx, A, B, {
    batch,
    M,
    K,
    N,
    aAt: (bt, m, k) => ia[bt] * M * K + m * K + k,
    bAt: (bt, k, n) => ib[bt] * K * N + k * N + n,
    bias: () => 0,
    alpha: 1,
  })
  return [withShape(y, [...batch, ...(sa.length === 1 ? [] : [M]), ...(sb.length === 1 ? [] : [N])])]
}
