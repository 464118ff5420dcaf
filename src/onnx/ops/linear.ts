import { type Affine, add, compose } from '../affine.js'
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
  fresh,
  materialize,
  need,
  needConst,
  attrNum,
  shapeOf,
  withShape,
} from './common.js'

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
  const a = compose(lin.a, shape, (o) => {
    const cv = c.data[ic[o]]
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

/** y[m,n] = Σ_k A[m,k]·B[k,n] where exactly one of A, B is affine (2-D after transposes). */
function matmul2d(
  ctx: Ctx,
  A: Sym,
  B: Sym,
  M: number,
  K: number,
  N: number,
  aAt: (m: number, k: number) => number,
  bAt: (k: number, n: number) => number,
  bias: (m: number, n: number) => number,
): Sym {
  const shape = [M, N]
  if (A.kind === 'affine' && B.kind === 'const') {
    const idx = new Int32Array(K)
    const w = new Float64Array(K)
    return {
      kind: 'affine',
      a: compose(A.a, shape, (o) => {
        const m = Math.floor(o / N),
          n = o % N
        for (let k = 0; k < K; k++) {
          idx[k] = aAt(m, k)
          w[k] = B.data[bAt(k, n)]
        }
        return { idx, w, bias: bias(m, n) }
      }),
    }
  }
  if (A.kind === 'const' && B.kind === 'affine') {
    const idx = new Int32Array(K)
    const w = new Float64Array(K)
    return {
      kind: 'affine',
      a: compose(B.a, shape, (o) => {
        const m = Math.floor(o / N),
          n = o % N
        for (let k = 0; k < K; k++) {
          idx[k] = bAt(k, n)
          w[k] = A.data[aAt(m, k)]
        }
        return { idx, w, bias: bias(m, n) }
      }),
    }
  }
  throw new LoweringError({
    node: ctx.node,
    problem: 'exactly one operand must be a constant',
    details: ['A matrix product of two input-dependent tensors is not supported (an elementwise Mul is).'],
  })
}

export const Add: Handler = (ctx, inputs) => [elementwise(ctx, inputs, 'Add')]
export const Sub: Handler = (ctx, inputs) => [elementwise(ctx, inputs, 'Sub')]
export const Mul: Handler = (ctx, inputs) => [elementwise(ctx, inputs, 'Mul')]

export const Gemm: Handler = (ctx, [a, b, c]) => {
  const A = need(ctx, a, 'input A'),
    B = need(ctx, b, 'input B')
  const _at = ctx.node.attributes
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
  const scale = (s: Sym): Sym => (s.kind === 'const' ? { ...s, data: s.data.map((e) => e * alpha) } : s)
  const C: Sym | undefined = c
  let cIdx: Int32Array | null = null
  if (C?.kind === 'const') cIdx = broadcastIndex(C.dims, [M, N])
  const bias = (m: number, n: number) => (C?.kind === 'const' ? beta * C.data[cIdx![m * N + n]] : 0)
  // alpha is folded into whichever operand is constant.
  let y = matmul2d(
    ctx,
    scale(A),
    scale(B),
    M,
    K,
    N,
    (m, k) => (tA ? k * M + m : m * K + k),
    (k, n) => (tB ? n * K + k : k * N + n),
    bias,
  )
  if (C?.kind === 'affine')
    y = {
      kind: 'affine',
      a: add(
        (y as { a: Affine }).a,
        broadcastTo(
          elementwise(ctx, [C, { kind: 'const', dims: [], data: Float64Array.of(beta) }], 'Mul') as AffineSym,
          [M, N],
        ),
        1,
      ),
    }
  return [y]
}

export const MatMul: Handler = (ctx, [a, b]) => {
  const A = need(ctx, a, 'input A'),
    B = need(ctx, b, 'input B')
  const sa = shapeOf(A),
    sb = shapeOf(B)
  const a2 = sa.length === 1 ? [1, sa[0]] : sa
  const b2 = sb.length === 1 ? [sb[0], 1] : sb
  const [M, K] = a2.slice(-2),
    [K2, N] = b2.slice(-2)
  const batch = a2.slice(0, -2)
  if (K !== K2 || b2.length > 2 || (batch.length > 0 && A.kind !== 'affine')) {
    throw new LoweringError({
      node: ctx.node,
      problem: `unsupported MatMul shapes [${sa}] × [${sb}]`,
      details: ['Supported: [..., M, K] × constant [K, N], and constant [M, K] × [K, N].'],
    })
  }
  const outShape = [...(sa.length === 1 ? [] : [...batch, M]), ...(sb.length === 1 ? [] : [N])]
  const B_ = sizeOf(batch)
  if (B_ === 1)
    return [
      withShape(
        matmul2d(
          ctx,
          A,
          B,
          M,
          K,
          N,
          (m, k) => m * K + k,
          (k, n) => k * N + n,
          () => 0,
        ),
        outShape,
      ),
    ]
  // Batched affine × constant: rows of every batch share the constant.
  const Bc = needConst(ctx, B, 'input B')
  const idx = new Int32Array(K),
    w = new Float64Array(K)
  return [
    {
      kind: 'affine',
      a: compose((A as { a: Affine }).a, outShape, (o) => {
        const bt = Math.floor(o / (M * N)),
          m = Math.floor(o / N) % M,
          n = o % N
        for (let k = 0; k < K; k++) {
          idx[k] = bt * M * K + m * K + k
          w[k] = Bc.data[k * N + n]
        }
        return { idx, w, bias: 0 }
      }),
    },
  ]
}
