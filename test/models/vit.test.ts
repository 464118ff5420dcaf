import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { seededRandom } from '../../models/mnist-data.js'
import {
  initVit,
  mapVit,
  type Vit,
  type VitConfig,
  VitWorkspace,
  vitForward,
  vitTensors,
} from '../../models/vit-model.js'
import { vitOnnx } from '../../models/vit-onnx.js'
import { vitBackward } from '../../models/vit-backward.js'
import { gaussian } from '../../models/vit-ops.js'
import { parseOnnx } from '../../src/onnx/parse.js'

/** 4 patches of 4×4, two blocks (so the residual path between blocks is checked too). */
const TINY: VitConfig = { side: 8, patch: 4, dim: 8, heads: 2, mlp: 16, blocks: 2, classes: 3 }

/** Initialised, then every tensor (LayerNorm γ and β and the zero biases too) moved off its start. */
function tinyVit(seed: number): Vit {
  const random = seededRandom(seed)
  const normal = gaussian(random)
  const m = initVit(TINY, random)
  for (const t of vitTensors(TINY, m)) for (let i = 0; i < t.data.length; i++) t.data[i] += 0.3 * normal()
  return m
}

const image = (seed: number) => {
  const random = seededRandom(seed)
  return Float32Array.from({ length: TINY.side * TINY.side }, () => random())
}

function loss(m: Vit, pixels: Float32Array, label: number, ws: VitWorkspace): number {
  const logits = vitForward(m, pixels, ws)
  const max = Math.max(...logits)
  return Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0)) + max - logits[label]
}

describe('the MNIST ViT trainer', () => {
  it('computes the gradient of every tensor as finite differences do', () => {
    const m = tinyVit(1)
    const pixels = image(2)
    const label = 1
    const ws = new VitWorkspace(TINY)
    const grads = mapVit(m, (t) => new Float64Array(t.length))
    vitBackward(m, pixels, label, grads, ws)
    const pick = seededRandom(3)
    const gradTensors = vitTensors(TINY, grads)
    let checked = 0
    vitTensors(TINY, m).forEach((t, ti) => {
      // Eight entries of every tensor: all 36 tensor kinds are covered, in seconds.
      for (let s = 0; s < 8; s++) {
        const i = Math.floor(pick() * t.data.length)
        const start = t.data[i]
        t.data[i] = start + 1e-3
        const up = t.data[i]
        const lossUp = loss(m, pixels, label, ws)
        t.data[i] = start - 1e-3
        const down = t.data[i]
        const lossDown = loss(m, pixels, label, ws)
        t.data[i] = start
        // float32 storage rounds the step: divide by the step actually taken.
        const numeric = (lossUp - lossDown) / (up - down)
        const analytic = gradTensors[ti].data[i]
        expect(Math.abs(analytic - numeric), `${t.name}[${i}]: ${analytic} vs ${numeric}`).toBeLessThan(
          1e-5 + 1e-3 * Math.abs(numeric),
        )
        checked++
      }
    })
    expect(checked).toBe(8 * (3 + 16 * TINY.blocks + 4))
  })

  it('writes an ONNX graph that onnxruntime runs to the TypeScript forward pass’s logits', async () => {
    const m = tinyVit(4)
    const bytes = vitOnnx({ config: TINY, model: m, name: 'tiny_vit', docString: 'test', metadata: {} })
    const session = await ort.InferenceSession.create(bytes)
    const ws = new VitWorkspace(TINY)
    for (const seed of [5, 6, 7]) {
      const pixels = image(seed)
      const result = await session.run({ input: new ort.Tensor('float32', pixels, [1, 1, TINY.side, TINY.side]) })
      expect(result.logits.dims).toEqual([1, TINY.classes])
      const expected = Array.from(vitForward(m, pixels, ws))
      const actual = Array.from(result.logits.data as Float32Array)
      for (let k = 0; k < TINY.classes; k++) expect(actual[k]).toBeCloseTo(expected[k], 4)
    }
    await session.release()
  })

  it('writes the same bytes for the same weights', () => {
    const write = () => vitOnnx({ config: TINY, model: tinyVit(8), name: 'tiny_vit', docString: '', metadata: {} })
    expect(write()).toEqual(write())
  })
})

describe('the bundled MNIST ViT', () => {
  const models = new URL('../../models/', import.meta.url)
  const meta = JSON.parse(readFileSync(new URL('mnist-vit.json', models), 'utf8'))
  const bytes = new Uint8Array(readFileSync(new URL(meta.onnxFile, models)))

  it('is the file its metadata describes, at the accuracy the issue asks for', () => {
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.onnxSha256)
    expect(meta.floatTestAccuracy).toBeGreaterThanOrEqual(0.95)
    expect(meta.floatTestAccuracy).toBe(meta.floatTestAccuracyTypeScript)
    const model = parseOnnx(bytes)
    expect(model.opset).toBe(17)
    const weights = [...model.initializers].filter(([name]) => !/^(const|shape)\./.test(name))
    expect(weights.reduce((n, [, t]) => n + t.data.length, 0)).toBe(meta.parameters)
    expect(new Set(model.nodes.map((n) => n.opType))).toEqual(
      new Set([
        'Reshape',
        'Transpose',
        'MatMul',
        'Add',
        'Mul',
        'Div',
        'Softmax',
        'LayerNormalization',
        'Erf',
        'ReduceMean',
      ]),
    )
  })

  it('classifies its sample input as the digit it is, in onnxruntime', async () => {
    const input = JSON.parse(readFileSync(new URL(meta.sampleInputFile, models), 'utf8'))
    const session = await ort.InferenceSession.create(bytes)
    const result = await session.run({
      [meta.input.name]: new ort.Tensor('float32', Float32Array.from(input.input_data[0]), meta.input.shape),
    })
    await session.release()
    const logits = Array.from(result[meta.output.name].data as Float32Array)
    expect(logits.indexOf(Math.max(...logits))).toBe(meta.sampleInputLabel)
  })
})
