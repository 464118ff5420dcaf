// The parsed ONNX model: plain data the parser produces and the lowering reads.

/** A constant tensor: float data is widened to float64, integer data kept exact. */
export interface OnnxTensor {
  dims: number[]
  data: Float64Array | BigInt64Array
  /** TensorProto.DataType: int8 and uint8 share the data array, and a zero point's type picks QuantizeLinear's range. */
  dataType?: number
}

/**
 * An attribute veriml reads no further: a subgraph (If/Loop/Scan bodies) or a type. Kept as a
 * marker so the model parses and lowering reports the node's op as unsupported by name.
 */
export interface OpaqueAttribute {
  opaque: 'graph' | 'graphs' | 'type_proto' | 'type_protos'
}

/** Every AttributeProto type: sparse tensors are stored dense (values scattered by their indices). */
export type AttributeValue = number | string | number[] | string[] | OnnxTensor | OnnxTensor[] | OpaqueAttribute

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
  /**
   * Model inputs: a symbolic dimension (e.g. a batch "N") must be bound by the caller
   * (`dims`), else parsing refuses it. Graph outputs: symbolic and unknown dims read as 1
   * (the lowering computes the real shapes).
   */
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
