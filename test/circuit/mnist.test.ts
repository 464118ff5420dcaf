import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadMnist } from '../../models/mnist-data.js'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import { irFromJson } from '../../src/ir/serialize.js'
import type { IrModel } from '../../src/ir/types.js'
import { compileModel } from '../../src/prove/compile.js'
import { artifactPaths } from '../../src/prove/paths.js'
import { proveModel } from '../../src/prove/prove.js'
import type { ZkModel } from '../../src/model.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { shutdown } from '../../src/shutdown.js'
import { parseWtns } from '../helpers/r1cs.js'

const ROOT = join(import.meta.dirname, '..', '..')
const meta = JSON.parse(readFileSync(join(ROOT, 'models', 'mnist-mlp.json'), 'utf8')) as { floatTestAccuracy: number }

describe('bundled MNIST MLP', () => {
  const dir = join(ROOT, 'build', 'test', 'mnist')
  const { test } = loadMnist()
  let ir: IrModel
  let manifest: Awaited<ReturnType<typeof compileModel>>['manifest']
  let model: ZkModel
  beforeAll(async () => {
    const r = await compileModel({
      onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
      outDir: dir,
      calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
      visibility: { input: 'hashed', output: 'public' },
    })
    manifest = r.manifest
    model = r.model
    ir = irFromJson(readFileSync(artifactPaths(dir).ir, 'utf8'))
  })
  afterAll(shutdown)

  it('keeps held-out accuracy within 0.5 points of the float model', () => {
    let correct = 0
    for (const s of test) {
      const out = execute(ir, quantizeInputs(ir.inputs, [Float64Array.from(s.pixels)])).outputs[0]
      let best = 0
      out.forEach((v, i) => {
        if (v > out[best]) best = i
      })
      if (best === s.label) correct++
    }
    const accuracy = correct / test.length
    console.log(
      `MNIST held-out accuracy: float ${meta.floatTestAccuracy}, quantised ${accuracy} over ${test.length} digits`,
    )
    expect(Math.abs(accuracy - meta.floatTestAccuracy)).toBeLessThanOrEqual(0.005)
  })

  it('the circuit computes exactly the reference executor on 200 held-out digits', async () => {
    const calculate = await model.witness()
    for (const s of test.slice(0, 200)) {
      const x = quantizeInputs(ir.inputs, [Float64Array.from(s.pixels)])
      const expected = await publicSignals(manifest.layout, x, execute(ir, x).outputs)
      expect(parseWtns(await calculate(x)).slice(1, 1 + expected.length)).toEqual(expected)
    }
  })

  it('costs under 50 constraints per activation and proves with 2 public signals', async () => {
    const report = JSON.parse(readFileSync(artifactPaths(dir).report, 'utf8'))
    expect(report.cost.activations).toBe(128)
    expect(report.cost.requant / report.cost.activations).toBeLessThanOrEqual(50)
    expect(manifest.layout.count).toBe(2)
    const setup = await setupModel({ model, dev: true })
    const input = JSON.parse(readFileSync(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8'))
    await proveModel({ model: setup.model, input, outDir: join(dir, 'proof') })
    expect((await verifyProof({ model: setup.model, proofDir: join(dir, 'proof') })).valid).toBe(true)
  })
})
