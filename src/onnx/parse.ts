import onnxProto from 'onnx-proto'
import { BaseError } from '../errors.js'

const { onnx } = onnxProto

/** A constant tensor: float data is widened to float64, integer data kept exact. */
export interface OnnxTensor {
  dims: number[]
  data: Float64Array | BigInt64Array
  /** TensorProto.DataType: int8 and uint8 share the data array, and a zero point's type picks QuantizeLinear's range. */
  dataType?: number
}

export type AttributeValue = number | string | number[] | OnnxTensor

export interface OnnxNode {
  name: string
  opType: string
  domain: string
  inputs: string[]
  outputs: string[]
  attributes: Record<string, AttributeValue>
}

export interface OnnxValueInfo {
  name: string
  /** Symbolic dimensions (e.g. a batch "N") are read as 1: veriml proves one sample at a time. */
  shape: number[]
  /** TensorProto.DataType of the element (1 float, 2 uint8, 3 int8…); 0 when not declared. */
  elemType?: number
}

export interface OnnxModel {
  name: string
  opset: number
  inputs: OnnxValueInfo[]
  outputs: OnnxValueInfo[]
  initializers: Map<string, OnnxTensor>
  nodes: OnnxNode[]
}

export class OnnxParseError extends BaseError {
  override name = 'OnnxParseError'
}

// protobufjs decodes int64 as Long objects (or numbers when long.js is absent).
type LongLike = number | { toString(): string }
const toNumber = (v: LongLike | null | undefined): number => (v == null ? 0 : Number(v.toString()))
const toBigInt = (v: LongLike): bigint => BigInt(v.toString())

const FLOAT_TYPES: Record<number, (b: Buffer) => ArrayLike<number>> = {
  [onnx.TensorProto.DataType.FLOAT]: (b) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.DOUBLE]: (b) => new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
}
const INT_TYPES: Record<number, (b: Buffer) => ArrayLike<number | bigint>> = {
  [onnx.TensorProto.DataType.INT8]: (b) => new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.UINT8]: (b) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.INT32]: (b) => new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.INT64]: (b) => new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.BOOL]: (b) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
}

export function parseTensor(t: InstanceType<typeof onnx.TensorProto>): OnnxTensor {
  const dims = (t.dims ?? []).map(toNumber)
  const raw = t.rawData && t.rawData.length > 0 ? Buffer.from(t.rawData) : null
  const type = t.dataType ?? 0
  if (type in FLOAT_TYPES) {
    const values = raw ? FLOAT_TYPES[type](raw) : type === onnx.TensorProto.DataType.DOUBLE ? t.doubleData : t.floatData
    return { dims, data: Float64Array.from(values ?? []), dataType: type }
  }
  if (type in INT_TYPES) {
    const values: ArrayLike<number | bigint | LongLike> = raw
      ? INT_TYPES[type](raw)
      : type === onnx.TensorProto.DataType.INT64
        ? (t.int64Data ?? [])
        : (t.int32Data ?? [])
    return { dims, data: BigInt64Array.from(Array.from(values, (v) => toBigInt(v as LongLike))), dataType: type }
  }
  throw new OnnxParseError(`tensor "${t.name}": data type ${type} is not supported`, {
    details: ['Supported: float, double, int8, uint8, int32, int64, bool.'],
  })
}

function parseAttribute(a: InstanceType<typeof onnx.AttributeProto>): AttributeValue {
  const T = onnx.AttributeProto.AttributeType
  switch (a.type) {
    case T.FLOAT: return a.f ?? 0
    case T.INT: return toNumber(a.i as LongLike)
    case T.STRING: return Buffer.from(a.s ?? []).toString('utf8')
    case T.FLOATS: return [...(a.floats ?? [])]
    case T.INTS: return (a.ints ?? []).map((v) => toNumber(v as LongLike))
    case T.TENSOR: return parseTensor(a.t as InstanceType<typeof onnx.TensorProto>)
    default: throw new OnnxParseError(`attribute "${a.name}": type ${a.type} is not supported`)
  }
}

function valueInfo(v: InstanceType<typeof onnx.ValueInfoProto>): OnnxValueInfo {
  const dims = v.type?.tensorType?.shape?.dim ?? []
  return { name: v.name ?? '', shape: dims.map((d) => (d.dimValue != null && toNumber(d.dimValue as LongLike) > 0 ? toNumber(d.dimValue as LongLike) : 1)), elemType: v.type?.tensorType?.elemType ?? 0 }
}

/** Decodes an ONNX protobuf into a plain structure. Pure: takes bytes, touches no file. */
export function parseOnnx(bytes: Uint8Array, name = 'model'): OnnxModel {
  let proto
  try {
    proto = onnx.ModelProto.decode(bytes)
  } catch (cause) {
    throw new OnnxParseError(`"${name}" is not a valid ONNX protobuf`, { cause })
  }
  const graph = proto.graph
  if (!graph) throw new OnnxParseError(`"${name}" has no graph`)
  const opset = Math.max(0, ...(proto.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx').map((o) => toNumber(o.version as LongLike)))
  const initializers = new Map<string, OnnxTensor>()
  for (const t of graph.initializer ?? []) initializers.set(t.name ?? '', parseTensor(t as InstanceType<typeof onnx.TensorProto>))
  const nodes: OnnxNode[] = (graph.node ?? []).map((n, i) => ({
    name: n.name || `${n.opType}_${i}`,
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes: Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', parseAttribute(a as InstanceType<typeof onnx.AttributeProto>)])),
  }))
  return {
    name: graph.name || name,
    opset,
    // Graph inputs that are also initializers are weights, not model inputs (ONNX IR < 4 style).
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => valueInfo(v as InstanceType<typeof onnx.ValueInfoProto>)),
    outputs: (graph.output ?? []).map((v) => valueInfo(v as InstanceType<typeof onnx.ValueInfoProto>)),
    initializers,
    nodes,
  }
}
