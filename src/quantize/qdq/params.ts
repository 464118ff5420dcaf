import { BaseError, type BaseErrorParameters } from '../../errors.js'
import { roundHalfEven } from '../../onnx/graph.js'

/**
 * Scale and zero-point arithmetic of static int8 QDQ quantisation, following onnxruntime's
 * quantize_static (MinMax calibration): activations per tensor, affine, uint8 when the
 * calibrated range is non-negative (after ReLU, pixel inputs) and int8 with a zero point
 * otherwise; weights per output channel, symmetric int8 in [-127, 127]; biases int32 at
 * scale input_scale · weight_scale so the integer accumulator adds them without a rescale.
 */

/** Calibrated range of one tensor over all calibration samples. */
export interface TensorRange {
  min: number
  max: number
}

export interface ActivationQuant {
  type: 'uint8' | 'int8'
  /** float32-representable: it is stored as a float32 initializer and must be used as stored. */
  scale: number
  zeroPoint: number
}

export class QdqRangeError extends BaseError {
  override name = 'QdqRangeError'
  readonly tensor: string
  readonly range: TensorRange
  constructor({ tensor, range, details = [], cause }: BaseErrorParameters & { tensor: string; range: TensorRange }) {
    super(`tensor "${tensor}": calibrated range [${range.min}, ${range.max}] is not a finite interval`, {
      details: [
        'A NaN or infinite value reached this tensor on a calibration sample; check the samples and the model.',
        ...details,
      ],
      cause,
    })
    this.tensor = tensor
    this.range = range
  }
}

export class BiasOverflowError extends BaseError {
  override name = 'BiasOverflowError'
  readonly node: string
  readonly channel: number
  readonly bias: number
  readonly biasScale: number
  constructor({
    node,
    channel,
    bias,
    biasScale,
    details = [],
    cause,
  }: BaseErrorParameters & { node: string; channel: number; bias: number; biasScale: number }) {
    super(`node "${node}": bias ${bias} of channel ${channel} at scale ${biasScale} does not fit int32`, {
      details: [
        'The bias is far larger than input range × weight range; the model is unusual enough to need per-tensor review.',
        ...details,
      ],
      cause,
    })
    this.node = node
    this.channel = channel
    this.bias = bias
    this.biasScale = biasScale
  }
}

const INT32_MAX = 2 ** 31 - 1

/**
 * onnxruntime's compute_scale_zp: the range is widened to contain 0, so that real 0 (ReLU's
 * floor, zero padding) is exactly representable; the zero point is then an integer.
 */
export function activationQuant(tensor: string, range: TensorRange): ActivationQuant {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max)
    throw new QdqRangeError({ tensor, range })
  const rmin = Math.min(range.min, 0)
  const rmax = Math.max(range.max, 0)
  const [type, qmin, qmax] = rmin === 0 ? (['uint8', 0, 255] as const) : (['int8', -128, 127] as const)
  if (rmax === rmin) return { type, scale: 1, zeroPoint: 0 }
  const scale = Math.fround((rmax - rmin) / (qmax - qmin))
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - rmin / scale)))
  return { type, scale, zeroPoint }
}

export interface PerChannelWeights {
  q: Int8Array
  /** One float32 scale per channel along `axis` (a single one when `axis` is undefined). */
  scales: Float32Array
  axis: number | undefined
}

/**
 * Symmetric int8 per channel: scale_c = max|w_c| / qmax, q = roundHalfEven(w / scale_c) in
 * [-qmax, qmax]. `axis` undefined quantises the whole tensor with one scale. qmax is 127, or
 * 64 with onnxruntime's reduce_range (see WEIGHT_QMAX).
 */
export function quantizeWeights(
  data: ArrayLike<number>,
  dims: readonly number[],
  axis: number | undefined,
  qmax = 127,
): PerChannelWeights {
  const channels = axis === undefined ? 1 : dims[axis]
  const inner = axis === undefined ? data.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1)
  const channelOf = (i: number) => (axis === undefined ? 0 : Math.floor(i / inner) % channels)
  const absMax = new Float64Array(channels)
  for (let i = 0; i < data.length; i++) absMax[channelOf(i)] = Math.max(absMax[channelOf(i)], Math.abs(data[i]))
  const scales = Float32Array.from(absMax, (m) => (m > 0 ? m / qmax : 1))
  const q = Int8Array.from({ length: data.length }, (_, i) =>
    Math.min(qmax, Math.max(-qmax, roundHalfEven(data[i] / scales[channelOf(i)]))),
  )
  return { q, scales, axis }
}

/**
 * int32 bias per channel at scale factor · input_scale · weight_scale_c, the scale of the
 * integer accumulator Σ x_q · w_q (factor = alpha / beta for a Gemm, 1 otherwise).
 */
export function quantizeBias(
  node: string,
  bias: ArrayLike<number>,
  inputScale: number,
  weightScales: Float32Array,
  factor = 1,
): { q: Int32Array; scales: Float32Array } {
  const scaleOf = (c: number) => weightScales[weightScales.length === 1 ? 0 : c]
  const scales = Float32Array.from({ length: bias.length }, (_, c) => Math.fround(factor * inputScale * scaleOf(c)))
  const q = Int32Array.from({ length: bias.length }, (_, c) => {
    const v = roundHalfEven(bias[c] / scales[c])
    if (!(Math.abs(v) <= INT32_MAX))
      throw new BiasOverflowError({ node, channel: c, bias: bias[c], biasScale: scales[c] })
    return v
  })
  return { q, scales }
}
