import { sizeOf } from '../graph.js'
import {
  type Ctx,
  type Handler,
  LoweringError,
  type Sym,
  emit,
  fresh,
  materialize,
  need,
  normalizeAxis,
  attrNum,
  attrString,
  shapeOf,
} from './common.js'

/** y = f(x) elementwise: folded on constants, a float 'unary' step (a table lookup once quantised) otherwise. */
export function unary(ctx: Ctx, x: Sym | undefined, name: string, f: (v: number) => number): Sym[] {
  const X = need(ctx, x, 'input X')
  if (X.kind === 'const') return [{ ...X, data: X.data.map(f) }]
  const shape = X.a.shape
  const id = emit(ctx, { kind: 'unary', inputs: [materialize(ctx, X)], name, f }, shape)
  return [fresh(id, shape)]
}

/** Logistic function without overflow: exp of a non-positive argument only. */
export function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v))
  const e = Math.exp(v)
  return e / (1 + e)
}

export const Sigmoid: Handler = (ctx, [x]) => unary(ctx, x, 'Sigmoid', sigmoid)

export const Tanh: Handler = (ctx, [x]) => unary(ctx, x, 'Tanh', Math.tanh)

export const Exp: Handler = (ctx, [x]) => unary(ctx, x, 'Exp', Math.exp)

export const Log: Handler = (ctx, [x]) => unary(ctx, x, 'Log', Math.log)

/**
 * The error function, to about 1e-13 absolute: its Maclaurin series below |x| = 3 (alternating,
 * so summing ~40 terms in float64 loses nothing that matters) and erfc's continued fraction
 * beyond, where erf is within 2e-5 of ±1 and the fraction converges fast. onnxruntime computes
 * in float32, so this is exact for the comparisons that matter.
 */
export function erf(x: number): number {
  const a = Math.abs(x)
  if (a < 3) {
    let term = x,
      sum = x
    for (let n = 1; n < 60 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-x * x) / n
      sum += term / (2 * n + 1)
    }
    return (2 / Math.sqrt(Math.PI)) * sum
  }
  // erfc(a) = exp(-a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))), evaluated bottom-up.
  let f = a
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f
  return Math.sign(x) * (1 - erfc)
}

export const Erf: Handler = (ctx, [x]) => unary(ctx, x, 'Erf', erf)

/** GELU: x·Φ(x) exactly (approximate = 'none') or with the tanh approximation, as ONNX Gelu (opset 20) defines them. */
export function gelu(approximate: 'none' | 'tanh'): (v: number) => number {
  if (approximate === 'tanh') {
    const c = Math.sqrt(2 / Math.PI)
    return (v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)))
  }
  return (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))
}

export const Gelu: Handler = (ctx, [x]) => {
  const approximate = attrString(ctx, 'approximate', 'none')
  if (approximate !== 'none' && approximate !== 'tanh')
    throw new LoweringError({ node: ctx.node, problem: `approximate must be "none" or "tanh", not "${approximate}"` })
  return unary(ctx, x, `Gelu(approximate=${approximate})`, gelu(approximate))
}

export const LeakyRelu: Handler = (ctx, [x]) => {
  const alpha = attrNum(ctx, 'alpha', 0.01)
  return unary(ctx, x, `LeakyRelu(alpha=${alpha})`, (v) => (v >= 0 ? v : alpha * v))
}

export const HardSigmoid: Handler = (ctx, [x]) => {
  const alpha = attrNum(ctx, 'alpha', 0.2),
    beta = attrNum(ctx, 'beta', 0.5)
  return unary(ctx, x, `HardSigmoid(alpha=${alpha}, beta=${beta})`, (v) => Math.min(1, Math.max(0, alpha * v + beta)))
}

/**
 * Softmax and LogSoftmax, only as the op producing a graph output: the circuit proves the
 * logits (softmax is monotone, so their argmax is the model's), and the output carries a note
 * so reports add the probabilities computed in float from the proven, dequantised logits.
 * Before opset 13 the input is coerced to 2-D at `axis` (default 1) and normalised over the
 * flattened trailing dims; from 13 on over the one `axis` (default -1). The note records the
 * reduction as an axis of a view shape, which covers both.
 */
function softmaxNote(op: 'softmax' | 'logsoftmax'): Handler {
  return (ctx, [x]) => {
    const X = need(ctx, x, 'input')
    const out = ctx.node.outputs[0]
    if (!ctx.finalOutputs.has(out)) {
      throw new LoweringError({
        node: ctx.node,
        problem: `${ctx.node.opType} is supported only as the final op (its output must be a graph output that no other node reads)`,
        details: [
          'The circuit proves the logits and reports the probabilities computed in float from them; a softmax inside the model has no exact integer form.',
        ],
      })
    }
    const shape = shapeOf(X)
    const legacy = ctx.opset < 13
    const axis = normalizeAxis(ctx, attrNum(ctx, 'axis', legacy ? 1 : -1), Math.max(shape.length, 1))
    const view = legacy ? [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis))] : shape.length ? shape : [1]
    ctx.postprocess.set(out, { op, axis: legacy ? 1 : axis, shape: view })
    return [X]
  }
}

export const Softmax: Handler = softmaxNote('softmax')
export const LogSoftmax: Handler = softmaxNote('logsoftmax')
