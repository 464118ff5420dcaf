import { expect } from 'vitest'
import { type FloatGraph, executeFloat, sizeOf } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { rng } from './circuit.js'

/**
 * Lowers a model and checks the float graph against onnxruntime on `samples` random inputs
 * uniform in [-scale, scale): relative error (absolute below 1) under 1e-4 everywhere.
 * Takes the model's bytes or the writer's parameters; returns the lowered graph.
 */
export async function matchesOnnxruntime(
  model: Uint8Array | BuildModelParameters,
  seed: number,
  { scale = 1, samples = 3 } = {},
): Promise<FloatGraph> {
  const bytes = model instanceof Uint8Array ? model : buildModel(model)
  const onnx = parseOnnx(bytes)
  const graph = lowerOnnx(onnx)
  const r = rng(seed)
  const inputs = Array.from({ length: samples }, () =>
    graph.inputs.map((i) => Float64Array.from({ length: sizeOf(i.shape) }, () => (r() * 2 - 1) * scale)),
  )
  const reference = await runOnnxruntime(bytes, onnx.inputs, inputs)
  inputs.forEach((s, k) => {
    const values = executeFloat(graph, s)
    graph.outputs.forEach((o, j) => {
      const got = Array.from(values.get(o.id)!)
      const want = Array.from(reference[k][j])
      expect(got.length).toBe(want.length)
      const worst = Math.max(0, ...got.map((v, i) => Math.abs(v - want[i]) / Math.max(1, Math.abs(want[i]))))
      expect(worst).toBeLessThan(1e-4)
    })
  })
  return graph
}
