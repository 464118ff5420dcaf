import { BaseError, type ErrorParameters } from '../errors.js'
import { identity } from './affine.js'
import { type FloatGraph, hasFixedScales } from './graph.js'
import { fuseElementwise } from './fuse-elementwise.js'
import type { OnnxModel } from './parse.js'
import { type Ctx, type Handler, LoweringError, type Sym, constOf, materialize, shapeOf } from './ops/common.js'
import { checkedSize } from './limits.js'
import { AveragePool, BatchNormalization, Conv, GlobalAveragePool } from './ops/conv.js'
import { Add, Gemm, MatMul, Mul, Neg, Sub } from './ops/linear.js'
import { Einsum } from './ops/einsum.js'
import { checkTokenIdUses, tokenIdState } from './ops/embedding.js'
import { Trilu, Where } from './ops/mask.js'
import {
  Concat,
  Expand,
  Flatten,
  Gather,
  Pad,
  Reshape,
  Slice,
  Split,
  Squeeze,
  Tile,
  Transpose,
  Unsqueeze,
} from './ops/movement.js'
import {
  And,
  ConstantOfShape,
  Cos,
  CumSum,
  Ceil,
  Equal,
  Floor,
  Mod,
  Sin,
  Size,
  Greater,
  GreaterOrEqual,
  Less,
  LessOrEqual,
  NonZero,
  Not,
  Or,
  Range,
  Xor,
} from './ops/shape-fold.js'
import { Cast, Clip, Constant, Identity, Relu, Shape } from './ops/tensor.js'
import { Erf, Exp, Gelu, HardSigmoid, LeakyRelu, Log, Sigmoid, Tanh } from './ops/activation.js'
import {
  Div,
  LayerNormalization,
  LogSoftmax,
  Pow,
  Reciprocal,
  ReduceL2,
  ReduceSumSquare,
  Softmax,
  Sqrt,
} from './ops/normalization.js'
import { ReduceMax, ReduceMean, ReduceMin, ReduceSum } from './ops/reduce.js'
import { GRU, LSTM, RNN } from './ops/recurrent.js'
import { GlobalMaxPool, MaxPool } from './ops/pool.js'
import {
  ConvInteger,
  DequantizeLinear,
  DynamicQuantizeLinear,
  MatMulInteger,
  QGemm,
  QLinearAdd,
  QLinearAveragePool,
  QLinearConcat,
  QLinearConv,
  QLinearGlobalAveragePool,
  QLinearLeakyRelu,
  QLinearMatMul,
  QLinearSigmoid,
  QuantizeLinear,
} from './ops/quantized.js'
// Attention normalised after the value product.
import { normaliseAfterValues } from './softmax-values.js'

export { LoweringError, type Sym }

export class UnsupportedOpsError extends BaseError {
  override name = 'UnsupportedOpsError'
  readonly nodes: { name: string; opType: string; opset: number }[]
  constructor({
    nodes,
    details = [],
    cause,
  }: ErrorParameters<{ nodes: { name: string; opType: string; opset: number }[] }>) {
    super(
      `${nodes.length} unsupported ONNX node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => `${n.name} (${n.opType}, opset ${n.opset})`).join(', ')}`,
      {
        details: [
          `Supported ops: ${Object.keys(OPS).sort().join(', ')}; com.microsoft: ${Object.keys(MICROSOFT_OPS).sort().join(', ')}.`,
          ...details,
        ],
        cause,
      },
    )
    this.nodes = nodes
  }
}

/** The one table mapping ONNX ops to lowering rules. */
export const OPS: Record<string, Handler> = {
  // Values and constants.
  Identity,
  Dropout: Identity,
  Constant,
  Shape,
  Cast,
  // Non-linear: clamp steps.
  Relu,
  Clip,
  // Non-linear: max steps (windows of positions) and unary steps (table lookups once quantised).
  MaxPool,
  GlobalMaxPool,
  Sigmoid,
  Tanh,
  LeakyRelu,
  HardSigmoid,
  // Softmax and LogSoftmax: as the final op the logits are proven (the probabilities computed
  // from them in float); anywhere else decomposed (max, exp, row sum, div).
  Softmax,
  LogSoftmax,
  // Normalisation and the non-linear functions of transformers (src/onnx/ops/normalization.ts,
  // reduce.ts, activation.ts): reductions are affine (mean, sum) or max steps, division and
  // square root by input-dependent tensors float div/sqrt steps, the rest unary (lookups).
  ReduceMean,
  ReduceSum,
  ReduceMax,
  ReduceMin,
  ReduceSumSquare,
  ReduceL2,
  Div,
  Reciprocal,
  Sqrt,
  Pow,
  Exp,
  Log,
  Erf,
  Gelu,
  LayerNormalization,
  // Constant linear maps: composed into the pending affine map.
  Add,
  Sub,
  Mul,
  Gemm,
  MatMul,
  Conv,
  AveragePool,
  GlobalAveragePool,
  BatchNormalization,
  // Quantised ONNX (QDQ and QOperator forms): quant steps and affine maps, src/onnx/ops/quantized.ts.
  QuantizeLinear,
  DequantizeLinear,
  QLinearConv,
  QLinearMatMul,
  MatMulInteger,
  ConvInteger,
  // Refused with its own error: its scale depends on the data.
  DynamicQuantizeLinear,
  // Movement: index maps.
  Flatten,
  Reshape,
  Transpose,
  Squeeze,
  Unsqueeze,
  Pad,
  Slice,
  Concat,
  Gather,
  // Attention structure (issue 16): index maps, constant-condition selection, shape folding.
  Expand,
  Tile,
  Split,
  Trilu,
  Where,
  Neg,
  Einsum,
  ConstantOfShape,
  Range,
  NonZero,
  Equal,
  Less,
  LessOrEqual,
  Greater,
  GreaterOrEqual,
  Not,
  And,
  Or,
  Xor,
  // On constants only (rotary tables, position ids, integer shape arithmetic).
  Size,
  Floor,
  Ceil,
  Mod,
  Sin,
  Cos,
  CumSum,
  // Recurrent layers (issue 16), unrolled over the static sequence length into affine, unary
  // and mul steps (src/onnx/ops/recurrent.ts).
  RNN,
  GRU,
  LSTM,
}

/** Ops of the com.microsoft domain (onnxruntime's contrib ops) that veriml lowers. */
export const MICROSOFT_OPS: Record<string, Handler> = {
  QLinearAdd,
  QGemm,
  QLinearAveragePool,
  QLinearGlobalAveragePool,
  QLinearConcat,
  QLinearSigmoid,
  QLinearLeakyRelu,
}

function handlerOf(domain: string, opType: string): Handler | undefined {
  const table = !domain || domain === 'ai.onnx' ? OPS : domain === 'com.microsoft' ? MICROSOFT_OPS : undefined
  return table && Object.hasOwn(table, opType) ? table[opType] : undefined
}

/** TensorProto.DataType of int8 and uint8 graph inputs: their values are the integers themselves. */
const INTEGER_INPUTS: Record<number, { lo: number; hi: number }> = { 2: { lo: 0, hi: 255 }, 3: { lo: -128, hi: 127 } }

export interface LowerOnnxOptions {
  /**
   * A Softmax or LogSoftmax producing a graph output: 'probabilities' (the default) proves the
   * model's own output, decomposed as anywhere else in the graph (max, exp lookup, row sum,
   * reciprocal); 'logits' proves its input — fewer constraints, the same argmax — and notes the
   * function, computed in float from the proven logits for reports.
   */
  finalSoftmax?: 'logits' | 'probabilities'
  /**
   * Elementwise closures as one table each (src/onnx/fuse-elementwise.ts), the default on a
   * graph quantised from calibration; a graph with its own scales (QDQ/QOperator) is never
   * fused: it computes each float function between its own QuantizeLinear nodes, as
   * onnxruntime does. false keeps every step (tests comparing the two graphs).
   */
  fuseElementwise?: boolean
}

/**
 * Lowers a parsed ONNX model to the float graph. Fails with ONE error listing every
 * unsupported node before doing any work.
 */
export function lowerOnnx(model: OnnxModel, options: LowerOnnxOptions = {}): FloatGraph {
  const unsupported = model.nodes.filter((n) => !handlerOf(n.domain, n.opType))
  if (unsupported.length > 0)
    throw new UnsupportedOpsError({
      nodes: unsupported.map((n) => ({
        name: n.name,
        opType: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType,
        opset: model.opset,
      })),
    })
  const syms = new Map<string, Sym>()
  for (const [name, t] of model.initializers) syms.set(name, constOf(t))
  const inputs: FloatGraph['inputs'] = model.inputs.map((v, id) => ({
    id,
    name: v.name,
    shape: v.shape,
    ...(INTEGER_INPUTS[v.elemType ?? 0] ? { integer: INTEGER_INPUTS[v.elemType ?? 0] } : {}),
  }))
  for (const i of inputs) syms.set(i.name, { kind: 'affine', a: identity(i.id, i.shape) })
  // Token ids: int32/int64 inputs that Gather uses to index a constant table (src/onnx/ops/embedding.ts).
  const tokenIds = tokenIdState(model.inputs.map((v, id) => ({ id, name: v.name, elemType: v.elemType })))
  const read = new Set(model.nodes.flatMap((n) => n.inputs))
  // No output counts as final for Softmax when the probabilities are to be proven.
  const finalOutputs = new Set(
    options.finalSoftmax === 'logits' ? model.outputs.map((o) => o.name).filter((n) => !read.has(n)) : [],
  )
  const ctx: Ctx = {
    steps: [],
    nextId: inputs.length,
    node: model.nodes[0],
    opset: model.opset,
    finalOutputs,
    postprocess: new Map(),
    tokenIds,
    maskInputs: new Set(),
  }
  for (const node of model.nodes) {
    ctx.node = node
    const ins = node.inputs.map((n) => (n === '' ? undefined : syms.get(n)))
    let outs: Sym[]
    try {
      outs = handlerOf(node.domain, node.opType)!(ctx, ins)
    } catch (cause) {
      // A handler meeting a malformed attribute or shape fails as JS does (TypeError,
      // RangeError): it is the node's fault, and named as such.
      if (cause instanceof BaseError) throw cause
      throw new LoweringError({
        node,
        problem: `malformed node: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`,
      })
    }
    for (const o of outs) if (o) checkedSize(shapeOf(o), `the output of node "${node.name}" (${node.opType})`)
    // Pending affine maps remember which nodes they fuse (those that changed the map).
    const before = ins.flatMap((x) => (x?.kind === 'affine' && x.origin ? x.origin : []))
    node.outputs.forEach((name, i) => {
      const out = outs[i]
      if (!out) return
      if (out.kind === 'affine' && !ins.includes(out) && out.origin === undefined)
        out.origin = [...new Set([...before, node.name])]
      syms.set(name, out)
    })
  }
  const outputs = model.outputs.map((o) => {
    const s = syms.get(o.name)
    ctx.node = model.nodes.find((n) => n.outputs.includes(o.name)) ?? ctx.node
    if (!s) throw new LoweringError({ node: ctx.node, problem: `graph output "${o.name}" is never produced` })
    const postprocess = ctx.postprocess.get(o.name)
    return { id: materialize(ctx, s), name: o.name, ...(postprocess ? { postprocess } : {}) }
  })
  const graph: FloatGraph = { name: model.name, inputs, steps: ctx.steps, outputs }
  // An input indexing tables holds the ids of the smallest one's rows; it may not be read otherwise.
  for (const [id, { rows, table }] of tokenIds.domains) inputs[id].tokenIds = { lo: 0, hi: rows - 1, table }
  // Attention masks (src/onnx/ops/input-mask.ts): 0/1 inputs.
  for (const id of ctx.maskInputs) inputs[id].binary = true
  checkTokenIdUses(graph, model.nodes, tokenIds)
  // Attention normalised after the value product (src/onnx/softmax-values.ts).
  const normalised = normaliseAfterValues(graph)
  // Here rather than in a caller, so every entry point (lowerOnnx + quantize as much as compile,
  // inspect and the optimistic demo) quantises the same graph.
  const fuse = options.fuseElementwise !== false && !hasFixedScales(normalised)
  return fuse ? fuseElementwise(normalised) : normalised
}
