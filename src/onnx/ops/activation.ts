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
  shapeOf,
} from './common.js'

/** y = f(x) elementwise: folded on constants, a float 'unary' step (a table lookup once quantised) otherwise. */
function unary(ctx: Ctx, x: Sym | undefined, name: string, f: (v: number) => number): Sym[] {
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
