/**
 * The integer IR: the single source of truth every backend implements.
 *
 * A model is a list of steps in topological order; each step applies one primitive op to
 * earlier tensors and defines exactly one new tensor. Values are integers (bigint). The set
 * of primitives is closed: `PrimitiveOp['op']` is a union, and every backend is written as a
 * `{ [K in OpKind]: ... }` table, so a new primitive fails to type-check until every backend
 * implements it.
 */

export type TensorId = number

export interface TensorInfo {
  id: TensorId
  name: string
  shape: number[]
}

/**
 * y[j] = bias[j] + Σ_k vals[k] · x[cols[k]]   for k in rowPtr[j] .. rowPtr[j+1]-1,
 * where x is the concatenation (flattened, row-major) of `inputs`.
 * Covers Gemm, MatMul by a constant, Add/Sub/Mul by constants, tensor-tensor Add/Sub,
 * convolution and average pooling — every affine map with constant coefficients.
 * In R1CS a linear op costs no multiplication constraint.
 */
export interface LinearOp {
  op: 'linear'
  inputs: TensorId[]
  rowPtr: Int32Array
  cols: Int32Array
  vals: bigint[]
  bias: bigint[]
}

/**
 * y = clamp(round(x · mul / 2^shift) + zeroPoint, lo, hi), elementwise: multiply by a
 * fixed-point factor mul/2^shift, round, add a zero point, clamp. Rounding is half up
 * (floor(v + 1/2)) unless `rounding` is 'half-even' (ties to even, as onnxruntime's
 * QuantizeLinear and int8 requantisation do); absent means half up, so models made before
 * the field existed keep their id. `lo`/`hi` null means no clamp on that side. ReLU is
 * requant with mul=1, shift=0, lo=0.
 */
export interface RequantOp {
  op: 'requant'
  inputs: [TensorId]
  mul: bigint
  shift: number
  zeroPoint: bigint
  lo: bigint | null
  hi: bigint | null
  rounding?: 'half-even'
}

/**
 * y[i] = max_k x[cols[k]] for k in rowPtr[i] .. rowPtr[i+1]-1 (x the concatenation of
 * `inputs`); every row is non-empty. MaxPool: one row per output, holding the window's
 * positions (padding is left out of the row, so it never wins).
 */
export interface MaxOp {
  op: 'max'
  inputs: TensorId[]
  rowPtr: Int32Array
  cols: Int32Array
}

/**
 * y[i] = table[x[i] - offset], elementwise. The proven bounds of x must lie inside the
 * table's domain [offset, offset + table.length): sigmoid, tanh, leaky ReLU… over the int8
 * domain of their (requantised) input are 256-entry tables.
 */
export interface LookupOp {
  op: 'lookup'
  inputs: [TensorId]
  offset: bigint
  table: bigint[]
}

/** Pure index map: y[i] = x[index[i]] (x the concatenation of inputs), or `fill` where index[i] = -1. */
export interface GatherOp {
  op: 'gather'
  inputs: TensorId[]
  index: Int32Array
  fill: bigint
}

/**
 * y[i] = x[left[i]] · x[right[i]] (x the concatenation of `inputs`): the elementwise product
 * of two input-dependent tensors, broadcasting expressed as the two index maps. One
 * multiplication constraint per element; ONNX Mul of two tensors.
 */
export interface MulOp {
  op: 'mul'
  inputs: TensorId[]
  left: Int32Array
  right: Int32Array
}

/**
 * y[i] = round(a · 2^shift / d), rounding half up, where a = x[num[i]] (the constant 1 where
 * num[i] = -1: a reciprocal) and d = x[den[i]] (x the concatenation of `inputs`). Every divisor
 * must be proven ≥ 1 (bounds analysis refuses the model otherwise); exactly,
 *   y = floor((2^(shift+1) · a + d) / (2d)).
 * ONNX Div and Reciprocal by input-dependent tensors, the row sums of softmax, the standard
 * deviation of a normalisation. In R1CS one product and range checks on the remainder and y.
 */
export interface DivOp {
  op: 'div'
  inputs: TensorId[]
  num: Int32Array
  den: Int32Array
  shift: number
}

/**
 * y = floor(√x), elementwise; x must be proven ≥ 0. The standard deviation of a normalisation
 * (the quantiser scales x up first, so y keeps its precision). In R1CS one product (y²) and
 * two range checks (y² ≤ x < (y+1)²).
 */
export interface IsqrtOp {
  op: 'isqrt'
  inputs: [TensorId]
}

export type PrimitiveOp = LinearOp | RequantOp | GatherOp | MaxOp | LookupOp | MulOp | DivOp | IsqrtOp
export type OpKind = PrimitiveOp['op']

export interface Step {
  /** The ONNX node(s) this step came from, for error messages and reports. */
  origin: string
  op: PrimitiveOp
  output: TensorInfo
}

/** How an integer tensor maps back to real values: real = (q - zeroPoint) · scale. */
export interface Quantization {
  scale: number
  zeroPoint: number
}

export interface IrInput extends TensorInfo {
  quant: Quantization
  /** The calibrated integer domain; inputs outside it are rejected. */
  lo: bigint
  hi: bigint
  /** Token ids (scale 1, [lo, hi] the rows of the table they index): a value with a fraction is refused, not rounded. */
  integer?: true
}

/**
 * Float post-processing of a proven output (ONNX Softmax/LogSoftmax as the final op): the
 * circuit proves the logits — their argmax is exact, softmax being monotone — and `run` /
 * `prove` also report softmax (or log-softmax) of the dequantised logits, along `axis` of the
 * output viewed as `shape` (same size; Softmax before opset 13 flattens the dims from its axis
 * on). An approximation for reports, never proven; part of the IR, so of the model id.
 */
export interface OutputPostprocess {
  op: 'softmax' | 'logsoftmax'
  axis: number
  shape: number[]
}

export interface IrOutput {
  tensor: TensorId
  name: string
  quant: Quantization
  postprocess?: OutputPostprocess
}

export interface IrModel {
  /** Name of the source model, for reports. */
  name: string
  inputs: IrInput[]
  steps: Step[]
  outputs: IrOutput[]
}

/** Elementwise proven bounds for one tensor: lo[i] ≤ value[i] ≤ hi[i]. */
export interface TensorBounds {
  lo: bigint[]
  hi: bigint[]
}
