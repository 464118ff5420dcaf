import { describe, expect, it } from 'vitest'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { FixedScaleError } from '../../src/quantize/fixed.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { ortRun } from '../onnx/ort-diff.js'
import { tensor } from '../onnx/quantized-models.js'

/**
 * Sqrt in a pre-quantised (QDQ) model (src/quantize/fixed-steps.ts, sqrtStep): between a
 * DequantizeLinear and a QuantizeLinear it is one table over the input's integers, float32 as
 * onnxruntime computes it: every one of the 256 inputs gives onnxruntime's integer.
 */
function qdqSqrt(type: 'uint8' | 'int8'): BuildModelParameters {
  return {
    name: 'qdq-sqrt',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 64] }],
    outputs: [{ name: 'y', shape: [1, 64] }],
    initializers: [
      tensor('s0', 'float32', [], [0.05]),
      tensor('z0', type, [], [0]),
      tensor('s1', 'float32', [], [Math.fround(3.6 / 255)]),
      tensor('z1', 'uint8', [], [0]),
    ],
    nodes: [
      { op: 'QuantizeLinear', name: 'q0', inputs: ['x', 's0', 'z0'], outputs: ['xq'] },
      { op: 'DequantizeLinear', name: 'dq0', inputs: ['xq', 's0', 'z0'], outputs: ['xd'] },
      { op: 'Sqrt', name: 'root', inputs: ['xd'], outputs: ['r'] },
      { op: 'QuantizeLinear', name: 'q1', inputs: ['r', 's1', 'z1'], outputs: ['rq'] },
      { op: 'DequantizeLinear', name: 'dq1', inputs: ['rq', 's1', 'z1'], outputs: ['y'] },
    ],
  }
}

describe('Sqrt in a QDQ model', () => {
  it('is one lookup, equal to onnxruntime on every uint8 input', async () => {
    const bytes = buildModel(qdqSqrt('uint8'))
    const graph = lowerOnnx(parseOnnx(bytes))
    const ir = quantize(graph, [])
    expect(ir.steps.map((s) => s.op.op)).toEqual(['lookup'])
    // The 256 integers of the input, 64 per sample.
    const xs = Array.from({ length: 4 }, (_, k) => [Float64Array.from({ length: 64 }, (_, i) => (k * 64 + i) * 0.05)])
    const reference = await ortRun(bytes, graph.inputs, xs)
    xs.forEach((x, k) => {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
      expect(got.map(Math.fround)).toEqual(Array.from(reference[k][0].data))
    })
  })

  it('refuses an input whose range dequantises below 0, naming the step', () => {
    const graph = lowerOnnx(parseOnnx(buildModel(qdqSqrt('int8'))))
    expect(() => quantize(graph, [])).toThrow(FixedScaleError)
    expect(() => quantize(graph, [])).toThrow(
      /step "root": Sqrt of a value whose integer range \[-128, 127\] dequantises below 0/,
    )
  })
})
