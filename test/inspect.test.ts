import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type GptConfig, GPT_DEFAULTS, gptOnnx } from '../models/gpt.js'
import { fixturePath } from '../models/make-fixtures.js'
import { emitCircuit } from '../src/circuit/emit.js'
import { inspectModel } from '../src/inspect.js'
import { analyzeBounds } from '../src/ir/bounds.js'
import { parseOnnx } from '../src/onnx/parse.js'
import { DEFAULT_VISIBILITY } from '../src/prove/compile.js'
import { lowerModel } from '../src/prove/lower-model.js'
import { defaultCalibration } from '../src/quantize/default-calibration.js'
import { quantize } from '../src/quantize/quantize.js'

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

describe('veriml inspect without a samples file', () => {
  const TINY: GptConfig = { ...GPT_DEFAULTS, block: 4, vocab: 11, layers: 1, heads: 1, embd: 8, seed: 5, input: 'ids' }

  it('calibrates a token-id model as compile does (ids drawn from the rows) and gives its estimate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veriml-inspect-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const bytes = gptOnnx(TINY)
    await writeFile(join(dir, 'gpt.onnx'), bytes)
    const r = await inspectModel({ onnxPath: join(dir, 'gpt.onnx') })
    expect(r.unsupported).toEqual([])
    expect(r.text).toMatch(
      /calibration: default: 32 seeded uniform samples .*token ids: uniform over their table's rows/,
    )
    expect(r.text).not.toMatch(/pass --calibration/)
    expect(r.text).toMatch(/argmax agreement \d+(\.\d)?% \(32 samples\)/)
    // The estimate is the one compile's default calibration gives: the same IR, costed alike.
    const ir = quantize(lowerModel(parseOnnx(bytes)), defaultCalibration(lowerModel(parseOnnx(bytes)).inputs))
    const { cost } = emitCircuit({
      model: ir,
      bounds: analyzeBounds(ir),
      visibility: DEFAULT_VISIBILITY,
      source: false,
    })
    expect(r.estimatedConstraints).toBe(
      cost.inputRangeChecks +
        cost.requant +
        cost.linear +
        cost.hashing +
        cost.max +
        cost.lookup +
        cost.mul +
        cost.div +
        cost.isqrt,
    )
  })

  it('still asks for samples when the inputs are floats (their range is the user’s to give)', async () => {
    const r = await inspectModel({ onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx') })
    expect(r.estimatedConstraints).toBeNull()
    expect(r.text).toMatch(/pass --calibration samples\.json/)
  })
})
