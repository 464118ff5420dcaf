import type { IrModel, IrOutput } from '../ir/types.js'
import { type FloatGraph, sizeOf } from '../onnx/graph.js'
import { fixedInputs, fixedOutput } from './fixed-io.js'
import { newBuild } from './fixed-state.js'
import { stepState } from './fixed-steps.js'

/**
 * The fixed-scale path: a quantised ONNX model (QDQ or QOperator) already says how every
 * value is quantised, so its integer IR uses the model's own scales and zero points and
 * needs no calibration.
 *
 * The float graph is integer-valued at every 'quant' step (and at int8/uint8 graph inputs);
 * between them sit affine maps (DequantizeLinear fused with the linear ops that follow it),
 * clamps (Relu, Clip), max windows (MaxPool) and index maps. Each quant step becomes one
 * linear step plus one half-even requant, per output row j:
 *   y_j = clamp(roundHalfEven(Σ_k c_jk x_k + b_j) / s_y) + z_y, lo, hi)
 * with c_jk = g_j · A_jk (A_jk integers, src/quantize/dyadic.ts) and 1/s_y applied as
 * onnxruntime does, through the float32 multiplier M_j = float32(g_j / s_y).
 *
 * The parts: fixed-state.ts (what each float tensor is so far, and the IR being built),
 * fixed-steps.ts (one rule per float step kind), fixed-io.ts (graph inputs and outputs).
 */

export { FixedScaleError } from './fixed-state.js'

// The predicate lives with the float graph: lowerOnnx reads it too (no elementwise fusion there).
export { hasFixedScales } from '../onnx/graph.js'

export function quantizeFixed(graph: FloatGraph): IrModel {
  const b = newBuild(graph)
  const inputs = fixedInputs(b)
  for (const step of graph.steps) {
    b.state.set(step.id, stepState(b, step))
  }
  const outputs: IrOutput[] = graph.outputs.map((o) => ({
    ...fixedOutput(b, o.id, o.name),
    ...(o.postprocess ? { postprocess: o.postprocess } : {}),
  }))
  return { name: graph.name, inputs, steps: b.steps, outputs }
}

/**
 * Seeded inputs spread over each IR input's integer domain, as real values (q - zp)·scale:
 * the yardstick samples of a quantised model compiled or inspected without a samples file.
 */
export function domainSamples(ir: IrModel, count: number): Float64Array[][] {
  let s = 0x2545f491
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return Array.from({ length: count }, () =>
    ir.inputs.map((info) =>
      Float64Array.from({ length: sizeOf(info.shape) }, () => {
        const q = Number(info.lo) + Math.floor(rand() * (Number(info.hi - info.lo) + 1))
        return (q - info.quant.zeroPoint) * info.quant.scale
      }),
    ),
  )
}
