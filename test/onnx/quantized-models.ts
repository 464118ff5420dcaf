import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import type { ElementType, TensorSpec } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'

/**
 * Seeded quantised ONNX models (QOperator and QDQ) and their comparison with onnxruntime.
 *
 * onnxruntime's u8s8 integer kernels on AVX2 (this machine has no VNNI) add pairs of
 * uint8·int8 products in saturating int16 (VPMADDUBSW), so with full-range int8 weights its
 * result is not the ONNX one (measured: 117 of 300 QLinearMatMul outputs off, by up to 74).
 * onnxruntime's quantiser avoids it with reduce_range (7-bit weights): int8 weights here are
 * in [-64, 63] (its s8·s8 kernels shift to u8·s8 and saturate the same way), which no pair of
 * products can saturate.
 */

export type QType = 'int8' | 'uint8'
export const RANGE: Record<QType, [number, number]> = { int8: [-128, 127], uint8: [0, 255] }

export const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1)
export const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
/** A float32 scale log-uniform in [lo, hi] with a full mantissa (the scales quantisers write). */
export const scaleIn = (r: () => number, lo: number, hi: number) => Math.fround(lo * (hi / lo) ** r())

export function ints(type: QType | 'int32', data: number[]): Int8Array | Uint8Array | Int32Array {
  return type === 'int8' ? Int8Array.from(data) : type === 'uint8' ? Uint8Array.from(data) : Int32Array.from(data)
}

export function tensor(
  name: string,
  type: QType | 'int32' | 'float32',
  dims: number[],
  data: number[],
): TensorSpec & { name: string } {
  return { name, dims, data: type === 'float32' ? Float32Array.from(data) : ints(type, data) }
}

/** Weights of a type, saturation-safe for onnxruntime (int8 ones 7-bit, see above). */
export function weights(r: () => number, type: QType, n: number): number[] {
  const [lo, hi] = type === 'int8' ? [-64, 63] : RANGE[type]
  return Array.from({ length: n }, () => int(r, lo, hi))
}

/** A zero point of a type; int8 weights get 0 as onnxruntime's symmetric weight quantisation writes. */
export const zeroPoint = (r: () => number, type: QType) => (type === 'int8' ? int(r, -20, 20) : int(r, 100, 150))

export interface Agreement {
  elements: number
  exact: number
  offByOne: number
  /** Largest |veriml - onnxruntime| in output LSBs (units of the IR output's scale). */
  maxLsb: number
}

/** One sample per input: integers for int8/uint8 inputs, floats on and between the grid of the input's QuantizeLinear (ties included). */
export function samples(ir: IrModel, r: () => number, count: number, types: readonly ElementType[]): Float64Array[][] {
  return Array.from({ length: count }, () =>
    ir.inputs.map((info, i) =>
      Float64Array.from({ length: size(info.shape) }, () => {
        const q = int(r, Number(info.lo), Number(info.hi))
        if (types[i] !== 'float32') return q
        const lo = Number(info.lo),
          hi = Number(info.hi)
        const u = pick(r, [0, 0.5, -0.5, r() - 0.5])
        const v = Math.min(Math.max(q + u, lo), hi)
        return (v - info.quant.zeroPoint) * info.quant.scale
      }),
    ),
  )
}

/** Imports `bytes` without calibration, runs it in veriml's reference executor and in onnxruntime, and counts agreement. */
export async function agreement(
  bytes: Uint8Array,
  r: () => number,
  count: number,
): Promise<{ ir: IrModel; stats: Agreement }> {
  const onnx = parseOnnx(bytes)
  const ir = quantize(lowerOnnx(onnx), [])
  analyzeBounds(ir)
  const types = onnx.inputs.map(
    (i) => (i.elemType === 2 ? 'uint8' : i.elemType === 3 ? 'int8' : 'float32') as ElementType,
  )
  const xs = samples(ir, r, count, types)
  const reference = await runOnnxruntime(bytes, onnx.inputs, xs)
  const stats: Agreement = { elements: 0, exact: 0, offByOne: 0, maxLsb: 0 }
  xs.forEach((x, s) => {
    const outs = execute(ir, quantizeInputs(ir.inputs, x)).outputs
    outs.forEach((o, k) => {
      const real = dequantize(o, ir.outputs[k].quant)
      real.forEach((v, i) => {
        // onnxruntime's float outputs ((q - z)·s of DequantizeLinear, float(acc)·scale of a float QGemm) are
        // rounded to float32: 2^-24 relative. Within that they are exact, however many output units it spans.
        const want = reference[s][k][i]
        const lsb = Math.abs(v - want) / ir.outputs[k].quant.scale
        const float32Equal = Math.abs(v - want) <= 2 ** -23 * Math.abs(want)
        stats.elements++
        stats.maxLsb = Math.max(stats.maxLsb, float32Equal ? 0 : lsb)
        if (lsb < 1e-3 || float32Equal) stats.exact++
        else if (lsb < 1 + 1e-3) stats.offByOne++
      })
    })
  })
  return { ir, stats }
}
