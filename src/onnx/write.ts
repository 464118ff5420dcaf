import onnxProto from 'onnx-proto'
import { BaseError, type ErrorParameters } from '../errors.js'
import { sizeOf } from '../util/shape.js'

// onnx-proto is CommonJS: under Node's ESM loader only its default export exists,
// so `import { onnx } from 'onnx-proto'` fails at run time even though tsc accepts it.
const { onnx } = onnxProto

export type TensorData = Float32Array | Float64Array | Int8Array | Uint8Array | Int32Array | BigInt64Array

/** Element types a tensor or graph value can have; the names follow numpy. */
export type ElementType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool'

export interface TensorSpec {
  /** Omitted for tensors inside attributes (e.g. a `Constant` node's `value`). */
  name?: string
  dims: number[]
  data: TensorData
  /** Only needed for `bool`: a Uint8Array would otherwise be written as uint8. */
  type?: ElementType
}

export interface ValueSpec {
  name: string
  /**
   * Strings are symbolic dimensions (e.g. a batch dimension "N"). Omitted: shape unknown, as
   * for intermediate tensors exposed as extra outputs (an empty list would declare a scalar).
   */
  shape?: (number | string)[]
  type?: ElementType
}

/**
 * One key says the ONNX attribute type: a JS number cannot tell an int from a float,
 * and onnxruntime rejects a model whose attribute has the wrong type (e.g. Gemm `alpha` as int).
 */
export type AttributeSpec =
  | { int: number }
  | { float: number }
  | { ints: number[] }
  | { floats: number[] }
  | { string: string }
  | { strings: string[] }
  | { tensor: TensorSpec }

export interface NodeSpec {
  op: string
  name: string
  /** Operator domain, e.g. 'com.microsoft' for QLinearAdd; omitted = ai.onnx. Imported at version 1. */
  domain?: string
  /** An empty string is an omitted optional input, as in ONNX. */
  inputs: string[]
  outputs: string[]
  attributes?: Record<string, AttributeSpec>
}

export interface BuildModelParameters {
  name: string
  /** Default opset of the `ai.onnx` domain: 13. */
  opset?: number
  inputs: ValueSpec[]
  outputs: ValueSpec[]
  initializers?: (TensorSpec & { name: string })[]
  nodes: NodeSpec[]
  docString?: string
  /** Written as the model's metadata_props, e.g. the seed a fixture was generated with. */
  metadata?: Record<string, string>
}

export type BuildModelReturnType = Uint8Array

/** A model spec buildModel cannot write; the subclasses below name the tensor or node at fault. */
export class OnnxWriteError extends BaseError {
  override name = 'OnnxWriteError'
  readonly problem: string
  constructor({ problem, details, cause }: ErrorParameters<{ problem: string }>) {
    super(problem, { details, cause })
    this.problem = problem
  }
}

export class TensorSizeMismatchError extends OnnxWriteError {
  override name = 'TensorSizeMismatchError'
  readonly tensorName: string
  readonly dims: number[]
  readonly expected: number
  readonly actual: number

  constructor({
    tensorName,
    dims,
    actual,
    details,
    cause,
  }: ErrorParameters<{ tensorName: string; dims: number[]; actual: number }>) {
    const expected = sizeOf(dims)
    super({
      problem: `tensor "${tensorName}": dims [${dims.join(', ')}] hold ${expected} elements but ${actual} were given`,
      details,
      cause,
    })
    this.tensorName = tensorName
    this.dims = dims
    this.expected = expected
    this.actual = actual
  }
}

export class TensorTypeMismatchError extends OnnxWriteError {
  override name = 'TensorTypeMismatchError'
  readonly tensorName: string
  readonly declaredType: ElementType
  readonly arrayType: string

  constructor({
    tensorName,
    declaredType,
    arrayType,
    details,
    cause,
  }: ErrorParameters<{ tensorName: string; declaredType: ElementType; arrayType: string }>) {
    super({
      problem: `tensor "${tensorName}": type ${declaredType} cannot be written from a ${arrayType}`,
      details,
      cause,
    })
    this.tensorName = tensorName
    this.declaredType = declaredType
    this.arrayType = arrayType
  }
}

export interface DanglingInput {
  nodeName: string
  inputName: string
}

/** Every node input that no earlier node, graph input or initializer produces, reported at once. */
export class DanglingInputsError extends OnnxWriteError {
  override name = 'DanglingInputsError'
  readonly dangling: DanglingInput[]

  constructor({ dangling, details = [], cause }: ErrorParameters<{ dangling: DanglingInput[] }>) {
    super({
      problem: `${dangling.length} node input(s) are not produced before use`,
      details: [
        ...dangling.map((d) => `node "${d.nodeName}" reads "${d.inputName}"`),
        'ONNX requires nodes in topological order; add the producer first or list the tensor as an input or initializer.',
        ...details,
      ],
      cause,
    })
    this.dangling = dangling
  }
}

export class DuplicateNameError extends OnnxWriteError {
  override name = 'DuplicateNameError'
  readonly kind: 'tensor' | 'node'
  readonly duplicateName: string

  constructor({
    kind,
    duplicateName,
    details = [],
    cause,
  }: ErrorParameters<{ kind: 'tensor' | 'node'; duplicateName: string }>) {
    super({
      problem: `${kind} name "${duplicateName}" is defined more than once`,
      details: ['ONNX graphs are in SSA form: every tensor has exactly one producer.', ...details],
      cause,
    })
    this.kind = kind
    this.duplicateName = duplicateName
  }
}

const DataType = onnx.TensorProto.DataType

const ELEMENT: Record<ElementType, { dataType: number; bytes: number; array: string }> = {
  float32: { dataType: DataType.FLOAT, bytes: 4, array: 'Float32Array' },
  float64: { dataType: DataType.DOUBLE, bytes: 8, array: 'Float64Array' },
  int8: { dataType: DataType.INT8, bytes: 1, array: 'Int8Array' },
  uint8: { dataType: DataType.UINT8, bytes: 1, array: 'Uint8Array' },
  int32: { dataType: DataType.INT32, bytes: 4, array: 'Int32Array' },
  int64: { dataType: DataType.INT64, bytes: 8, array: 'BigInt64Array' },
  bool: { dataType: DataType.BOOL, bytes: 1, array: 'Uint8Array' },
}

function elementTypeOf(data: TensorData): ElementType {
  if (data instanceof Float32Array) return 'float32'
  if (data instanceof Float64Array) return 'float64'
  if (data instanceof Int8Array) return 'int8'
  if (data instanceof Uint8Array) return 'uint8'
  if (data instanceof Int32Array) return 'int32'
  return 'int64'
}

/** ONNX raw_data is little-endian whatever the host; DataView makes that explicit. */
function littleEndianBytes(data: TensorData, type: ElementType): Uint8Array {
  const out = new Uint8Array(data.length * ELEMENT[type].bytes)
  const view = new DataView(out.buffer)
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    switch (type) {
      case 'float32':
        view.setFloat32(i * 4, v as number, true)
        break
      case 'float64':
        view.setFloat64(i * 8, v as number, true)
        break
      case 'int8':
        view.setInt8(i, v as number)
        break
      case 'uint8':
      case 'bool':
        view.setUint8(i, v as number)
        break
      case 'int32':
        view.setInt32(i * 4, v as number, true)
        break
      case 'int64':
        view.setBigInt64(i * 8, v as bigint, true)
        break
    }
  }
  return out
}

function tensorProto(spec: TensorSpec, where: string): InstanceType<typeof onnx.TensorProto> {
  const tensorName = spec.name ?? where
  const arrayType = elementTypeOf(spec.data)
  const type = spec.type ?? arrayType
  // INVARIANT: the declared type must be storable from the array without conversion.
  if (ELEMENT[type].array !== ELEMENT[arrayType].array) {
    throw new TensorTypeMismatchError({ tensorName, declaredType: type, arrayType: ELEMENT[arrayType].array })
  }
  if (sizeOf(spec.dims) !== spec.data.length) {
    throw new TensorSizeMismatchError({ tensorName, dims: spec.dims, actual: spec.data.length })
  }
  return onnx.TensorProto.create({
    name: spec.name ?? '',
    dims: spec.dims,
    dataType: ELEMENT[type].dataType,
    rawData: littleEndianBytes(spec.data, type),
  })
}

function attributeProto(name: string, spec: AttributeSpec, nodeName: string): InstanceType<typeof onnx.AttributeProto> {
  const T = onnx.AttributeProto.AttributeType
  if ('int' in spec) return onnx.AttributeProto.create({ name, type: T.INT, i: spec.int })
  if ('float' in spec) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: spec.float })
  if ('ints' in spec) return onnx.AttributeProto.create({ name, type: T.INTS, ints: spec.ints })
  if ('floats' in spec) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: spec.floats })
  if ('string' in spec)
    return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(spec.string) })
  if ('strings' in spec)
    return onnx.AttributeProto.create({
      name,
      type: T.STRINGS,
      strings: spec.strings.map((v) => new TextEncoder().encode(v)),
    })
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: tensorProto(spec.tensor, `${nodeName}.${name}`) })
}

function valueInfoProto(v: ValueSpec): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEMENT[v.type ?? 'float32'].dataType,
        ...(v.shape && {
          shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
        }),
      },
    },
  })
}

/** Rejects graphs onnxruntime would reject later with a less specific message. */
function checkGraph({ inputs, initializers = [], nodes }: BuildModelParameters): void {
  const defined = new Set<string>()
  const define = (name: string) => {
    if (defined.has(name)) throw new DuplicateNameError({ kind: 'tensor', duplicateName: name })
    defined.add(name)
  }
  for (const v of inputs) define(v.name)
  for (const t of initializers) define(t.name)
  const nodeNames = new Set<string>()
  const dangling: DanglingInput[] = []
  for (const node of nodes) {
    if (nodeNames.has(node.name)) throw new DuplicateNameError({ kind: 'node', duplicateName: node.name })
    nodeNames.add(node.name)
    for (const input of node.inputs) {
      if (input !== '' && !defined.has(input)) dangling.push({ nodeName: node.name, inputName: input })
    }
    for (const output of node.outputs) if (output !== '') define(output)
  }
  if (dangling.length > 0) throw new DanglingInputsError({ dangling })
}

/**
 * Encodes a graph as an ONNX model (IR version 8). Pure: returns the bytes, writes no file.
 * Tensors go into raw_data, the compact form onnxruntime and EZKL both read.
 */
export function buildModel(parameters: BuildModelParameters): BuildModelReturnType {
  checkGraph(parameters)
  const { name, opset = 13, inputs, outputs, initializers = [], nodes, docString, metadata = {} } = parameters
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'veriml',
    opsetImport: [
      { domain: '', version: opset },
      ...[...new Set(nodes.flatMap((n) => (n.domain ? [n.domain] : [])))].map((domain) => ({ domain, version: 1 })),
    ],
    docString: docString ?? '',
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name,
      input: inputs.map(valueInfoProto),
      output: outputs.map(valueInfoProto),
      initializer: initializers.map((t) => tensorProto(t, t.name)),
      node: nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        ...(n.domain ? { domain: n.domain } : {}),
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([key, a]) => attributeProto(key, a, n.name)),
      })),
    },
  })
  // protobufjs may hand back a Buffer view into its shared pool; copying gives callers
  // a plain Uint8Array whose .buffer is exactly the model.
  return new Uint8Array(onnx.ModelProto.encode(model).finish())
}
