import { describe, expect, it } from 'vitest'
import { emitCircuit } from '../../src/circuit/emit.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'
import { f32, ortRun, samples } from '../onnx/ort-diff.js'

/**
 * The ONNX model zoo's MNIST CNN (mnist-8, exported by CNTK) rebuilt node for node — names,
 * opset 8, SAME_UPPER convolutions, biases as broadcast Adds of [C, 1, 1] constants, MaxPool
 * 2×2 then 3×3, a Reshape of the weights to [256, 10] before the MatMul — with seeded random
 * weights: the zoo's file cannot be downloaded here, so this checks the exporter's
 * constructs, not its trained weights.
 */
function mnist8(r: () => number): BuildModelParameters {
  const i64 = (name: string, v: number[]) => ({
    name,
    dims: [v.length],
    data: BigInt64Array.from(v.map(BigInt)),
    type: 'int64' as const,
  })
  return {
    name: 'CNTKGraph',
    opset: 8,
    inputs: [{ name: 'Input3', shape: [1, 1, 28, 28] }],
    outputs: [{ name: 'Plus214_Output_0', shape: [1, 10] }],
    initializers: [
      f32(r, 'Parameter5', [8, 1, 5, 5], 0.4),
      f32(r, 'Parameter6', [8, 1, 1], 0.1),
      f32(r, 'Parameter87', [16, 8, 5, 5], 0.1),
      f32(r, 'Parameter88', [16, 1, 1], 0.1),
      f32(r, 'Parameter193', [16, 4, 4, 10], 0.1),
      f32(r, 'Parameter194', [1, 10], 0.1),
      i64('Pooling160_Output_0_reshape0_shape', [1, 256]),
      i64('Parameter193_reshape1_shape', [256, 10]),
    ],
    nodes: [
      {
        op: 'Conv',
        name: 'Convolution28',
        inputs: ['Input3', 'Parameter5'],
        outputs: ['Convolution28_Output_0'],
        attributes: {
          kernel_shape: { ints: [5, 5] },
          strides: { ints: [1, 1] },
          auto_pad: { string: 'SAME_UPPER' },
          group: { int: 1 },
          dilations: { ints: [1, 1] },
        },
      },
      { op: 'Add', name: 'Plus30', inputs: ['Convolution28_Output_0', 'Parameter6'], outputs: ['Plus30_Output_0'] },
      { op: 'Relu', name: 'ReLU32', inputs: ['Plus30_Output_0'], outputs: ['ReLU32_Output_0'] },
      {
        op: 'MaxPool',
        name: 'Pooling66',
        inputs: ['ReLU32_Output_0'],
        outputs: ['Pooling66_Output_0'],
        attributes: {
          kernel_shape: { ints: [2, 2] },
          strides: { ints: [2, 2] },
          pads: { ints: [0, 0, 0, 0] },
          auto_pad: { string: 'NOTSET' },
        },
      },
      {
        op: 'Conv',
        name: 'Convolution110',
        inputs: ['Pooling66_Output_0', 'Parameter87'],
        outputs: ['Convolution110_Output_0'],
        attributes: {
          kernel_shape: { ints: [5, 5] },
          strides: { ints: [1, 1] },
          auto_pad: { string: 'SAME_UPPER' },
          group: { int: 1 },
          dilations: { ints: [1, 1] },
        },
      },
      { op: 'Add', name: 'Plus112', inputs: ['Convolution110_Output_0', 'Parameter88'], outputs: ['Plus112_Output_0'] },
      { op: 'Relu', name: 'ReLU114', inputs: ['Plus112_Output_0'], outputs: ['ReLU114_Output_0'] },
      {
        op: 'MaxPool',
        name: 'Pooling160',
        inputs: ['ReLU114_Output_0'],
        outputs: ['Pooling160_Output_0'],
        attributes: {
          kernel_shape: { ints: [3, 3] },
          strides: { ints: [3, 3] },
          pads: { ints: [0, 0, 0, 0] },
          auto_pad: { string: 'NOTSET' },
        },
      },
      {
        op: 'Reshape',
        name: 'Times212_reshape0',
        inputs: ['Pooling160_Output_0', 'Pooling160_Output_0_reshape0_shape'],
        outputs: ['Pooling160_Output_0_reshape0'],
      },
      {
        op: 'Reshape',
        name: 'Times212_reshape1',
        inputs: ['Parameter193', 'Parameter193_reshape1_shape'],
        outputs: ['Parameter193_reshape1'],
      },
      {
        op: 'MatMul',
        name: 'Times212',
        inputs: ['Pooling160_Output_0_reshape0', 'Parameter193_reshape1'],
        outputs: ['Times212_Output_0'],
      },
      { op: 'Add', name: 'Plus214', inputs: ['Times212_Output_0', 'Parameter194'], outputs: ['Plus214_Output_0'] },
    ],
  }
}

describe('model-zoo architecture: mnist-8 (CNTK export)', () => {
  it('imports with every construct lowered, matches onnxruntime in float, and quantises to a circuit-sized integer model', async () => {
    const bytes = buildModel(mnist8(rng(88)))
    // Inputs in [0, 1) like the zoo's normalised digits.
    const graph = await matchesOnnxruntime(bytes, 89, { scale: 1 })
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp', 'max', 'affine', 'clamp', 'max', 'affine'])

    const onnx = parseOnnx(bytes)
    const r = rng(90)
    const calibration = samples(r, graph.inputs, 32, 0, 1)
    const ir = quantize(lowerOnnx(onnx), calibration)
    const held = samples(r, graph.inputs, 16, 0, 1)
    const reference = await ortRun(bytes, onnx.inputs, held)
    let agree = 0
    let worst = 0
    held.forEach((s, k) => {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, s)).outputs[0], ir.outputs[0].quant)
      const want = Array.from(reference[k][0].data)
      const argmax = (v: number[]) => v.indexOf(Math.max(...v))
      if (argmax(got) === argmax(want)) agree++
      const span = Math.max(...want) - Math.min(...want)
      worst = Math.max(worst, ...got.map((v, i) => Math.abs(v - want[i]) / span))
    })
    // int8 activations and weights: logits within a few percent of their spread, argmax almost always kept.
    expect(worst).toBeLessThan(0.1)
    expect(agree).toBeGreaterThanOrEqual(14)

    const emitted = emitCircuit({
      model: ir,
      bounds: analyzeBounds(ir),
      visibility: { input: 'hashed', output: 'public' },
      header: ['test'],
    })
    // 28·28·8 requantised ReLUs dominate; two pooling layers of pairwise maxes.
    expect(emitted.cost.max).toBeGreaterThan(0)
    expect(emitted.cost.activations).toBeGreaterThan(6272)
  })
})
