import { type FloatGraph, executeFloat } from '../onnx/graph.js'
import type { OnnxValueInfo } from '../onnx/parse.js'
import { OnnxRuntimeLoadError, runOnnxruntime } from '../onnx/runtime.js'
import { applyPostprocess } from '../quantize/postprocess.js'

/**
 * The float reference outputs of the samples: onnxruntime's, or, when onnxruntime cannot load
 * the model, veriml's own float graph (`note` then says so). Some PyTorch exports are refused by
 * onnxruntime though their meaning is plain, e.g. masked_fill written as a Where whose condition
 * is declared float ("Type 'tensor(float)' of input parameter … is invalid"): veriml reads them
 * as the exporter meant, and its float graph, which follows ONNX semantics op by op, is then
 * the yardstick. A final Softmax is applied as onnxruntime's output has it.
 */
export async function floatReference(
  bytes: Uint8Array,
  inputs: readonly OnnxValueInfo[],
  samples: readonly (readonly Float64Array[])[],
  graph: FloatGraph,
): Promise<{ reference: Float64Array[][]; note?: string }> {
  try {
    return { reference: await runOnnxruntime(bytes, inputs, samples) }
  } catch (error) {
    if (!(error instanceof OnnxRuntimeLoadError)) throw error
    const reference = samples.map((sample) => {
      const values = executeFloat(graph, sample)
      return graph.outputs.map((o) => {
        const v = values.get(o.id)!
        return o.postprocess ? Float64Array.from(applyPostprocess(o.postprocess, Array.from(v))) : v
      })
    })
    const why = error.problem.replace(/^onnxruntime cannot load the model \(the float yardstick needs it\): /, '')
    return {
      reference,
      note: `onnxruntime cannot load the model (${why}); the float yardstick is veriml's own float graph`,
    }
  }
}
