/**
 * The plan of a QDQ export: which nodes are quantised, which inputs are activations, weights
 * and biases, which tensors get a QuantizeLinear → DequantizeLinear pair and where each one's
 * range comes from (its own calibration, a fused Relu/Clip, or a shared grid). Pure.
 */
import { BaseError, type BaseErrorParameters } from '../../errors.js'
import type { OnnxModel, OnnxNode } from '../../onnx/parse.js'
import type { ActivationQuant } from './params.js'

/** Ops whose inputs and outputs are quantised. */
const QUANTIZED = new Set(['Conv', 'Gemm', 'MatMul'])
/** Ops kept in float between DequantizeLinear and QuantizeLinear. */
const KEPT = new Set([
  'Relu',
  'Clip',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
  'Constant',
  'Shape',
  'Gather',
  'Concat',
  'Slice',
  'Cast',
])
/**
 * Ops whose output values are a subset of their first input's: on a dequantised input they
 * stay on its grid, so their output shares its scale and zero point (the next
 * QuantizeLinear is then exact). Relu qualifies because the zero point makes real 0 exact.
 */
const SAME_GRID = new Set([
  'Relu',
  'MaxPool',
  'Flatten',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Identity',
  'Dropout',
])
/** Activations consumed only by one of these take its output's range: the clamp fuses into the quantisation. */
const FUSED_ACTIVATIONS = new Set(['Relu', 'Clip'])
const MIN_OPSET = 13 // per-axis DequantizeLinear

export class QuantizeUnsupportedOpsError extends BaseError {
  override name = 'QuantizeUnsupportedOpsError'
  readonly nodes: { name: string; opType: string; domain: string }[]
  constructor({
    nodes,
    details = [],
    cause,
  }: BaseErrorParameters & { nodes: { name: string; opType: string; domain: string }[] }) {
    super(
      `the quantiser does not support ${nodes.length} node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => `"${n.name}" (${n.domain ? `${n.domain}.` : ''}${n.opType})`).join(', ')}`,
      {
        details: [
          `Quantised: ${[...QUANTIZED].join(', ')}. Kept in float between QDQ pairs: ${[...KEPT].join(', ')}.`,
          'A model that is already quantised (QuantizeLinear, QLinearConv…) needs no quantiser: compile it directly.',
          ...details,
        ],
        cause,
      },
    )
    this.nodes = nodes
  }
}

/** A model the quantiser understands but cannot quantise as it stands. */
export class QuantizeModelError extends BaseError {
  override name = 'QuantizeModelError'
  readonly node: string
  readonly opType: string
  readonly problem: string
  constructor({
    node,
    opType,
    problem,
    details,
    cause,
  }: BaseErrorParameters & { node: string; opType: string; problem: string }) {
    super(`node "${node}" (${opType}): ${problem}`, { details, cause })
    this.node = node
    this.opType = opType
    this.problem = problem
  }
}

export class MissingCalibrationError extends BaseError {
  override name = 'MissingCalibrationError'
  readonly tensor: string
  constructor({ tensor, details = [], cause }: BaseErrorParameters & { tensor: string }) {
    super(`no calibrated range for tensor "${tensor}"`, {
      details: ['Calibrate every tensor calibrationTensors(model) lists.', ...details],
      cause,
    })
    this.tensor = tensor
  }
}

export interface QdqTensorReport extends ActivationQuant {
  tensor: string
  /** Where the range came from: its own calibration, a fused Relu/Clip, or the tensor whose grid it shares. */
  source: { kind: 'calibrated'; tensor: string } | { kind: 'shared'; tensor: string }
}

export interface QdqWeightReport {
  node: string
  weight: string
  axis: number | undefined
  channels: number
  bias?: string
}

export interface Role {
  node: OnnxNode
  activations: number[]
  weight?: number
  bias?: number
  weightAxis?: number
  biasFactor: number
}

/** Which inputs of a quantised node are activations, weight and bias, and the weight's channel axis. */
export function roleOf(node: OnnxNode, isConst: (t: string) => boolean): Role {
  const need = (i: number, what: string) => {
    if (!isConst(node.inputs[i]))
      throw new QuantizeModelError({
        node: node.name,
        opType: node.opType,
        problem: `its ${what} "${node.inputs[i]}" must be an initializer to be quantised per channel`,
      })
  }
  const bias = node.inputs[2] ? 2 : undefined
  if (node.opType === 'Conv') {
    need(1, 'weight')
    if (bias !== undefined) need(2, 'bias')
    return { node, activations: [0], weight: 1, bias, weightAxis: 0, biasFactor: 1 }
  }
  if (node.opType === 'Gemm') {
    need(1, 'weight B')
    if (bias !== undefined) need(2, 'bias C')
    const alpha = (node.attributes.alpha as number | undefined) ?? 1
    const beta = (node.attributes.beta as number | undefined) ?? 1
    // beta·C with C at scale (alpha/beta)·s_x·s_w adds to alpha·A·B at the accumulator's scale.
    return {
      node,
      activations: [0],
      weight: 1,
      bias: beta === 0 ? undefined : bias,
      weightAxis: node.attributes.transB ? 0 : 1,
      biasFactor: alpha / (beta || 1),
    }
  }
  // MatMul: a constant operand is the weight (B per output column, A per tensor).
  const [a, b] = [isConst(node.inputs[0]), isConst(node.inputs[1])]
  if (a && b)
    throw new QuantizeModelError({
      node: node.name,
      opType: node.opType,
      problem: 'both operands are constants; fold it before quantising',
    })
  if (b) return { node, activations: [0], weight: 1, weightAxis: -1, biasFactor: 1 }
  if (a) return { node, activations: [1], weight: 0, biasFactor: 1 }
  return { node, activations: [0, 1], biasFactor: 1 }
}

export interface Plan {
  roles: Role[]
  /** Activation tensors that get a QuantizeLinear → DequantizeLinear pair. */
  qdq: Set<string>
  /** Tensors that are outputs of quantised nodes: their producer is renamed, the pair restores the name. */
  outputSide: Set<string>
  /** For each tensor of `qdq`, the tensor it shares a grid with or the range it is calibrated with. */
  source: Map<string, QdqTensorReport['source']>
}

export function planOf(model: OnnxModel): Plan {
  if (model.opset < MIN_OPSET) {
    const n = model.nodes[0]
    throw new QuantizeModelError({
      node: n?.name ?? model.name,
      opType: n?.opType ?? 'model',
      problem: `opset ${model.opset} is older than ${MIN_OPSET}, the first with per-channel DequantizeLinear`,
      details: ['Convert the model to opset 13 or newer first (onnx.version_converter).'],
    })
  }
  const unsupported = model.nodes.filter(
    (n) => (n.domain && n.domain !== 'ai.onnx') || !(QUANTIZED.has(n.opType) || KEPT.has(n.opType)),
  )
  if (unsupported.length > 0)
    throw new QuantizeUnsupportedOpsError({
      nodes: unsupported.map((n) => ({ name: n.name, opType: n.opType, domain: n.domain })),
    })
  const isConst = (t: string) => model.initializers.has(t)
  const producer = new Map<string, OnnxNode>()
  const consumers = new Map<string, OnnxNode[]>()
  for (const n of model.nodes) {
    for (const o of n.outputs) producer.set(o, n)
    for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n])
  }
  const roles = model.nodes.filter((n) => QUANTIZED.has(n.opType)).map((n) => roleOf(n, isConst))
  const outputSide = new Set(roles.map((r) => r.node.outputs[0]))
  const qdq = new Set([...outputSide, ...roles.flatMap((r) => r.activations.map((i) => r.node.inputs[i]))])
  const graphOutputs = new Set(model.outputs.map((o) => o.name))
  const source = new Map<string, QdqTensorReport['source']>()
  // A tensor on a dequantised grid: a QDQ tensor, or a same-grid op's output of one.
  const gridOf = (t: string): string | undefined => {
    if (qdq.has(t) && outputSide.has(t)) return t
    const p = producer.get(t)
    if (p && SAME_GRID.has(p.opType)) {
      const g = gridOf(p.inputs[0])
      if (g) return g
    }
    return qdq.has(t) ? t : undefined
  }
  for (const t of qdq) {
    const g = gridOf(t)
    if (g && g !== t) {
      source.set(t, { kind: 'shared', tensor: g })
      continue
    }
    const only = consumers.get(t) ?? []
    const fused =
      outputSide.has(t) && !graphOutputs.has(t) && only.length === 1 && FUSED_ACTIVATIONS.has(only[0].opType)
    source.set(t, { kind: 'calibrated', tensor: fused ? only[0].outputs[0] : t })
  }
  return { roles, qdq, outputSide, source }
}

/** The tensors whose calibrated [min, max] the export needs. */
export function calibrationTensors(model: OnnxModel): string[] {
  const { source } = planOf(model)
  return [...new Set([...source.values()].filter((s) => s.kind === 'calibrated').map((s) => s.tensor))]
}
