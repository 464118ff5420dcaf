import { BaseError, type BaseErrorParameters } from '../../errors.js'
import type { OnnxModel, OnnxNode, OnnxTensor } from '../../onnx/parse.js'
import { buildModel, type NodeSpec, type TensorSpec } from '../../onnx/write.js'
import { type ActivationQuant, type TensorRange, activationQuant, quantizeBias, quantizeWeights } from './params.js'
import { nodeSpec, rebuildParameters } from './rebuild.js'

/**
 * Static post-training quantisation of a float ONNX model to standard QDQ ONNX, the format
 * onnxruntime's quantize_static writes and runs: every activation input and output of a
 * Conv, Gemm or MatMul passes through QuantizeLinear → DequantizeLinear; their weights are
 * int8 initializers behind a per-channel DequantizeLinear, their biases int32 ones. The ops
 * in between (Relu, MaxPool, Flatten, Reshape…) stay as they are. Pure: bytes in, bytes out.
 */

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

export interface ExportQdqParameters {
  model: OnnxModel
  /** Calibrated range of every tensor `calibrationTensors(model)` lists. */
  ranges: ReadonlyMap<string, TensorRange>
  /** Written into the model's metadata (e.g. the source model's hash). */
  metadata?: Record<string, string>
  /**
   * 'reduced' (default): weights in [-64, 64], onnxruntime's reduce_range. Its x86 u8×s8
   * kernels without VNNI (this machine: AVX2 only) add pairs of products in int16
   * (vpmaddubsw), which saturates for 255 · 127 · 2; with 7-bit weights it cannot, and the
   * fused int8 kernels then compute what the QDQ graph says. 'full': [-127, 127].
   */
  weightRange?: 'reduced' | 'full'
}

export interface ExportQdqReturnType {
  bytes: Uint8Array
  tensors: QdqTensorReport[]
  weights: QdqWeightReport[]
}

interface Role {
  node: OnnxNode
  activations: number[]
  weight?: number
  bias?: number
  weightAxis?: number
  biasFactor: number
}

/** Which inputs of a quantised node are activations, weight and bias, and the weight's channel axis. */
function roleOf(node: OnnxNode, isConst: (t: string) => boolean): Role {
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

interface Plan {
  roles: Role[]
  /** Activation tensors that get a QuantizeLinear → DequantizeLinear pair. */
  qdq: Set<string>
  /** Tensors that are outputs of quantised nodes: their producer is renamed, the pair restores the name. */
  outputSide: Set<string>
  /** For each tensor of `qdq`, the tensor it shares a grid with or the range it is calibrated with. */
  source: Map<string, QdqTensorReport['source']>
}

function planOf(model: OnnxModel): Plan {
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

/** The float model with the given intermediate tensors added as graph outputs (shapes left unknown), for calibration. */
export function exposeTensors(model: OnnxModel, tensors: readonly string[]): Uint8Array {
  const p = rebuildParameters(model)
  const present = new Set(p.outputs.map((o) => o.name))
  return buildModel({
    ...p,
    outputs: [...p.outputs, ...tensors.filter((t) => !present.has(t)).map((name) => ({ name }))],
  })
}

const scalar = (name: string, data: TensorSpec['data']): TensorSpec & { name: string } => ({ name, dims: [], data })

/** Rewrites the model to QDQ form; see the file comment. */
export function exportQdq({
  model,
  ranges,
  metadata = {},
  weightRange = 'reduced',
}: ExportQdqParameters): ExportQdqReturnType {
  const plan = planOf(model)
  const params = new Map<string, ActivationQuant>()
  const quantOf = (t: string): ActivationQuant => {
    const known = params.get(t)
    if (known) return known
    const s = plan.source.get(t)!
    const q =
      s.kind === 'shared' ? quantOf(s.tensor) : activationQuant(s.tensor, ranges.get(s.tensor) ?? missing(s.tensor))
    params.set(t, q)
    return q
  }
  const initializers: (TensorSpec & { name: string })[] = []
  const nodes: NodeSpec[] = []
  const rename = new Map<string, string>() // activation → its dequantised name, for consumers
  const qdqPair = (t: string, from: string, to: string) => {
    const q = quantOf(t)
    const zp = q.type === 'uint8' ? Uint8Array.of(q.zeroPoint) : Int8Array.of(q.zeroPoint)
    initializers.push(scalar(`${t}_scale`, Float32Array.of(q.scale)), scalar(`${t}_zero_point`, zp))
    nodes.push(
      {
        op: 'QuantizeLinear',
        name: `${t}_QuantizeLinear`,
        inputs: [from, `${t}_scale`, `${t}_zero_point`],
        outputs: [`${t}_quantized`],
      },
      {
        op: 'DequantizeLinear',
        name: `${t}_DequantizeLinear`,
        inputs: [`${t}_quantized`, `${t}_scale`, `${t}_zero_point`],
        outputs: [to],
      },
    )
  }
  const weights: QdqWeightReport[] = []
  const weightScales = new Map<string, Float32Array>()
  const roleByNode = new Map(plan.roles.map((r) => [r.node, r]))
  const inputSide = (t: string) => plan.qdq.has(t) && !plan.outputSide.has(t)
  const emitInputSide = (t: string) => {
    if (inputSide(t)) {
      qdqPair(t, t, `${t}_dequantized`)
      rename.set(t, `${t}_dequantized`)
    }
  }
  for (const i of model.inputs) emitInputSide(i.name)
  for (const node of model.nodes) {
    const spec = nodeSpec(node)
    spec.inputs = spec.inputs.map((i) => rename.get(i) ?? i)
    const role = roleByNode.get(node)
    if (role)
      emitWeights(model, role, spec, quantOf, {
        initializers,
        nodes,
        report: weights,
        weightScales,
        weightQmax: weightRange === 'full' ? 127 : 64,
      })
    const out = node.outputs[0]
    if (role && plan.outputSide.has(out)) spec.outputs = [`${out}_float`, ...spec.outputs.slice(1)]
    nodes.push(spec)
    if (role && plan.outputSide.has(out)) qdqPair(out, `${out}_float`, out)
    for (const o of node.outputs) emitInputSide(o)
  }
  // Float weights replaced by their int8 forms are dropped; everything still read is kept.
  const read = new Set(nodes.flatMap((n) => n.inputs))
  const base = rebuildParameters(model)
  const bytes = buildModel({
    ...base,
    initializers: [...base.initializers!.filter((t) => read.has(t.name)), ...initializers],
    nodes,
    docString: `static int8 QDQ quantisation of "${model.name}" by veriml quantize`,
    metadata: { generator: 'veriml quantize', weightRange, ...metadata },
  })
  // Reported in graph order: inputs, then by producing node.
  const order = new Map(
    [...model.inputs.map((i) => i.name), ...model.nodes.flatMap((n) => n.outputs)].map((t, i) => [t, i]),
  )
  const tensors = [...plan.qdq]
    .sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1))
    .map((t) => ({ tensor: t, ...quantOf(t), source: plan.source.get(t)! }))
  return { bytes, tensors, weights }
}

const missing = (tensor: string): never => {
  throw new MissingCalibrationError({ tensor })
}

/** Replaces the node's weight and bias inputs with int8 / int32 initializers behind DequantizeLinear. */
interface WeightSink {
  initializers: (TensorSpec & { name: string })[]
  nodes: NodeSpec[]
  report: QdqWeightReport[]
  /** Weights already quantised (a weight shared by two nodes is stored once). */
  weightScales: Map<string, Float32Array>
  weightQmax: number
}

function emitWeights(
  model: OnnxModel,
  role: Role,
  spec: NodeSpec,
  quantOf: (t: string) => ActivationQuant,
  { initializers, nodes, report, weightScales, weightQmax }: WeightSink,
): void {
  const { node } = role
  if (role.weight === undefined) return
  const wName = node.inputs[role.weight]
  const w = model.initializers.get(wName)!
  const floats = (t: OnnxTensor, name: string) => {
    if (!(t.data instanceof Float64Array))
      throw new QuantizeModelError({
        node: node.name,
        opType: node.opType,
        problem: `initializer "${name}" is not a float tensor`,
      })
    return t.data
  }
  const axis =
    role.weightAxis === undefined
      ? undefined
      : role.weightAxis < 0
        ? w.dims.length >= 2
          ? w.dims.length + role.weightAxis
          : undefined
        : role.weightAxis
  let scales = weightScales.get(wName)
  if (!scales) {
    const qw = quantizeWeights(floats(w, wName), w.dims, axis, weightQmax)
    scales = qw.scales
    weightScales.set(wName, scales)
    dequantized(initializers, nodes, wName, { dims: w.dims, data: qw.q }, scales, new Int8Array(scales.length), axis)
  }
  spec.inputs[role.weight] = `${wName}_dequantized`
  const entry: QdqWeightReport = { node: node.name, weight: wName, axis, channels: scales.length }
  if (role.bias !== undefined) {
    const bName = node.inputs[role.bias]
    const b = floats(model.initializers.get(bName)!, bName)
    const channels = axis === undefined ? b.length : w.dims[axis]
    if (b.length !== channels && b.length !== 1)
      throw new QuantizeModelError({
        node: node.name,
        opType: node.opType,
        problem: `bias "${bName}" has ${b.length} values, expected ${channels} (one per output channel)`,
      })
    const full = b.length === channels ? b : new Float64Array(channels).fill(b[0])
    const inputScale = quantOf(node.inputs[role.activations[0]]).scale
    const qb = quantizeBias(node.name, full, inputScale, scales, role.biasFactor)
    const name = `${node.name}.${bName}`
    dequantized(initializers, nodes, name, { dims: [channels], data: qb.q }, qb.scales, new Int32Array(channels), 0)
    spec.inputs[role.bias] = `${name}_dequantized`
    entry.bias = bName
  }
  report.push(entry)
}

function dequantized(
  initializers: (TensorSpec & { name: string })[],
  nodes: NodeSpec[],
  name: string,
  q: { dims: number[]; data: Int8Array | Int32Array },
  scales: Float32Array,
  zeroPoints: Int8Array | Int32Array,
  axis: number | undefined,
): void {
  const perAxis = axis !== undefined && scales.length > 1
  const dims = perAxis ? [scales.length] : []
  initializers.push(
    { name: `${name}_quantized`, dims: q.dims, data: q.data },
    { name: `${name}_scale`, dims, data: perAxis ? scales : scales.subarray(0, 1) },
    { name: `${name}_zero_point`, dims, data: perAxis ? zeroPoints : zeroPoints.subarray(0, 1) },
  )
  nodes.push({
    op: 'DequantizeLinear',
    name: `${name}_DequantizeLinear`,
    inputs: [`${name}_quantized`, `${name}_scale`, `${name}_zero_point`],
    outputs: [`${name}_dequantized`],
    ...(perAxis && { attributes: { axis: { int: axis } } }),
  })
}
