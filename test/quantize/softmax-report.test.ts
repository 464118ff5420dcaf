import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildModel } from '../../src/onnx/write.js'
import { compileModel } from '../../src/prove/compile.js'
import { artifactPaths, proofPaths } from '../../src/prove/paths.js'
import { proveModel, runModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { shutdown } from '../../src/shutdown.js'
import { rng } from '../helpers/circuit.js'
import { f32, ortRun } from '../onnx/ort-diff.js'

describe('a model ending in Softmax', () => {
  afterAll(shutdown)
  const r = rng(800)
  const classifier = () =>
    buildModel({
      name: 'softmax-classifier',
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: [{ name: 'probs', shape: [1, 4] }],
      initializers: [f32(r, 'w', [6, 4]), f32(r, 'b', [4])],
      nodes: [
        { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['z'] },
        { op: 'Softmax', name: 'softmax', inputs: ['z'], outputs: ['probs'] },
      ],
    })
  const x = [0.3, -0.7, 0.1, 0.9, -0.2, 0.5]
  const input = { input_data: [x] }

  it("proves the model's own output by default: output_data holds the probabilities, as onnxruntime's", async () => {
    const bytes = classifier()
    const tmp = await mkdtemp(join(tmpdir(), 'veriml-softmax-'))
    const onnxPath = join(tmp, 'model.onnx'),
      dir = join(tmp, 'build'),
      proofDir = join(tmp, 'proof')
    await writeFile(onnxPath, bytes)
    const { accuracy } = await compileModel({ onnxPath, outDir: dir })
    expect(accuracy.maxAbsError).toBeLessThan(0.02)
    expect(accuracy.argmaxAgreement).toBe(1)
    const run = await runModel({ model: dir, input })
    const [want] = (await ortRun(bytes, [{ name: 'x', shape: [1, 6] }], [[Float64Array.from(x)]]))[0]
    // The proven output is the distribution itself: no float note, no separate probabilities.
    expect(run.probabilities).toBeUndefined()
    expect(run.real[0].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1)
    expect(Math.max(...run.real[0].map((p, i) => Math.abs(p - want.data[i])))).toBeLessThan(0.02)
    await setupModel({ model: dir, dev: true })
    await proveModel({ model: dir, input, outDir: proofDir })
    expect((await verifyProof({ model: dir, proofDir })).valid).toBe(true)
    const out = JSON.parse(await readFile(proofPaths(proofDir).output, 'utf8'))
    expect(out.output_data).toEqual(run.real)
    expect(out).not.toHaveProperty('probabilities')
    const ir = JSON.parse(await readFile(artifactPaths(dir).ir, 'utf8'))
    expect(ir.outputs[0]).not.toHaveProperty('postprocess')
    expect(ir.steps.map((s: { op: { op: string } }) => s.op.op)).toContain('div')
  })

  it("finalSoftmax: 'logits' proves the logits; run and prove add the float probabilities; the accuracy report compares probabilities", async () => {
    const bytes = classifier()
    const tmp = await mkdtemp(join(tmpdir(), 'veriml-softmax-'))
    const onnxPath = join(tmp, 'model.onnx'),
      dir = join(tmp, 'build'),
      proofDir = join(tmp, 'proof')
    await writeFile(onnxPath, bytes)
    const { accuracy } = await compileModel({ onnxPath, outDir: dir, finalSoftmax: 'logits' })
    // The yardstick is onnxruntime's softmax output: probabilities, compared with the softmax of the proven logits.
    expect(accuracy.maxAbsError).toBeLessThan(0.02)
    expect(accuracy.argmaxAgreement).toBe(1)

    const run = await runModel({ model: dir, input: input })
    const [want] = (await ortRun(bytes, [{ name: 'x', shape: [1, 6] }], [[Float64Array.from(x)]]))[0]
    expect(run.probabilities).toHaveLength(1)
    const probs = run.probabilities![0]!
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    expect(Math.max(...probs.map((p, i) => Math.abs(p - want.data[i])))).toBeLessThan(0.02)
    // The proven output stays the logits: output_data is not normalised.
    expect(run.real[0].reduce((a, b) => a + b, 0)).not.toBeCloseTo(1, 3)

    await setupModel({ model: dir, dev: true })
    await proveModel({ model: dir, input, outDir: proofDir })
    expect((await verifyProof({ model: dir, proofDir })).valid).toBe(true)
    const out = JSON.parse(await readFile(proofPaths(proofDir).output, 'utf8'))
    expect(out.probabilities).toEqual(run.probabilities)
    expect(out.output_data).toEqual(run.real)
    const ir = JSON.parse(await readFile(artifactPaths(dir).ir, 'utf8'))
    expect(ir.outputs[0].postprocess).toEqual({ op: 'softmax', axis: 1, shape: [1, 4] })
  })
})
