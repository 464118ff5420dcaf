import * as ort from 'onnxruntime-node'
import { BaseError, type ErrorParameters } from '../errors.js'
import type { OnnxValueInfo } from './parse.js'

/** onnxruntime refused or failed to run the model: its first line, never its stack. */
export class OnnxRuntimeError extends BaseError {
  override name = 'OnnxRuntimeError'
  readonly problem: string
  constructor({ problem, details, cause }: ErrorParameters<{ problem: string }>) {
    super(problem, { details, cause })
    this.problem = problem
  }
}

/** onnxruntime cannot load the model at all (as opposed to failing on a sample): the float graph can stand in. */
export class OnnxRuntimeLoadError extends OnnxRuntimeError {
  override name = 'OnnxRuntimeLoadError'
}

const firstLine = (e: unknown) =>
  String((e as Error)?.message ?? e)
    .split('\n')[0]
    .slice(0, 300)

/** An input tensor of the declared element type: int8/uint8 inputs of quantised models take their integers as they are. */
function feed(info: OnnxValueInfo, values: Float64Array): ort.Tensor {
  if (info.elemType === 3) return new ort.Tensor('int8', Int8Array.from(values), info.shape)
  if (info.elemType === 2) return new ort.Tensor('uint8', Uint8Array.from(values), info.shape)
  // Other declared types are fed as declared (a mask or position input of an attention export).
  if (info.elemType === 7)
    return new ort.Tensor(
      'int64',
      BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))),
      info.shape,
    )
  if (info.elemType === 6) return new ort.Tensor('int32', Int32Array.from(values), info.shape)
  if (info.elemType === 9)
    return new ort.Tensor(
      'bool',
      Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0)),
      info.shape,
    )
  if (info.elemType === 11) return new ort.Tensor('float64', Float64Array.from(values), info.shape)
  return new ort.Tensor('float32', Float32Array.from(values), info.shape)
}

/**
 * The float yardstick: runs the original ONNX model with onnxruntime on each sample.
 * Returns samples × outputs of flat float arrays.
 */
export async function runOnnxruntime(
  bytes: Uint8Array,
  inputs: readonly OnnxValueInfo[],
  samples: readonly (readonly Float64Array[])[],
): Promise<Float64Array[][]> {
  let session: ort.InferenceSession
  try {
    // Errors only: onnxruntime's warnings (shape merges it recovers from) would go to the user's terminal raw.
    session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })
  } catch (cause) {
    throw new OnnxRuntimeLoadError({
      problem: `onnxruntime cannot load the model (the float yardstick needs it): ${firstLine(cause)}`,
      details: [
        'veriml read the model, but onnxruntime refuses it: the model is probably malformed (check it with onnx.checker).',
      ],
    })
  }
  try {
    const results: Float64Array[][] = []
    for (const sample of samples) {
      const feeds = Object.fromEntries(inputs.map((info, i) => [info.name, feed(info, sample[i])]))
      const out = await session.run(feeds).catch((cause: unknown) => {
        throw new OnnxRuntimeError({ problem: `onnxruntime failed to run the model: ${firstLine(cause)}` })
      })
      results.push(session.outputNames.map((n) => Float64Array.from(out[n].data as ArrayLike<number | bigint>, Number)))
    }
    return results
  } finally {
    await session.release()
  }
}

export interface AccuracyReport {
  /** Set when the float reference is not onnxruntime's (it cannot load the model): says what it is instead. */
  referenceNote?: string
  samples: number
  /** Largest |quantised - float| over all output elements, in real units. */
  maxAbsError: number
  /** Fraction of samples whose output argmax agrees (first output). */
  argmaxAgreement: number
}

const argmax = (v: ArrayLike<number>) => {
  let b = 0
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i
  return b
}

export function compareOutputs(
  reference: readonly (readonly ArrayLike<number>[])[],
  quantized: readonly (readonly ArrayLike<number>[])[],
): AccuracyReport {
  let maxAbsError = 0
  let agree = 0
  reference.forEach((outs, s) => {
    outs.forEach((o, k) => {
      for (let i = 0; i < o.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(o[i] - quantized[s][k][i]))
    })
    if (argmax(outs[0]) === argmax(quantized[s][0])) agree++
  })
  return { samples: reference.length, maxAbsError, argmaxAgreement: reference.length ? agree / reference.length : 1 }
}

export { argmax }
