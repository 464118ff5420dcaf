import { readFile } from 'node:fs/promises'
import * as ort from 'onnxruntime-node'
import type { loadMnist } from '../models/mnist-data.js'
import { execute } from '../src/ir/execute.js'
import type { IrModel } from '../src/ir/types.js'
import { dequantize, quantizeInputs } from '../src/quantize/input.js'

export const argmax = (v: ArrayLike<number | bigint>) => {
  let b = 0
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i
  return b
}

export interface Accuracy {
  onnxruntime: number
  integer: number
  argmaxAgreement: number
  maxAbsError: number
  executorMsPerDigit: number
}

/**
 * Held-out accuracy of the ONNX file in onnxruntime and of veriml's integer model of it
 * (reference executor: what the circuit proves), and how closely the integer model's
 * dequantised logits follow onnxruntime's, digit by digit.
 */
export async function heldOutAccuracy(
  path: string,
  ir: IrModel,
  test: ReturnType<typeof loadMnist>['test'],
): Promise<Accuracy> {
  const session = await ort.InferenceSession.create(await readFile(path))
  let onnx = 0,
    integer = 0,
    agree = 0,
    maxAbsError = 0,
    executorMs = 0
  for (const s of test) {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', s.pixels, [1, 1, 28, 28]) })
    const reference = out[session.outputNames[0]].data as Float32Array
    const started = performance.now()
    const q = execute(ir, quantizeInputs(ir.inputs, [Float64Array.from(s.pixels)])).outputs[0]
    executorMs += performance.now() - started
    const real = dequantize(q, ir.outputs[0].quant)
    onnx += Number(argmax(reference) === s.label)
    integer += Number(argmax(q) === s.label)
    agree += Number(argmax(q) === argmax(reference))
    for (let i = 0; i < real.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(real[i] - reference[i]))
  }
  await session.release()
  const n = test.length
  return {
    onnxruntime: onnx / n,
    integer: integer / n,
    argmaxAgreement: agree / n,
    maxAbsError,
    executorMsPerDigit: executorMs / n,
  }
}
