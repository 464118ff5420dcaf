import { compose } from '../affine.js'
import { sizeOf } from '../graph.js'
import { strides } from '../shapes.js'
import {
  type AffineSym,
  type ConstSym,
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  attrString,
  emit,
  fresh,
  linear,
  need,
  shapeOf,
} from './common.js'
import { operandOf } from './linear.js'

/** A parsed equation: each operand's letters, the output's, and the size of every letter. */
interface Plan {
  terms: string[]
  out: string
  summed: string
  size: Record<string, number>
}

function plan(ctx: Ctx, equation: string, shapes: number[][]): Plan {
  const eq = equation.replace(/\s/g, '')
  const fail = (problem: string) => new LoweringError({ node: ctx.node, problem })
  if (eq.includes('.')) throw fail(`equation "${equation}": ellipsis (...) is not supported`)
  const [lhs, rhs] = eq.split('->')
  const terms = lhs.split(',')
  if (terms.length !== shapes.length)
    throw fail(`equation "${equation}" names ${terms.length} operands, the node has ${shapes.length}`)
  const size: Record<string, number> = {}
  terms.forEach((t, i) => {
    if (t.length !== shapes[i].length || !/^[a-zA-Z]*$/.test(t))
      throw fail(`equation "${equation}": "${t}" does not fit operand ${i} of shape [${shapes[i]}]`)
    for (let d = 0; d < t.length; d++) {
      const n = shapes[i][d]
      if (size[t[d]] !== undefined && size[t[d]] !== n)
        throw fail(`equation "${equation}": "${t[d]}" is ${size[t[d]]} and ${n}`)
      size[t[d]] = n
    }
  })
  const letters = [...new Set(terms.join(''))]
  // Implicit output: the letters that appear once, in alphabetical order (numpy and ONNX).
  const out =
    rhs ??
    letters
      .filter((l) => terms.join('').split(l).length === 2)
      .sort()
      .join('')
  if ([...out].some((l) => size[l] === undefined) || new Set(out).size !== out.length)
    throw fail(`equation "${equation}": output "${out}" is not a set of input letters`)
  const summed = letters.filter((l) => !out.includes(l)).join('')
  return { terms, out, summed, size }
}

/**
 * For every (output position, summed position) pair, in that order (summed innermost), the flat
 * index each operand reads: the equation as an index map.
 */
function indexMaps(p: Plan, shapes: number[][]): Int32Array[] {
  const letters = p.out + p.summed
  const dims = [...letters].map((l) => p.size[l])
  const total = sizeOf(dims)
  const maps = p.terms.map(() => new Int32Array(total))
  const st = p.terms.map((_, i) => strides(shapes[i]))
  const pos = p.terms.map((t) => [...t].map((l) => letters.indexOf(l)))
  const coord = new Array<number>(dims.length).fill(0)
  for (let at = 0; at < total; at++) {
    p.terms.forEach((_, i) => {
      let flat = 0
      for (let d = 0; d < pos[i].length; d++) flat += coord[pos[i][d]] * st[i][d]
      maps[i][at] = flat
    })
    for (let d = dims.length - 1; d >= 0 && ++coord[d] === dims[d]; d--) coord[d] = 0
  }
  return maps
}

/**
 * Einsum of one or two operands without ellipsis: a linear map (one operand, or one constant
 * operand), a fold (constants), or, for two input-dependent operands, ONE product step over
 * (output, summed) positions and the affine sum over the summed ones, as MatMul.
 */
export const Einsum: Handler = (ctx, inputs) => {
  const ops = inputs.map((x, i) => need(ctx, x, `input ${i}`))
  if (ops.length < 1 || ops.length > 2)
    throw new LoweringError({ node: ctx.node, problem: `${ops.length} operands: only one or two are supported` })
  const shapes = ops.map(shapeOf)
  const p = plan(ctx, attrString(ctx, 'equation', ''), shapes)
  const outShape = [...p.out].map((l) => p.size[l])
  const K = sizeOf([...p.summed].map((l) => p.size[l]))
  const maps = indexMaps(p, shapes)
  const idx = new Int32Array(K)
  const w = new Float64Array(K)
  if (ops.length === 1)
    return [
      linear(ops[0], outShape, (o) => {
        for (let k = 0; k < K; k++) idx[k] = maps[0][o * K + k]
        return { idx, w: w.fill(1), bias: 0 }
      }),
    ]
  const [A, B] = ops
  if (A.kind === 'const' && B.kind === 'const') {
    const data = Float64Array.from({ length: sizeOf(outShape) }, (_, o) => {
      let acc = 0
      for (let k = 0; k < K; k++) acc += A.data[maps[0][o * K + k]] * B.data[maps[1][o * K + k]]
      return acc
    })
    return [{ kind: 'const', dims: outShape, data }]
  }
  if (A.kind === 'affine' && B.kind === 'affine') return [product(ctx, A, B, maps, outShape, K)]
  const linFirst = A.kind === 'affine'
  const lin = (linFirst ? A : B) as AffineSym
  const c = (linFirst ? B : A) as ConstSym
  const [ml, mc] = linFirst ? maps : [maps[1], maps[0]]
  return [
    {
      kind: 'affine',
      a: compose(lin.a, outShape, (o) => {
        for (let k = 0; k < K; k++) {
          idx[k] = ml[o * K + k]
          w[k] = c.data[mc[o * K + k]]
        }
        return { idx, w, bias: 0 }
      }),
    },
  ]
}

function product(ctx: Ctx, A: AffineSym, B: AffineSym, maps: Int32Array[], outShape: number[], K: number): Sym {
  const a = operandOf(ctx, A),
    b = operandOf(ctx, B)
  const same = a.id === b.id
  const offset = same ? 0 : a.size
  const left = Int32Array.from(maps[0], (i) => (a.index ? a.index[i] : i))
  const right = Int32Array.from(maps[1], (i) => (b.index ? b.index[i] : i) + offset)
  const shape = [...outShape, K]
  const products = fresh(emit(ctx, { kind: 'mul', inputs: same ? [a.id] : [a.id, b.id], left, right }, shape), shape)
  const idx = new Int32Array(K)
  const w = new Float64Array(K).fill(1)
  return linear(products, outShape, (o) => {
    for (let k = 0; k < K; k++) idx[k] = o * K + k
    return { idx, w, bias: 0 }
  })
}
