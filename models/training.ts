import * as ort from 'onnxruntime-node'
import { BaseError } from '../src/errors.js'
import type { Sample } from './mnist-data.js'

/** Shared by the training scripts: the optimiser and the check of the written ONNX file. */

/** Adam hyperparameters shared by the training scripts (recorded in each model's metadata). */
export const ADAM = { learningRate: 2e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }

/**
 * Adam state for one parameter tensor. `State` is the array type of the gradient and moments:
 * the MLP keeps them in float32 (as it was trained), the CNN in float64.
 */
export class AdamSlot {
  readonly grad: Float32Array | Float64Array
  private readonly m1: Float32Array | Float64Array
  private readonly m2: Float32Array | Float64Array
  constructor(
    readonly param: Float32Array,
    State: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array,
  ) {
    this.grad = new State(param.length)
    this.m1 = new State(param.length)
    this.m2 = new State(param.length)
  }
  /** Applies the mean gradient over `batch` samples, then clears it for the next batch. */
  step(step: number, learningRate: number, batch: number): void {
    const { beta1, beta2, epsilon } = ADAM
    const c1 = 1 - beta1 ** step
    const c2 = 1 - beta2 ** step
    for (let i = 0; i < this.param.length; i++) {
      const g = this.grad[i] / batch
      this.m1[i] = beta1 * this.m1[i] + (1 - beta1) * g
      this.m2[i] = beta2 * this.m2[i] + (1 - beta2) * g * g
      this.param[i] -= (learningRate * (this.m1[i] / c1)) / (Math.sqrt(this.m2[i] / c2) + epsilon)
    }
    this.grad.fill(0)
  }
}

/** The written ONNX model predicts differently from the model the script trained: the export is wrong. */
export class OnnxMismatchError extends BaseError {
  override name = 'OnnxMismatchError'
  readonly tsAccuracy: number
  readonly onnxAccuracy: number
  readonly disagreements: number

  constructor({
    tsAccuracy,
    onnxAccuracy,
    disagreements,
    suspects,
  }: { tsAccuracy: number; onnxAccuracy: number; disagreements: number; suspects: string }) {
    super(`the written ONNX model disagrees with the trained model on ${disagreements} test digits`, {
      details: [
        `TypeScript accuracy ${tsAccuracy}, onnxruntime accuracy ${onnxAccuracy}.`,
        `The ONNX export (${suspects}) is wrong.`,
      ],
    })
    this.tsAccuracy = tsAccuracy
    this.onnxAccuracy = onnxAccuracy
    this.disagreements = disagreements
  }
}

export const argmax = (v: ArrayLike<number>) => {
  let best = 0
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i
  return best
}

/**
 * Runs the written bytes in onnxruntime on the held-out digits and returns its accuracy;
 * throws unless it predicts exactly what the trainer predicted (`predictions`): the ONNX file
 * is the model trained, not an approximation of it. `suspects` names what to check if not.
 */
export async function onnxAccuracyAgreeing(
  bytes: Uint8Array,
  test: Sample[],
  shape: number[],
  tsAccuracy: number,
  predictions: number[],
  suspects: string,
): Promise<number> {
  const onnx = await onnxPredictions(bytes, test, shape)
  const onnxAccuracy = onnx.filter((p, i) => p === test[i].label).length / test.length
  const disagreements = onnx.filter((p, i) => p !== predictions[i]).length
  if (disagreements > 0 || onnxAccuracy !== tsAccuracy)
    throw new OnnxMismatchError({ tsAccuracy, onnxAccuracy, disagreements, suspects })
  return onnxAccuracy
}

/** He initialisation (suited to ReLU): `n` weights of a unit with `fanIn` inputs, Box–Muller normals. */
export function heInit(random: () => number): (fanIn: number, n: number) => Float32Array {
  // 1 - u keeps log away from 0.
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  return (fanIn, n) => Float32Array.from({ length: n }, () => gaussian() * Math.sqrt(2 / fanIn))
}

/** Runs the written bytes in onnxruntime, one digit per call as veriml proves them; `shape` is the model input's. */
async function onnxPredictions(bytes: Uint8Array, data: Sample[], shape: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(bytes)
  const predictions: number[] = []
  for (const s of data) {
    const result = await session.run({ input: new ort.Tensor('float32', s.pixels, shape) })
    predictions.push(argmax(result.logits.data as Float32Array))
  }
  await session.release()
  return predictions
}

const JSON_DECIMALS = 4
const round = (v: number) => Math.round(v * 10 ** JSON_DECIMALS) / 10 ** JSON_DECIMALS
/** EZKL's data format: one flat list per model input, several samples concatenated. */
export const ezklInput = (samples: Sample[]) =>
  `${JSON.stringify({ input_data: [samples.flatMap((s) => Array.from(s.pixels, round))] })}\n`
