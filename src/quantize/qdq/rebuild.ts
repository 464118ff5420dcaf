import { describeAttribute, isNumbers } from '../../onnx/ops/common.js'
import {
  type AttributeValue,
  OnnxParseError,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from '../../onnx/parse.js'
import type { AttributeSpec, BuildModelParameters, NodeSpec, TensorSpec } from '../../onnx/write.js'

/**
 * Turns a parsed ONNX model back into writer parameters, for the QDQ export and the
 * calibration model. The parser keeps values, not wire types, so the types come from the
 * ops' schemas: every numeric attribute of the ops the quantiser accepts is an int (or ints)
 * except those listed here. Tensors keep the element type the parser recorded (float32 and
 * int64 when it recorded none: the types float models use for weights and for shapes).
 */
const FLOAT_ATTRIBUTES: Record<string, readonly string[]> = {
  Gemm: ['alpha', 'beta'],
  Clip: ['min', 'max'],
  Dropout: ['ratio'],
  Constant: ['value_float', 'value_floats'],
}

/** TensorProto.DataType codes the parser records, back to typed arrays. */
const INT_ARRAYS: Record<number, (v: BigInt64Array) => TensorSpec['data']> = {
  2: (v) => Uint8Array.from(v, Number),
  3: (v) => Int8Array.from(v, Number),
  6: (v) => Int32Array.from(v, Number),
  9: (v) => Uint8Array.from(v, Number),
}

export function tensorSpec(t: OnnxTensor, name?: string): TensorSpec {
  const data =
    t.data instanceof Float64Array
      ? t.dataType === 11
        ? t.data
        : Float32Array.from(t.data)
      : (INT_ARRAYS[t.dataType ?? 7]?.(t.data) ?? t.data)
  return { ...(name !== undefined && { name }), dims: t.dims, data, ...(t.dataType === 9 && { type: 'bool' as const }) }
}

function attributeSpec(node: OnnxNode, key: string, v: AttributeValue): AttributeSpec {
  const float = FLOAT_ATTRIBUTES[node.opType]?.includes(key) ?? false
  if (typeof v === 'string') return { string: v }
  if (typeof v === 'number') return float ? { float: v } : { int: v }
  if (isNumbers(v)) return float ? { floats: v } : { ints: v }
  if (!Array.isArray(v) && !('opaque' in v)) return { tensor: tensorSpec(v) }
  // Unreachable for a model that lowered: every op taking such an attribute is unsupported.
  throw new OnnxParseError({
    problem: `node "${node.name}": attribute "${key}" (${describeAttribute(v)}) cannot be rewritten`,
  })
}

export function nodeSpec(node: OnnxNode): NodeSpec {
  return {
    op: node.opType,
    name: node.name,
    inputs: node.inputs,
    outputs: node.outputs,
    attributes: Object.fromEntries(Object.entries(node.attributes).map(([k, v]) => [k, attributeSpec(node, k, v)])),
  }
}

/** The model as writer parameters: graph inputs and outputs are float32, as in float models. */
export function rebuildParameters(model: OnnxModel): BuildModelParameters {
  return {
    name: model.name,
    opset: model.opset,
    inputs: model.inputs.map((v) => ({ name: v.name, shape: v.shape })),
    outputs: model.outputs.map((v) => ({ name: v.name, shape: v.shape })),
    initializers: [...model.initializers].map(([name, t]) => tensorSpec(t, name) as TensorSpec & { name: string }),
    nodes: model.nodes.map(nodeSpec),
  }
}
