import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { dequantize, parseInputs, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'

const ROOT = join(import.meta.dirname, '..', '..')

/**
 * The bundled MNIST CNN as `veriml quantize` writes it (standard QDQ, per-channel int8 weights,
 * reduce-range): imported with its own scales, no calibration, its integers equal
 * onnxruntime's on every digit of the calibration file.
 */
describe('models/mnist-cnn.int8.onnx (QDQ) against onnxruntime', () => {
  it('is exact on every output of 64 digits', async () => {
    const bytes = new Uint8Array(await readFile(join(ROOT, 'models', 'mnist-cnn.int8.onnx')))
    const onnx = parseOnnx(bytes)
    const graph = lowerOnnx(onnx)
    const ir = quantize(graph, [])
    analyzeBounds(ir)
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'requant', 'max', 'linear', 'requant', 'linear', 'requant'])
    const digits = parseInputs(
      JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-cnn-calibration.json'), 'utf8')),
      graph.inputs,
      { many: true },
    ).slice(0, 64)
    const reference = await runOnnxruntime(bytes, onnx.inputs, digits)
    const { scale } = ir.outputs[0].quant
    let differing = 0
    digits.forEach((x, s) => {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
      // onnxruntime's DequantizeLinear output is (q - z)·s rounded to float32.
      got.forEach((v, i) => {
        if (Math.abs(v - reference[s][0][i]) > 1e-3 * scale) differing++
      })
    })
    expect(differing).toBe(0)
  })
})
