import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import onnxProto from 'onnx-proto'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { DEMO_MODEL_PATH, FIRST_OP_SET, FIXTURES, fixturePath, type Fixture } from '../../models/make-fixtures.js'
import { loadMnist, MNIST_PIXELS } from '../../models/mnist-data.js'
import {
  buildModel,
  DanglingInputsError,
  TensorSizeMismatchError,
  TensorTypeMismatchError,
  type BuildModelParameters,
} from '../../src/onnx/write.js'

const { onnx } = onnxProto
const modelsPath = (file: string) => fileURLToPath(new URL(`../../models/${file}`, import.meta.url))

async function run(bytes: Uint8Array, input: Float32Array, shape: number[]): Promise<ort.Tensor> {
  const session = await ort.InferenceSession.create(bytes)
  const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, shape) })
  await session.release()
  return result[session.outputNames[0]]
}

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 4)
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1)
const nodesOf = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph?.node ?? []

/** Gemm on a single row: alpha · a·op(B) + beta · c, as the ONNX spec defines it. */
function gemmRow(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bDims: number[],
  transB: boolean,
  c: ArrayLike<number> | undefined,
  alpha = 1,
  beta = 1,
): number[] {
  const [k, n] = transB ? [bDims[1], bDims[0]] : bDims
  return Array.from({ length: n }, (_, j) => {
    let acc = 0
    for (let i = 0; i < k; i++) acc += a[i] * b[transB ? j * k + i : i * n + j]
    return alpha * acc + (c ? beta * c[j] : 0)
  })
}
const maxAbsDiff = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((v, i) => Math.abs(a[i] - v)))
const relu = (v: number[]) => v.map((x) => Math.max(0, x))

function initializer(params: BuildModelParameters, name: string): Float32Array {
  const t = params.initializers?.find((i) => i.name === name)
  if (!(t?.data instanceof Float32Array)) throw new TypeError(`fixture has no float initializer "${name}"`)
  return t.data
}

describe('test fixtures', () => {
  it.each(FIXTURES.map((f) => [f.file, f] as [string, Fixture]))(
    '%s on disk is what make-fixtures.ts builds now',
    async (_, fixture) => {
      const onDisk = new Uint8Array(await readFile(fixturePath(fixture.file)))
      expect(onDisk).toEqual(buildModel(fixture.build()))
    },
  )

  it('models/tiny-mlp.onnx (op demo default, shipped in the package) is tiny-mlp.onnx as make-fixtures.ts builds it', async () => {
    const tinyMlp = FIXTURES.find((f) => f.file === 'tiny-mlp.onnx')!
    expect(new Uint8Array(await readFile(DEMO_MODEL_PATH))).toEqual(buildModel(tinyMlp.build()))
  })

  it.each(FIXTURES.map((f) => [f.file, f] as [string, Fixture]))(
    '%s runs in onnxruntime with the expected output shape',
    async (_, fixture) => {
      const bytes = await readFile(fixturePath(fixture.file))
      expect(bytes.length).toBeLessThan(8 * 1024)
      const output = await run(bytes, ramp(size(fixture.inputShape)), fixture.inputShape)
      expect(output.dims).toEqual(fixture.outputShape)
      expect([...(output.data as Float32Array)].every(Number.isFinite)).toBe(true)
    },
  )

  it('every node has a unique name', async () => {
    for (const fixture of FIXTURES) {
      const names = nodesOf(await readFile(fixturePath(fixture.file))).map((n) => n.name ?? '')
      expect(
        names.every((n) => n.length > 0),
        fixture.file,
      ).toBe(true)
      expect(new Set(names).size, fixture.file).toBe(names.length)
    }
  })

  it('the supported fixtures together cover exactly the first op set', async () => {
    const covered = new Set<string>()
    for (const fixture of FIXTURES.filter((f) => f.file !== 'unsupported.onnx')) {
      for (const node of nodesOf(await readFile(fixturePath(fixture.file)))) covered.add(node.opType ?? '')
    }
    expect([...covered].sort()).toEqual([...FIRST_OP_SET].sort())
  })

  it('unsupported.onnx holds exactly two ops outside the first op set', async () => {
    const ops = nodesOf(await readFile(fixturePath('unsupported.onnx'))).map((n) => n.opType ?? '')
    expect(ops.filter((op) => !(FIRST_OP_SET as readonly string[]).includes(op)).sort()).toEqual(['Erf', 'LRN'])
  })

  it('tiny-mlp.onnx computes Gemm(transB=1) → Relu → Gemm on the written weights', async () => {
    const fixture = FIXTURES.find((f) => f.file === 'tiny-mlp.onnx')!
    const p = fixture.build()
    const x = ramp(8)
    const h = relu(gemmRow(x, initializer(p, 'fc1.weight'), [16, 8], true, initializer(p, 'fc1.bias')))
    const expected = gemmRow(h, initializer(p, 'fc2.weight'), [4, 16], true, initializer(p, 'fc2.bias'))
    const output = await run(await readFile(fixturePath(fixture.file)), x, [1, 8])
    expect(maxAbsDiff(output.data as Float32Array, expected)).toBeLessThan(1e-5)
  })

  it('gemm-attributes.onnx applies alpha, beta and both transB layouts as the spec says', async () => {
    const fixture = FIXTURES.find((f) => f.file === 'gemm-attributes.onnx')!
    const p = fixture.build()
    const x = ramp(6)
    const g1 = relu(gemmRow(x, initializer(p, 'g1.weight'), [6, 10], false, initializer(p, 'g1.bias'), 0.5, 2))
    const g2 = gemmRow(g1, initializer(p, 'g2.weight'), [5, 10], true, initializer(p, 'g2.bias'), 1.5, 0.25)
    const expected = gemmRow(g2, initializer(p, 'g3.weight'), [5, 3], false, undefined)
    const output = await run(await readFile(fixturePath(fixture.file)), x, [1, 6])
    expect(maxAbsDiff(output.data as Float32Array, expected)).toBeLessThan(1e-5)
  })
})

describe('MNIST reference model', () => {
  it('loads with input [1,784] and logits [1,10], and matches its recorded hash', async () => {
    const meta = JSON.parse(await readFile(modelsPath('mnist-mlp.json'), 'utf8'))
    const bytes = await readFile(modelsPath('mnist-mlp.onnx'))
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(meta.onnxSha256)
    const session = await ort.InferenceSession.create(bytes)
    expect(session.inputNames).toEqual(['input'])
    expect(session.outputNames).toEqual(['logits'])
    await session.release()
    expect(nodesOf(bytes).map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm'])
  })

  it('reaches the recorded float test accuracy on the 2,000 held-out digits', async () => {
    const meta = JSON.parse(await readFile(modelsPath('mnist-mlp.json'), 'utf8'))
    const { test } = loadMnist()
    expect(test.length).toBe(meta.testSize)
    const session = await ort.InferenceSession.create(await readFile(modelsPath('mnist-mlp.onnx')))
    let correct = 0
    for (const s of test) {
      const { logits } = await session.run({ input: new ort.Tensor('float32', s.pixels, [1, MNIST_PIXELS]) })
      expect(logits.dims).toEqual([1, 10])
      const v = logits.data as Float32Array
      if (v.indexOf(Math.max(...v)) === s.label) correct++
    }
    await session.release()
    expect(correct / test.length).toBe(meta.floatTestAccuracy)
    expect(meta.floatTestAccuracy).toBeGreaterThan(0.95)
  })

  it('ships an EZKL-format sample input (a held-out digit) and 64 calibration digits', async () => {
    const meta = JSON.parse(await readFile(modelsPath('mnist-mlp.json'), 'utf8'))
    const input = JSON.parse(await readFile(modelsPath('data/mnist-input.json'), 'utf8'))
    const calibration = JSON.parse(await readFile(modelsPath('data/mnist-calibration.json'), 'utf8'))
    expect(Object.keys(input)).toEqual(['input_data'])
    expect(input.input_data).toHaveLength(1)
    const digit = loadMnist().test[meta.sampleInputTestIndex]
    expect(digit.label).toBe(meta.sampleInputLabel)
    expect(input.input_data[0]).toEqual(Array.from(digit.pixels, (v) => Math.round(v * 1e4) / 1e4))
    expect(calibration.input_data).toHaveLength(1)
    expect(calibration.input_data[0]).toHaveLength(64 * MNIST_PIXELS)
    expect(calibration.input_data[0].every((v: number) => v >= 0 && v <= 1)).toBe(true)
  })
})

describe('buildModel', () => {
  const base: BuildModelParameters = {
    name: 'bad',
    inputs: [{ name: 'x', shape: [1, 2] }],
    outputs: [{ name: 'y', shape: [1, 2] }],
    nodes: [{ op: 'Relu', name: 'r', inputs: ['x'], outputs: ['y'] }],
  }

  it('rejects every input that is read before it is produced, in one error', () => {
    const nodes = [
      { op: 'Add', name: 'a', inputs: ['x', 'later'], outputs: ['s'] },
      { op: 'Mul', name: 'm', inputs: ['s', 'nowhere'], outputs: ['later'] },
    ]
    expect(() => buildModel({ ...base, nodes })).toThrow(DanglingInputsError)
    expect(() => buildModel({ ...base, nodes })).toThrow(/"a" reads "later"[\s\S]*"m" reads "nowhere"/)
  })

  it('rejects a tensor whose data does not fill its dims', () => {
    const initializers = [{ name: 'w', dims: [2, 3], data: new Float32Array(5) }]
    expect(() => buildModel({ ...base, initializers })).toThrow(TensorSizeMismatchError)
  })

  it('rejects a declared type the array cannot hold', () => {
    const initializers = [{ name: 'w', dims: [2], data: new Float32Array(2), type: 'bool' as const }]
    expect(() => buildModel({ ...base, initializers })).toThrow(TensorTypeMismatchError)
  })
})
