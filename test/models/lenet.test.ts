import { describe, expect, it } from 'vitest'
import { lenet5Model } from '../../models/lenet.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { defaultCalibration } from '../../src/prove/compile.js'
import { quantize } from '../../src/quantize/quantize.js'

const irOf = (onnx: Uint8Array) => {
  const graph = lowerOnnx(parseOnnx(onnx))
  return quantize(graph, defaultCalibration(graph.inputs))
}

describe('the LeNet-5-shaped benchmark model', () => {
  it('imports with the pool kind it was asked for, and counts its parameters and weight terms as the IR has them', () => {
    const avg = lenet5Model('avg', 51)
    const ir = irOf(avg.onnx)
    // 6·25+6 + 16·150+16 + 120·400+120 + 84·120+84 + 10·84+10
    expect(avg.parameters).toBe(61_706)
    expect(ir.inputs[0]!.shape).toEqual([1, 1, 32, 32])
    expect(new Set(ir.steps.map((s) => s.op.op))).toEqual(new Set(['linear', 'requant']))
    const max = lenet5Model('max', 51)
    const maxIr = irOf(max.onnx)
    expect(maxIr.steps.filter((s) => s.op.op === 'max').map((s) => s.output.shape)).toEqual([
      [1, 6, 14, 14],
      [1, 16, 5, 5],
    ])
    // 6·784·25 + 16·100·150 + 120·400 + 84·120 + 10·84
    expect(max.weightTerms).toBe(416_520)
    expect(maxIr.steps.reduce((n, s) => n + (s.op.op === 'linear' ? s.op.vals.length : 0), 0)).toBe(416_520)
  })

  it('is the same model for the same seed and another for another seed', () => {
    expect(lenet5Model('max', 7).onnx).toEqual(lenet5Model('max', 7).onnx)
    expect(lenet5Model('max', 7).onnx).not.toEqual(lenet5Model('max', 8).onnx)
  })
})
