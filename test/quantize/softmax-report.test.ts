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

describe('a model ending in Softmax: run and prove report probabilities', () => {
  afterAll(shutdown)

  it('proves the logits; output.json and runModel add the float probabilities; the accuracy report compares probabilities', async () => {
    const r = rng(800)
    const bytes = buildModel({
      name: 'softmax-classifier',
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: [{ name: 'probs', shape: [1, 4] }],
      initializers: [f32(r, 'w', [6, 4]), f32(r, 'b', [4])],
      nodes: [
        { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['z'] },
        { op: 'Softmax', name: 'softmax', inputs: ['z'], outputs: ['probs'] },
      ],
    })
    const tmp = await mkdtemp(join(tmpdir(), 'veriml-softmax-'))
    const onnxPath = join(tmp, 'model.onnx'),
      dir = join(tmp, 'build'),
      proofDir = join(tmp, 'proof')
    await writeFile(onnxPath, bytes)
    const { accuracy } = await compileModel({ onnxPath, outDir: dir })
    // The yardstick is onnxruntime's softmax output: probabilities, compared with the softmax of the proven logits.
    expect(accuracy.maxAbsError).toBeLessThan(0.02)
    expect(accuracy.argmaxAgreement).toBe(1)

    const x = [0.3, -0.7, 0.1, 0.9, -0.2, 0.5]
    const input = { input_data: [x] }
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
