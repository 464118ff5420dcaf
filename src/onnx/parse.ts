import onnxProto from 'onnx-proto'
import { BaseError, type ErrorParameters } from '../errors.js'
import { type ExternalDataResolver, inlineExternalData } from './external.js'
import { LIMITS, SizeLimitError, checkedSize } from './limits.js'
import { checkGraph } from './validate.js'
import { dimsFromInputFile } from './symbolic-dims.js'
import type { AttributeValue, OnnxModel, OpaqueAttribute, OnnxNode, OnnxTensor, OnnxValueInfo } from './types.js'

const { onnx } = onnxProto

export type { AttributeValue, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './types.js'

/** The bytes are not a model veriml can read: not protobuf, no graph, a tensor it cannot decode. */
export class OnnxParseError extends BaseError {
  override name = 'OnnxParseError'
  readonly problem: string
  constructor({ problem, details, cause }: ErrorParameters<{ problem: string }>) {
    super(problem, { details, cause })
    this.problem = problem
  }
}

/** A model input with a symbolic or unknown dimension that nothing binds. */
export class SymbolicDimensionError extends BaseError {
  override name = 'SymbolicDimensionError'
  readonly input: string
  readonly axis: number
  readonly param: string
  constructor(p: ErrorParameters<{ input: string; axis: number; param: string }>) {
    super(
      p.param
        ? `input "${p.input}": dimension ${p.axis} is symbolic ("${p.param}"); veriml needs a fixed size`
        : `input "${p.input}": dimension ${p.axis} has no size`,
      {
        details: [
          p.param
            ? `Bind it: --dim ${p.param}=1 (for a batch dimension) or the size you mean, or give samples (--calibration) as nested lists of the input's shape.`
            : 'Re-export the model with a fixed input shape.',
          ...(p.details ?? []),
        ],
        cause: p.cause,
      },
    )
    this.input = p.input
    this.axis = p.axis
    this.param = p.param
  }
}

export interface ParseOnnxOptions {
  /** Sizes of symbolic input dimensions, by name (`--dim N=1`). */
  dims?: Readonly<Record<string, number>>
  /** Reads a tensor's external data file (`model.onnx.data`); without it such a model is refused. */
  externalData?: ExternalDataResolver
  /**
   * The parsed JSON of an input or samples file: symbolic dimensions that `dims` leaves unbound
   * are bound from the shapes of its nested lists (see dimsFromInputFile).
   */
  inputFile?: unknown
}

// protobufjs decodes int64 as Long objects (or numbers when long.js is absent).
type LongLike = number | { toString(): string }
const toNumber = (v: LongLike | null | undefined): number => (v == null ? 0 : Number(v.toString()))
const toBigInt = (v: LongLike): bigint => BigInt(v.toString())

const FLOAT_TYPES: Record<number, (b: Buffer) => ArrayLike<number>> = {
  [onnx.TensorProto.DataType.FLOAT]: (b) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.DOUBLE]: (b) =>
    new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
}
const INT_TYPES: Record<number, (b: Buffer) => ArrayLike<number | bigint>> = {
  [onnx.TensorProto.DataType.INT8]: (b) => new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.UINT8]: (b) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.INT32]: (b) => new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.INT64]: (b) =>
    new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
  [onnx.TensorProto.DataType.BOOL]: (b) => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 11: 8, 3: 1, 2: 1, 6: 4, 7: 8, 9: 1 }

/**
 * A tensor, checked: its dims within the size limits, its data as long as its dims say, every
 * float finite (a NaN weight would otherwise surface as a BigInt conversion deep in quantisation).
 */
export function parseTensor(t: InstanceType<typeof onnx.TensorProto> | null | undefined, where = 'tensor'): OnnxTensor {
  if (!t) throw new OnnxParseError({ problem: `${where}: missing tensor` })
  const label = `tensor "${t.name || where}"`
  const dims = (t.dims ?? []).map(toNumber)
  const size = checkedSize(dims, label)
  const raw = t.rawData && t.rawData.length > 0 ? Buffer.from(t.rawData) : null
  const type = t.dataType ?? 0
  if (!(type in FLOAT_TYPES) && !(type in INT_TYPES)) {
    throw new OnnxParseError({
      problem: `${label}: data type ${type} is not supported`,
      details: ['Supported: float, double, int8, uint8, int32, int64, bool.'],
    })
  }
  if (raw && raw.length !== size * ELEMENT_BYTES[type]) {
    throw new OnnxParseError({
      problem: `${label}: dims [${dims.join(', ')}] need ${size * ELEMENT_BYTES[type]} bytes of data, the file holds ${raw.length}`,
    })
  }
  let tensor: OnnxTensor
  if (type in FLOAT_TYPES) {
    const values = raw ? FLOAT_TYPES[type](raw) : type === onnx.TensorProto.DataType.DOUBLE ? t.doubleData : t.floatData
    tensor = { dims, data: Float64Array.from(values ?? []), dataType: type }
    // -inf is allowed: attention masks are written with it (masked_fill(-inf), triu(-inf)). The
    // lowering maps mask values to a finite fill and refuses an infinity reaching any other step.
    const bad = tensor.data.findIndex((v) => Number.isNaN(v) || v === Number.POSITIVE_INFINITY)
    if (bad >= 0)
      throw new OnnxParseError({
        problem: `${label}: element ${bad} is ${tensor.data[bad]}; weights and constants must be finite numbers (or -inf in a mask)`,
      })
  } else {
    const values: ArrayLike<number | bigint | LongLike> = raw
      ? INT_TYPES[type](raw)
      : type === onnx.TensorProto.DataType.INT64
        ? (t.int64Data ?? [])
        : (t.int32Data ?? [])
    tensor = { dims, data: BigInt64Array.from(Array.from(values, (v) => toBigInt(v as LongLike))), dataType: type }
  }
  if (tensor.data.length !== size)
    throw new OnnxParseError({
      problem: `${label}: dims [${dims.join(', ')}] say ${size} elements, the file holds ${tensor.data.length}`,
    })
  return tensor
}

/**
 * A sparse tensor as a dense one: zeros, with `values` scattered at `indices`. The spec allows
 * both index layouts: [NNZ] linear indices, or [NNZ, rank] coordinates.
 */
function parseSparseTensor(
  s: InstanceType<typeof onnx.SparseTensorProto> | null | undefined,
  where: string,
): OnnxTensor {
  if (!s) throw new OnnxParseError({ problem: `${where}: missing sparse tensor` })
  const dims = (s.dims ?? []).map(toNumber)
  const label = `sparse tensor "${s.values?.name || where}"`
  const size = checkedSize(dims, label)
  const values = parseTensor(s.values as InstanceType<typeof onnx.TensorProto>, `${where} values`)
  const indices = parseTensor(s.indices as InstanceType<typeof onnx.TensorProto>, `${where} indices`)
  const nnz = values.data.length
  const coordinates = indices.dims.length === 2
  if (
    !(indices.data instanceof BigInt64Array) ||
    (coordinates ? indices.dims[0] !== nnz || indices.dims[1] !== dims.length : indices.data.length !== nnz)
  )
    throw new OnnxParseError({
      problem: `${label}: indices [${indices.dims.join(', ')}] do not fit ${nnz} values of a rank-${dims.length} tensor`,
    })
  const dense = values.data instanceof BigInt64Array ? new BigInt64Array(size) : new Float64Array(size)
  for (let k = 0; k < nnz; k++) {
    let at = 0
    if (coordinates)
      for (let d = 0; d < dims.length; d++) {
        const c = Number(indices.data[k * dims.length + d])
        if (c < 0 || c >= dims[d]) at = -1
        if (at >= 0) at = at * dims[d] + c
      }
    else at = Number(indices.data[k])
    // INVARIANT: every index lands inside the tensor; a stray one would write past the dense array silently.
    if (!(at >= 0 && at < size))
      throw new OnnxParseError({ problem: `${label}: index of value ${k} lies outside dims [${dims.join(', ')}]` })
    dense[at] = values.data[k] as never
  }
  return { dims, data: dense, dataType: values.dataType }
}

function parseAttribute(a: InstanceType<typeof onnx.AttributeProto>): AttributeValue {
  const T = onnx.AttributeProto.AttributeType
  const where = `attribute "${a.name}"`
  const opaque = (kind: OpaqueAttribute['opaque']): OpaqueAttribute => ({ opaque: kind })
  switch (a.type) {
    case T.FLOAT:
      return a.f ?? 0
    case T.INT:
      return toNumber(a.i as LongLike)
    case T.STRING:
      return Buffer.from(a.s ?? []).toString('utf8')
    case T.FLOATS:
      return [...(a.floats ?? [])]
    case T.INTS:
      return (a.ints ?? []).map((v) => toNumber(v as LongLike))
    case T.STRINGS:
      return (a.strings ?? []).map((s) => Buffer.from(s).toString('utf8'))
    case T.TENSOR:
      return parseTensor(a.t as InstanceType<typeof onnx.TensorProto>, where)
    case T.TENSORS:
      return (a.tensors ?? []).map((t, i) => parseTensor(t as InstanceType<typeof onnx.TensorProto>, `${where}[${i}]`))
    case T.SPARSE_TENSOR:
      return parseSparseTensor(a.sparseTensor as InstanceType<typeof onnx.SparseTensorProto>, where)
    case T.SPARSE_TENSORS:
      return (a.sparseTensors ?? []).map((t, i) =>
        parseSparseTensor(t as InstanceType<typeof onnx.SparseTensorProto>, `${where}[${i}]`),
      )
    // Subgraphs and types are not read: the op holding them (If, Loop, Scan…) is reported unsupported by name.
    case T.GRAPH:
      return opaque('graph')
    case T.GRAPHS:
      return opaque('graphs')
    case T.TYPE_PROTO:
      return opaque('type_proto')
    case T.TYPE_PROTOS:
      return opaque('type_protos')
    default:
      throw new OnnxParseError({ problem: `${where}: type ${a.type} is not an ONNX attribute type` })
  }
}

function outputInfo(v: InstanceType<typeof onnx.ValueInfoProto>): OnnxValueInfo {
  const dims = v.type?.tensorType?.shape?.dim ?? []
  return {
    name: v.name ?? '',
    shape: dims.map((d) =>
      d.dimValue != null && toNumber(d.dimValue as LongLike) > 0 ? toNumber(d.dimValue as LongLike) : 1,
    ),
    elemType: v.type?.tensorType?.elemType ?? 0,
  }
}

/** A model input: every dimension fixed (or bound by `dims`), and the whole within the size limits. */
function inputInfo(v: InstanceType<typeof onnx.ValueInfoProto>, dims: Readonly<Record<string, number>>): OnnxValueInfo {
  const name = v.name ?? ''
  const shape = (v.type?.tensorType?.shape?.dim ?? []).map((d, axis) => {
    if (d.dimValue != null && (d.dimParam ?? '') === '') {
      const n = toNumber(d.dimValue as LongLike)
      if (n > 0) return n
    }
    const param = d.dimParam ?? ''
    if (param !== '' && Object.hasOwn(dims, param)) return dims[param]
    if (d.dimValue != null && toNumber(d.dimValue as LongLike) !== 0) return toNumber(d.dimValue as LongLike)
    throw new SymbolicDimensionError({ input: name, axis, param })
  })
  checkedSize(shape, `input "${name}"`)
  if (shape.some((d) => d < 1))
    throw new SizeLimitError({
      what: `a dimension of input "${name}" [${shape.join(', ')}]`,
      size: Math.min(...shape),
      limit: 'dimension',
    })
  return { name, shape, elemType: v.type?.tensorType?.elemType ?? 0 }
}

/** Decodes an ONNX protobuf into a plain structure. Pure: takes bytes, touches no file (external data comes through `externalData`). */
export function parseOnnx(bytes: Uint8Array, name = 'model', options: ParseOnnxOptions = {}): OnnxModel {
  return parseOnnxSelfContained(bytes, name, options).model
}

/**
 * parseOnnx, also returning the model as one self-contained protobuf: `bytes` itself unless
 * some tensor was stored externally, else re-encoded with that data inlined (what onnxruntime
 * loads and what a build's hash covers, so a changed data file changes the build).
 */
export function parseOnnxSelfContained(
  bytes: Uint8Array,
  name = 'model',
  { dims = {}, externalData, inputFile }: ParseOnnxOptions = {},
): { model: OnnxModel; bytes: Uint8Array; inferredDims: Record<string, number> } {
  let proto
  try {
    proto = onnx.ModelProto.decode(bytes)
  } catch (cause) {
    throw new OnnxParseError({ problem: `"${name}" is not a valid ONNX protobuf`, cause })
  }
  try {
    const inlined = inlineExternalData(proto, externalData)
    const inferredDims = inputFile === undefined ? {} : unboundFromFile(proto, dims, inputFile)
    const model = parseProto(proto, name, { ...inferredDims, ...dims })
    return { model, bytes: inlined > 0 ? onnx.ModelProto.encode(proto).finish() : bytes, inferredDims }
  } catch (cause) {
    // A structurally valid protobuf can still hold garbage (a bit flip, a wrong field type).
    if (cause instanceof BaseError) throw cause
    throw new OnnxParseError({
      problem: `"${name}" is not a valid ONNX model: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`,
      cause,
    })
  }
}

/** The symbolic input dimensions `dims` leaves unbound, as the input file shows them. */
function unboundFromFile(
  proto: InstanceType<typeof onnx.ModelProto>,
  dims: Readonly<Record<string, number>>,
  inputFile: unknown,
): Record<string, number> {
  const weights = new Set((proto.graph?.initializer ?? []).map((t) => t.name ?? ''))
  const declared = (proto.graph?.input ?? [])
    .filter((v) => !weights.has(v.name ?? ''))
    .map((v) => ({
      name: v.name ?? '',
      dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) =>
        (d.dimParam ?? '') !== '' ? (d.dimParam as string) : toNumber(d.dimValue as LongLike),
      ),
    }))
  const { bound, conflict } = dimsFromInputFile(inputFile, declared)
  if (conflict && !Object.hasOwn(dims, conflict.param)) throw new SymbolicDimensionError(conflict)
  return Object.fromEntries(Object.entries(bound).filter(([k]) => !Object.hasOwn(dims, k)))
}

function parseProto(
  proto: InstanceType<typeof onnx.ModelProto>,
  name: string,
  dims: Readonly<Record<string, number>>,
): OnnxModel {
  const graph = proto.graph
  if (!graph) throw new OnnxParseError({ problem: `"${name}" has no graph` })
  if ((graph.node ?? []).length > LIMITS.nodes)
    throw new SizeLimitError({ what: `the node count of "${name}"`, size: (graph.node ?? []).length, limit: 'nodes' })
  const opset = Math.max(
    0,
    ...(proto.opsetImport ?? [])
      .filter((o) => !o.domain || o.domain === 'ai.onnx')
      .map((o) => toNumber(o.version as LongLike)),
  )
  const initializers = new Map<string, OnnxTensor>()
  for (const t of graph.initializer ?? [])
    initializers.set(t.name ?? '', parseTensor(t as InstanceType<typeof onnx.TensorProto>, 'initializer'))
  for (const t of graph.sparseInitializer ?? []) {
    const sparse = t as InstanceType<typeof onnx.SparseTensorProto>
    initializers.set(sparse.values?.name ?? '', parseSparseTensor(sparse, 'sparse initializer'))
  }
  const nodes: OnnxNode[] = (graph.node ?? []).map((n, i) => ({
    name: n.name || `${n.opType}_${i}`,
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attributes: Object.fromEntries(
      (n.attribute ?? []).map((a) => [a.name ?? '', parseAttribute(a as InstanceType<typeof onnx.AttributeProto>)]),
    ),
  }))
  const model: OnnxModel = {
    name: graph.name || name,
    opset,
    // Graph inputs that are also initializers are weights, not model inputs (ONNX IR < 4 style).
    inputs: (graph.input ?? [])
      .filter((v) => !initializers.has(v.name ?? ''))
      .map((v) => inputInfo(v as InstanceType<typeof onnx.ValueInfoProto>, dims)),
    outputs: (graph.output ?? []).map((v) => outputInfo(v as InstanceType<typeof onnx.ValueInfoProto>)),
    initializers,
    nodes,
  }
  // Names, definitions and order checked here, with the culprit named, rather than as a
  // "missing input" in lowering or a stack trace from onnxruntime.
  return { ...model, nodes: checkGraph(model, name) }
}
