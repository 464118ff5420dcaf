import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { inspectModel } from '../../src/inspect.js'
import { executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { MASK_FILL } from '../../src/onnx/ops/mask.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { OnnxRuntimeLoadError, runOnnxruntime } from '../../src/onnx/runtime.js'
import { floatReference } from '../../src/prove/float-reference.js'
import { buildModel } from '../../src/onnx/write.js'
import { compileModel } from '../../src/prove/compile.js'
import { GPT_DEFAULTS, type GptConfig, gptOnnx } from '../../models/gpt.js'
import { execute } from '../../src/ir/execute.js'
import { dequantize, parseInputs, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { f32, samples } from './ort-diff.js'

// A PyTorch masked_fill export onnxruntime refuses: Where's condition declared float (the
// exporter meant bool), and an Equal comparing int64 with float. veriml reads it as meant, and
// its own float graph is the yardstick.

const dir = mkdtempSync(join(tmpdir(), 'veriml-ort-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const bytes = buildModel({
  name: 'masked',
  opset: 14,
  inputs: [{ name: 'x', shape: [3, 3] }],
  outputs: [{ name: 'y', shape: [3, 3] }],
  initializers: [
    { name: 'mask', dims: [3, 3], data: Float32Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0) },
    { name: 'fill', dims: [], data: Float32Array.of(Number.NEGATIVE_INFINITY) },
    { name: 'k', dims: [1], data: BigInt64Array.of(1n) },
    { name: 'one', dims: [1], data: Float32Array.of(1) },
  ],
  nodes: [
    { op: 'Equal', name: 'eq', inputs: ['k', 'one'], outputs: ['e'] },
    { op: 'Where', name: 'masked_fill', inputs: ['mask', 'fill', 'x'], outputs: ['w'] },
    { op: 'Where', name: 'y', inputs: ['e', 'w', 'x'], outputs: ['y'] },
  ],
})

describe('a model onnxruntime refuses: veriml float graph as the yardstick', () => {
  it('onnxruntime really refuses it (a type error)', async () => {
    const onnx = parseOnnx(bytes)
    const run = runOnnxruntime(bytes, onnx.inputs, samples(rng(1), onnx.inputs, 1))
    await expect(run).rejects.toThrow(OnnxRuntimeLoadError)
    await expect(runOnnxruntime(bytes, onnx.inputs, [])).rejects.toThrow(/Type Error/)
  })

  it('veriml lowers it as meant, and floatReference falls back to the float graph with a note', async () => {
    const onnx = parseOnnx(bytes)
    const graph = lowerOnnx(onnx)
    const test = samples(rng(2), onnx.inputs, 2)
    const { reference, note } = await floatReference(bytes, onnx.inputs, test, graph)
    expect(note).toMatch(
      /^onnxruntime cannot load the model \(.*Type Error.*\); the float yardstick is veriml's own float graph$/,
    )
    test.forEach((s, k) => {
      expect(reference[k][0]).toEqual(executeFloat(graph, s).get(graph.outputs[0].id))
      expect(Array.from(reference[k][0], (v, i) => ([1, 2, 5].includes(i) ? v === MASK_FILL : v === s[0][i]))).toEqual(
        Array(9).fill(true),
      )
    })
  })

  it('inspect and compile report the quantisation error against it, with the note', async () => {
    const onnxPath = join(dir, 'masked.onnx')
    writeFileSync(onnxPath, bytes)
    const calibrationPath = join(dir, 'cal.json')
    const cal = samples(rng(3), [{ shape: [3, 3] }], 8)
    writeFileSync(calibrationPath, JSON.stringify({ input_data: [cal.flatMap((s) => Array.from(s[0]))] }))
    const report = await inspectModel({ onnxPath, calibrationPath })
    expect(report.text).toMatch(/quantisation error/)
    expect(report.text).toMatch(/note: onnxruntime cannot load the model .*veriml's own float graph/)
    const built = await compileModel({ onnxPath, calibrationPath, outDir: join(dir, 'out'), target: 'optimistic' })
    expect(built.accuracy.referenceNote).toMatch(/veriml's own float graph/)
    expect(built.accuracy.samples).toBe(8)
  })
})

describe('inputs declared int64, int32, bool or double reach onnxruntime as declared', () => {
  it('each is fed in its type, and the outputs equal the float graph on integer samples', async () => {
    const types = ['int64', 'int32', 'bool', 'float64'] as const
    const b = buildModel({
      name: 'typed',
      opset: 14,
      inputs: [{ name: 'x', shape: [2, 3] }, ...types.map((type) => ({ name: type, shape: [2, 3], type }))],
      outputs: [{ name: 'y', shape: [2, 3] }],
      nodes: [
        ...types.map((t) => ({
          op: 'Cast',
          name: `c_${t}`,
          inputs: [t],
          outputs: [`f_${t}`],
          attributes: { to: { int: 1 } },
        })),
        ...types.map((t, i) => ({
          op: 'Add',
          name: `a_${t}`,
          inputs: [i === 0 ? 'x' : `s_${types[i - 1]}`, `f_${t}`],
          outputs: [i === types.length - 1 ? 'y' : `s_${t}`],
        })),
      ],
    })
    const onnx = parseOnnx(b)
    const graph = lowerOnnx(onnx)
    const r = rng(4)
    const sample = [
      Float64Array.from({ length: 6 }, () => r() - 0.5),
      Float64Array.from({ length: 6 }, () => Math.floor(r() * 9) - 4),
      Float64Array.from({ length: 6 }, () => Math.floor(r() * 9) - 4),
      Float64Array.from({ length: 6 }, () => (r() < 0.5 ? 0 : 1)),
      Float64Array.from({ length: 6 }, () => r() * 3),
    ]
    const [[got]] = await runOnnxruntime(b, onnx.inputs, [sample])
    const want = executeFloat(graph, sample).get(graph.outputs[0].id)!
    for (let i = 0; i < 6; i++) expect(got[i]).toBeCloseTo(want[i], 5)
  })
})

describe('a causal multi-head block through compile', () => {
  it('compiles (zk, direct backend) with its quantisation error measured against onnxruntime', async () => {
    const [S, H, D] = [4, 2, 4]
    const E = H * D
    const r = rng(5)
    const heads = (s: string, perm: number[]) => [
      { op: 'MatMul', name: `${s}p`, inputs: ['x', `w${s}`], outputs: [`${s}p`] },
      { op: 'Reshape', name: `${s}r`, inputs: [`${s}p`, 'split'], outputs: [`${s}r`] },
      { op: 'Transpose', name: s, inputs: [`${s}r`], outputs: [s], attributes: { perm: { ints: perm } } },
    ]
    const causal = Uint8Array.from({ length: S * S }, (_, i) => (i % S > Math.floor(i / S) ? 1 : 0))
    const onnxPath = join(dir, 'block.onnx')
    writeFileSync(
      onnxPath,
      buildModel({
        name: 'block',
        opset: 14,
        inputs: [{ name: 'x', shape: [1, S, E] }],
        outputs: [{ name: 'y', shape: [1, S, E] }],
        initializers: [
          ...['wq', 'wk', 'wv', 'wo'].map((name) => f32(r, name, [E, E], 0.5)),
          { name: 'split', dims: [4], data: BigInt64Array.of(1n, BigInt(S), BigInt(H), BigInt(D)) },
          { name: 'merge', dims: [3], data: BigInt64Array.of(1n, BigInt(S), BigInt(E)) },
          { name: 'mask', dims: [S, S], data: causal, type: 'bool' },
          { name: 'zero', dims: [], data: Float32Array.of(0) },
        ],
        nodes: [
          ...heads('q', [0, 2, 1, 3]),
          ...heads('k', [0, 2, 3, 1]),
          ...heads('v', [0, 2, 1, 3]),
          { op: 'MatMul', name: 's', inputs: ['q', 'k'], outputs: ['s'] },
          { op: 'Where', name: 'w', inputs: ['mask', 'zero', 's'], outputs: ['w'] },
          { op: 'Relu', name: 'p', inputs: ['w'], outputs: ['p'] },
          { op: 'MatMul', name: 'o', inputs: ['p', 'v'], outputs: ['o'] },
          { op: 'Transpose', name: 'ot', inputs: ['o'], outputs: ['ot'], attributes: { perm: { ints: [0, 2, 1, 3] } } },
          { op: 'Reshape', name: 'om', inputs: ['ot', 'merge'], outputs: ['om'] },
          { op: 'MatMul', name: 'y', inputs: ['om', 'wo'], outputs: ['y'] },
        ],
      }),
    )
    const built = await compileModel({ onnxPath, outDir: join(dir, 'block') })
    expect(built.accuracy.referenceNote).toBeUndefined()
    expect(built.manifest.constraintCount).toBeGreaterThan(0)
    // Measured 0.075 (32 default samples in [-1, 1)): each product of two int8 activations is
    // exact, the error is the operands' rounding (≈ 2·max|a|·max|b|/254 per product, summed over
    // 4 positions) and the requantisations; 0.25 leaves room for the product-sum rule to change.
    console.log(`causal block: max |error| ${built.accuracy.maxAbsError.toPrecision(3)}`)
    expect(built.accuracy.maxAbsError).toBeLessThan(0.25)
  })
})

describe('the nanoGPT-shaped export (models/gpt.ts), both mask forms', () => {
  it('lowers, equals onnxruntime in float, and quantises with an error that shrinks with the bits', async () => {
    for (const mask of ['where', 'additive'] as const) {
      const c: GptConfig = { ...GPT_DEFAULTS, block: 8, vocab: 16, layers: 1, heads: 2, embd: 16, seed: 3 }
      const bytes = gptOnnx({ ...c, input: 'embeddings', mask })
      const onnx = parseOnnx(bytes)
      const graph = lowerOnnx(onnx)
      const calib = samples(rng(7), graph.inputs, 16, -0.5, 0.5)
      const ref = await runOnnxruntime(bytes, onnx.inputs, calib.slice(0, 4))
      const worstFor = (bits: number) => {
        const ir = quantize(graph, calib, { activationBits: bits, weightBits: bits })
        let worst = 0
        calib.slice(0, 4).forEach((s, k) => {
          const got = dequantize(execute(ir, quantizeInputs(ir.inputs, s)).outputs[0], ir.outputs[0].quant)
          for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[k][0][i]))
        })
        return worst
      }
      calib.slice(0, 4).forEach((s, k) => {
        const logits = executeFloat(graph, s).get(graph.outputs[0].id)!
        for (let i = 0; i < logits.length; i++) expect(Math.abs(logits[i] - ref[k][0][i])).toBeLessThan(1e-4)
      })
      // Logits up to 11. Measured 0.53 at 8 bits and 0.043 at 12 (both masks); before the
      // quantiser rescaled product bases beside activations it was 10 at every width.
      const [w8, w12] = [worstFor(8), worstFor(12)]
      console.log(`nanoGPT (${mask} mask): max |error| ${w8.toPrecision(3)} at 8 bits, ${w12.toPrecision(3)} at 12`)
      expect(w8).toBeLessThan(1.5)
      expect(w12).toBeLessThan(0.1)
    }
  })
})

describe('the bundled MNIST ViT (models/mnist-vit.onnx)', () => {
  it('quantises at int8 with the float argmax on its calibration samples', () => {
    const graph = lowerOnnx(parseOnnx(readFileSync('models/mnist-vit.onnx')))
    const calib = parseInputs(JSON.parse(readFileSync('models/data/mnist-calibration.json', 'utf8')), graph.inputs, {
      many: true,
    })
    const ir = quantize(graph, calib)
    const argmax = (v: ArrayLike<number>) => Array.from(v).indexOf(Math.max(...Array.from(v)))
    let agree = 0
    let worst = 0
    for (const s of calib.slice(0, 32)) {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, s)).outputs[0], ir.outputs[0].quant)
      const want = executeFloat(graph, s).get(graph.outputs[0].id)!
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]))
      if (argmax(got) === argmax(want)) agree++
    }
    // Measured 32/32 and max |error| 0.49 (int8, the first 32 calibration samples); before the
    // quantiser rescaled product bases read beside activations by one linear step, 8/32 and 12.9.
    console.log(`MNIST ViT: argmax ${agree}/32, max |error| ${worst.toPrecision(3)}`)
    expect(agree).toBeGreaterThanOrEqual(30)
    expect(worst).toBeLessThan(1.5)
  })
})
