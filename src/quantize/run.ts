import { execute } from '../ir/execute.js'
import type { IrModel } from '../ir/types.js'
import { dequantize, parseInputs, quantizeInputs } from './input.js'
import { outputProbabilities } from './postprocess.js'

export interface RunQuantizedReturnType {
  inputs: bigint[][]
  /** Integer outputs of the reference executor, one flat array per model output. */
  outputs: bigint[][]
  /** The same outputs as real values. */
  real: number[][]
  /** Softmax of the real outputs for outputs with a final Softmax/LogSoftmax (null for the others). */
  probabilities?: (number[] | null)[]
}

/**
 * The reference executor on input JSON (EZKL `{"input_data": [[...]]}` or named form): quantise
 * the first sample, execute the integer IR, dequantise. The definition of a model's output, in
 * Node (`runModel`) and in the browser (`veriml/browser`) alike.
 */
export function runQuantized(ir: IrModel, input: unknown): RunQuantizedReturnType {
  const inputs = quantizeInputs(ir.inputs, parseInputs(input, ir.inputs)[0])
  const outputs = execute(ir, inputs).outputs
  const real = outputs.map((o, k) => dequantize(o, ir.outputs[k].quant))
  const probabilities = outputProbabilities(ir.outputs, real)
  return { inputs, outputs, real, ...(probabilities ? { probabilities } : {}) }
}
