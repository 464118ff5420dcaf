import * as ort from 'onnxruntime-node'
import type { AttributeSpec, BuildModelParameters, NodeSpec, TensorSpec } from '../../src/onnx/write.js'

/** Helpers for the differential tests of the non-linear ops (pool, activation, quantised). */

export const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1)
export const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
export const f32 = (r: () => number, name: string, dims: number[], scale = 1): TensorSpec & { name: string } => ({
  name,
  dims,
  data: Float32Array.from({ length: size(dims) }, () => (r() * 2 - 1) * scale),
})

export interface OrtOutput {
  dims: number[]
  data: Float64Array
}

/** onnxruntime on each sample, keeping every output's actual dims (the model declares them symbolic). */
export async function ortRun(
  bytes: Uint8Array,
  inputs: readonly { name: string; shape: number[] }[],
  samples: readonly (readonly Float64Array[])[],
): Promise<OrtOutput[][]> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 })
  try {
    const results: OrtOutput[][] = []
    for (const sample of samples) {
      const feeds = Object.fromEntries(
        inputs.map((info, i) => [info.name, new ort.Tensor('float32', Float32Array.from(sample[i]), info.shape)]),
      )
      const out = await session.run(feeds)
      results.push(
        session.outputNames.map((n) => ({
          dims: out[n].dims.map(Number),
          data: Float64Array.from(out[n].data as Float32Array),
        })),
      )
    }
    return results
  } finally {
    await session.release()
  }
}

/** Largest error, relative where |want| > 1 and absolute below (as test/helpers/onnx.ts). */
export function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])))
  return worst
}

/** Uniform samples in [lo, hi) for every input. */
export function samples(
  r: () => number,
  inputs: readonly { shape: number[] }[],
  n: number,
  lo = -1,
  hi = 1,
): Float64Array[][] {
  return Array.from({ length: n }, () =>
    inputs.map((i) => Float64Array.from({ length: size(i.shape) }, () => lo + r() * (hi - lo))),
  )
}

/** A model of one node reading input "x" and writing "y" (output dims symbolic: onnxruntime reports them). */
export function oneNode(
  op: string,
  input: number[],
  attributes: Record<string, AttributeSpec> = {},
  { opset, outputs = ['y'] }: { opset?: number; outputs?: string[] } = {},
): BuildModelParameters {
  return {
    name: op,
    opset,
    inputs: [{ name: 'x', shape: input }],
    outputs: outputs.filter((o) => o !== '').map((name) => ({ name, shape: input.map((_, i) => `d${i}`) })),
    nodes: [{ op, name: op.toLowerCase(), inputs: ['x'], outputs, attributes }],
  }
}

/** One ONNX node named after its first output. */
export const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attributes?: NodeSpec['attributes'],
): NodeSpec => ({
  op,
  name: outputs[0],
  inputs,
  outputs,
  attributes,
})

/** An int64 constant (shapes, axes, indices). */
export const i64 = (name: string, values: number[], dims = [values.length]): TensorSpec & { name: string } => ({
  name,
  dims,
  data: BigInt64Array.from(values.map(BigInt)),
})

/** A model with one output `y` of rank `outRank` (its dims symbolic: onnxruntime reports the real ones). */
export function modelOf(
  inputs: { name: string; shape: number[] }[],
  nodes: NodeSpec[],
  outRank: number,
  initializers: (TensorSpec & { name: string })[] = [],
  { opset = 13, name = 'model' }: { opset?: number; name?: string } = {},
): BuildModelParameters {
  return {
    name,
    opset,
    inputs,
    outputs: [{ name: 'y', shape: Array.from({ length: outRank }, (_, i) => `d${i}`) }],
    initializers,
    nodes,
  }
}
