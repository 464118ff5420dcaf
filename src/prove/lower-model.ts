import type { FloatGraph } from '../onnx/graph.js'
import { lowerOnnx } from '../onnx/lower.js'
import type { OnnxModel } from '../onnx/types.js'
import { hasFixedScales } from '../quantize/fixed.js'

/** How a final Softmax/LogSoftmax is proven: the model's own output (default) or its logits. */
export type FinalSoftmax = 'probabilities' | 'logits'
export const FINAL_SOFTMAX: readonly FinalSoftmax[] = ['probabilities', 'logits']

/**
 * The float graph compile and inspect quantise. A final Softmax proves the probabilities unless
 * `finalSoftmax` says 'logits'. A pre-quantised (QDQ/QOperator) model keeps its final Softmax
 * as the logits' note when no choice was given: its float Softmax after the last
 * DequantizeLinear has no scales of the model's own to divide with (the fixed-scale path has
 * no division); asked for explicitly, the fixed-scale path's own error says so. Elementwise
 * closures (an exported GELU's five nodes) become one table in lowerOnnx itself
 * (src/onnx/fuse-elementwise.ts), calibrated graphs only.
 */
export function lowerModel(onnx: OnnxModel, finalSoftmax?: FinalSoftmax): FloatGraph {
  const graph = lowerOnnx(onnx, { finalSoftmax: finalSoftmax ?? 'probabilities' })
  if (hasFixedScales(graph) && finalSoftmax === undefined && graph.steps.some((s) => s.op.kind === 'div'))
    return lowerOnnx(onnx, { finalSoftmax: 'logits' })
  return graph
}
