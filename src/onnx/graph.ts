import { sizeOf } from '../util/shape.js'
/**
 * The imported graph: the ONNX model lowered to the same small op set as the integer IR,
 * but over reals. Constant linear ops are already fused into `affine` steps, constants are
 * folded, and movement ops are index maps. Quantisation turns it into the integer IR.
 */

export interface FloatAffine {
  kind: 'affine'
  inputs: number[]
  rowPtr: Int32Array
  cols: Int32Array
  vals: Float64Array
  bias: Float64Array
}

/** y = min(max(x, lo), hi); ReLU is clamp(0, null). */
export interface FloatClamp {
  kind: 'clamp'
  inputs: [number]
  lo: number | null
  hi: number | null
}

export interface FloatGather {
  kind: 'gather'
  inputs: number[]
  index: Int32Array
  fill: number
}

/** y[i] = max over the row's positions (CSR, every row non-empty): MaxPool windows. */
export interface FloatMax {
  kind: 'max'
  inputs: number[]
  rowPtr: Int32Array
  cols: Int32Array
}

/**
 * y = f(x) elementwise for a real function without an R1CS form (Sigmoid, Tanh,
 * LeakyRelu…): quantisation turns it into a table lookup over the input's integer domain.
 * `name` is the ONNX op (with its attributes) for reports.
 */
export interface FloatUnary {
  kind: 'unary'
  inputs: [number]
  name: string
  f: (x: number) => number
  /**
   * The largest |f| over the input's whole domain, when known exactly (an embedding table's
   * largest entry): the output scale then covers every token id, not only the calibrated ones,
   * and every column of one table shares it (src/onnx/ops/embedding.ts).
   */
  outMaxAbs?: number
}

/**
 * ONNX QuantizeLinear on an input-dependent tensor, per tensor:
 * y = clamp(roundHalfEven(x / scale) + zeroPoint, lo, hi). Its values are the integers
 * themselves (as ONNX defines them), so quantisation keeps the model's own scales and
 * zero points instead of calibrating new ones; DequantizeLinear is the affine map
 * (q - zeroPoint) · scale that composes into the following linear ops.
 */
export interface FloatQuant {
  kind: 'quant'
  inputs: [number]
  scale: number
  zeroPoint: number
  lo: number
  hi: number
}

/** y[i] = x[left[i]] · x[right[i]]: ONNX Mul of two input-dependent tensors (broadcast by the index maps). */
export interface FloatMul {
  kind: 'mul'
  inputs: number[]
  left: Int32Array
  right: Int32Array
}

/**
 * y[i] = x[num[i]] / x[den[i]] (the constant 1 / x[den[i]] where num[i] = -1): ONNX Div and
 * Reciprocal by an input-dependent tensor, softmax's division by its row sum, a normalisation's
 * division by the standard deviation. Broadcasting is in the index maps.
 */
export interface FloatDiv {
  kind: 'div'
  inputs: number[]
  num: Int32Array
  den: Int32Array
  /**
   * A lower bound every divisor holds for every input, known from the graph's structure (a
   * softmax row sum holds exp(0) = 1), which interval bounds cannot see. The quantiser clamps
   * the divisor there (a clamp that never binds), so the reciprocal's proven range — and every
   * range check after it — is as narrow as the values really are.
   */
  denLo?: number
}

/**
 * y = √x elementwise: ONNX Sqrt. Quantisation takes an integer square root of an accumulator
 * (a normalisation's variance, scaled up to keep precision) and a table of an activation.
 */
export interface FloatSqrt {
  kind: 'sqrt'
  inputs: [number]
}

export type FloatOp =
  | FloatAffine
  | FloatClamp
  | FloatGather
  | FloatMax
  | FloatUnary
  | FloatQuant
  | FloatMul
  | FloatDiv
  | FloatSqrt

/** Round half to even, as ONNX QuantizeLinear (and onnxruntime's nearbyint) does. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v)
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r
}

export interface FloatStep {
  /** Names of the ONNX nodes this step implements. */
  origin: string
  op: FloatOp
  id: number
  shape: number[]
}

/**
 * A float function applied to a graph output after the proven part (Softmax as the final op):
 * along `axis` of the output viewed as `shape` (same size). Reports only; never proven.
 */
export interface FloatPostprocess {
  op: 'softmax' | 'logsoftmax'
  axis: number
  shape: number[]
}

export interface FloatGraph {
  name: string
  /**
   * `integer`: an int8/uint8 graph input, whose values are integers in [lo, hi] (scale 1).
   * `tokenIds`: an int32/int64 input that indexes the constant `table` (Gather): integers in
   * [lo, hi] = [0, rows − 1] (src/onnx/ops/embedding.ts). `binary`: an int32/int64 attention
   * mask, 0 or 1 (src/onnx/ops/input-mask.ts).
   */
  inputs: {
    id: number
    name: string
    shape: number[]
    integer?: { lo: number; hi: number }
    tokenIds?: { lo: number; hi: number; table: string }
    /** An attention mask (src/onnx/ops/input-mask.ts): integers 0 and 1 only. */
    binary?: true
  }[]
  steps: FloatStep[]
  outputs: { id: number; name: string; postprocess?: FloatPostprocess }[]
}

export { sizeOf }

/**
 * True when the graph carries its own quantisation (a QuantizeLinear on an activation, or an
 * int8/uint8 input): quantize takes the fixed-scale path (src/quantize/fixed.ts), and lowerOnnx
 * fuses no elementwise closure (src/onnx/fuse-elementwise.ts).
 */
export function hasFixedScales(graph: FloatGraph): boolean {
  return graph.steps.some((s) => s.op.kind === 'quant') || graph.inputs.some((i) => i.integer !== undefined)
}

function concat(values: Map<number, Float64Array>, ids: readonly number[]): Float64Array {
  if (ids.length === 1) return values.get(ids[0])!
  const parts = ids.map((id) => values.get(id)!)
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const evaluateFloat: { [K in FloatOp['kind']]: (op: Extract<FloatOp, { kind: K }>, x: Float64Array) => Float64Array } =
  {
    affine: (op, x) => {
      const y = Float64Array.from(op.bias)
      for (let j = 0; j < y.length; j++)
        for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++) y[j] += op.vals[k] * x[op.cols[k]]
      return y
    },
    clamp: (op, x) => x.map((v) => Math.min(Math.max(v, op.lo ?? -Infinity), op.hi ?? Infinity)),
    gather: (op, x) => Float64Array.from(op.index, (src) => (src < 0 ? op.fill : x[src])),
    max: (op, x) =>
      Float64Array.from({ length: op.rowPtr.length - 1 }, (_, i) => {
        let m = -Infinity
        for (let k = op.rowPtr[i]; k < op.rowPtr[i + 1]; k++) if (x[op.cols[k]] > m) m = x[op.cols[k]]
        return m
      }),
    unary: (op, x) => x.map(op.f),
    mul: (op, x) => Float64Array.from(op.left, (a, i) => x[a] * x[op.right[i]]),
    div: (op, x) => Float64Array.from(op.num, (a, i) => (a < 0 ? 1 : x[a]) / x[op.den[i]]),
    sqrt: (_op, x) => x.map(Math.sqrt),
    quant: (op, x) => x.map((v) => Math.min(Math.max(roundHalfEven(v / op.scale) + op.zeroPoint, op.lo), op.hi)),
  }

/** Runs the imported graph in float64; returns every tensor's values. Used for calibration. */
export function executeFloat(graph: FloatGraph, inputs: readonly Float64Array[]): Map<number, Float64Array> {
  const values = new Map<number, Float64Array>()
  graph.inputs.forEach((info, i) => values.set(info.id, inputs[i]))
  for (const step of graph.steps) {
    const run = evaluateFloat[step.op.kind] as (op: FloatOp, x: Float64Array) => Float64Array
    values.set(step.id, run(step.op, concat(values, step.op.inputs)))
  }
  return values
}
