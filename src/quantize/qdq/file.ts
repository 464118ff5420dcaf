import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import * as ort from 'onnxruntime-node'
import { BaseError, type BaseErrorParameters } from '../../errors.js'
import { folderResolver } from '../../onnx/file.js'
import { parseOnnxSelfContained } from '../../onnx/parse.js'
import { type AccuracyReport, compareOutputs, runOnnxruntime } from '../../onnx/runtime.js'
import { writeFileAtomic } from '../../util/fs.js'
import { type Progress, silentProgress } from '../../util/progress.js'
import { parseInputs } from '../input.js'
import { exportQdq, exposeTensors } from './export.js'
import { type QdqTensorReport, type QdqWeightReport, calibrationTensors } from './plan.js'
import type { TensorRange } from './params.js'

/**
 * The I/O edge of `veriml quantize`: reads the float model and the calibration samples,
 * measures every needed tensor's range with onnxruntime, writes the QDQ model atomically,
 * and checks that onnxruntime runs it and agrees with the float model on the samples.
 */

export class QuantizeFileError extends BaseError {
  override name = 'QuantizeFileError'
  readonly path: string
  readonly problem: string
  constructor({ path, problem, details, cause }: BaseErrorParameters & { path: string; problem: string }) {
    super(`${path}: ${problem}`, { details, cause })
    this.path = path
    this.problem = problem
  }
}

export interface QuantizeFileParameters {
  onnxPath: string
  calibrationPath: string
  outPath: string
  /** See ExportQdqParameters.weightRange. */
  weightRange?: 'reduced' | 'full'
  progress?: Progress
}

export interface QuantizeFileReturnType {
  outPath: string
  bytes: number
  calibrationSamples: number
  tensors: QdqTensorReport[]
  weights: QdqWeightReport[]
  /** The written int8 model against the float model, both in onnxruntime, on the calibration samples. */
  agreement: AccuracyReport
}

async function read(path: string, what: string): Promise<Buffer> {
  return readFile(path).catch((cause) => {
    throw new QuantizeFileError({ path, problem: `cannot read the ${what}`, cause })
  })
}

/** Per-tensor [min, max] over the samples, from one onnxruntime session exposing those tensors. */
export async function calibrateRanges(
  floatModel: Uint8Array,
  inputs: readonly { name: string; shape: number[] }[],
  tensors: readonly string[],
  samples: readonly (readonly Float64Array[])[],
): Promise<Map<string, TensorRange>> {
  const session = await ort.InferenceSession.create(floatModel)
  const ranges = new Map<string, TensorRange>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]))
  try {
    for (const sample of samples) {
      const feeds = Object.fromEntries(
        inputs.map((info, i) => [info.name, new ort.Tensor('float32', Float32Array.from(sample[i]), info.shape)]),
      )
      const out = await session.run(feeds, [...tensors])
      for (const t of tensors) {
        const r = ranges.get(t)!
        for (const v of out[t].data as Float32Array) {
          if (v < r.min) r.min = v
          if (v > r.max) r.max = v
        }
      }
    }
  } finally {
    await session.release()
  }
  return ranges
}

export async function quantizeOnnxFile({
  onnxPath,
  calibrationPath,
  outPath,
  weightRange,
  progress = silentProgress,
}: QuantizeFileParameters): Promise<QuantizeFileReturnType> {
  // source: self-contained (external data inlined) for onnxruntime and the source hash.
  const { model, bytes: source } = parseOnnxSelfContained(await read(onnxPath, 'model'), onnxPath, {
    externalData: folderResolver(onnxPath),
  })
  const text = (await read(calibrationPath, 'calibration samples')).toString('utf8')
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new QuantizeFileError({ path: calibrationPath, problem: 'is not valid JSON', cause })
  }
  const samples = parseInputs(json, model.inputs, { many: true })
  const tensors = calibrationTensors(model)
  const ranges = await progress.step(`calibrating ${tensors.length} tensors on ${samples.length} samples`, () =>
    calibrateRanges(exposeTensors(model, tensors), model.inputs, tensors, samples),
  )
  const sourceSha256 = createHash('sha256').update(source).digest('hex')
  const r = exportQdq({
    model,
    ranges,
    metadata: { sourceSha256, calibrationSamples: String(samples.length) },
    weightRange,
  })
  const agreement = await progress.step('checking the int8 model in onnxruntime', async () => {
    const [reference, quantized] = await Promise.all([
      runOnnxruntime(source, model.inputs, samples),
      runOnnxruntime(r.bytes, model.inputs, samples),
    ])
    return compareOutputs(reference, quantized)
  })
  await writeFileAtomic(outPath, r.bytes)
  return {
    outPath,
    bytes: r.bytes.length,
    calibrationSamples: samples.length,
    tensors: r.tensors,
    weights: r.weights,
    agreement,
  }
}
