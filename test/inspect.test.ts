import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fixturePath } from '../models/make-fixtures.js'
import { inspectModel } from '../src/inspect.js'

const ROOT = join(import.meta.dirname, '..')

describe('veriml inspect', () => {
  it('describes the MNIST model: ops, shapes, parameters, fused IR steps, cost and quantisation error', async () => {
    const r = await inspectModel({
      onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
      calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
    })
    expect(r.parameterCount).toBe(784 * 128 + 128 + 128 * 10 + 10)
    expect(r.unsupported).toEqual([])
    expect(r.text).toMatch(/input \[1,784\]/)
    expect(r.text).toMatch(/Gemm\s+2/)
    expect(r.text).toMatch(/linear → requant → linear/)
    expect(r.text).toMatch(/argmax agreement \d+(\.\d)?%/)
    // Public input: 784 pixels × 9 range-check constraints, plus 128 activations.
    expect(r.estimatedConstraints).toBeGreaterThan(784 * 9 + 128 * 20)
    expect(r.estimatedConstraints).toBeLessThan(784 * 9 + 128 * 50 + 1000)
    // onchain (issue 17): the 784-128-10 MLP runs wholly on chain in one transaction.
    expect(r.text).toMatch(/run wholly on chain\s+fits: run ≈ \d+\.\d\dM gas/)
  })

  it('lists every unsupported node without throwing', async () => {
    const r = await inspectModel({ onnxPath: fixturePath('unsupported.onnx') })
    expect(r.unsupported.map((n) => n.opType).sort()).toEqual(['LRN'])
    expect(r.text).toMatch(/NOT SUPPORTED: 1 unsupported ONNX node:/)
    expect(r.estimatedConstraints).toBeNull()
  })
})
