import type { OnnxModel, OnnxTensor } from '../../onnx/parse.js'
import { buildModel, type NodeSpec, type TensorSpec } from '../../onnx/write.js'
import { type ActivationQuant, type TensorRange, activationQuant, quantizeBias, quantizeWeights } from './params.js'
import {
  MissingCalibrationError,
  planOf,
  QuantizeModelError,
  type QdqTensorReport,
  type QdqWeightReport,
  type Role,
} from './plan.js'
import { nodeSpec, rebuildParameters } from './rebuild.js'

/**
 * Static post-training quantisation of a float ONNX model to standard QDQ ONNX, the format
 * onnxruntime's quantize_static writes and runs: every activation input and output of a
 * Conv, Gemm or MatMul passes through QuantizeLinear → DequantizeLinear; their weights are
 * int8 initializers behind a per-channel DequantizeLinear, their biases int32 ones. The ops
 * in between (Relu, MaxPool, Flatten, Reshape…) stay as they are. Pure: bytes in, bytes out.
 */

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
