import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { roundHalfEven } from '../../src/onnx/graph.js'
import { type OnnxModel, parseOnnx } from '../../src/onnx/parse.js'
import { compareOutputs, runOnnxruntime } from '../../src/onnx/runtime.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { parseInputs } from '../../src/quantize/input.js'
import { exportQdq, exposeTensors } from '../../src/quantize/qdq/export.js'
import {
  MissingCalibrationError,
  QuantizeModelError,
  QuantizeUnsupportedOpsError,
  calibrationTensors,
} from '../../src/quantize/qdq/plan.js'
import { calibrateRanges, quantizeOnnxFile } from '../../src/quantize/qdq/file.js'
import { QdqRangeError, activationQuant, quantizeWeights } from '../../src/quantize/qdq/params.js'
import { loadMnist } from '../../models/mnist-data.js'
import { rng } from '../helpers/circuit.js'
import { cliInProcess, ROOT } from '../helpers/cli.js'

const CNN = join(ROOT, 'models', 'mnist-cnn.onnx')
const CNN_CALIBRATION = join(ROOT, 'models', 'data', 'mnist-cnn-calibration.json')
const argmax = (v: ArrayLike<number>) => {
  let b = 0
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i
  return b
}

const uniform = (r: () => number, n: number, lo = -1, hi = 1) =>
  Float32Array.from({ length: n }, () => lo + (hi - lo) * r())

/** Conv(2→3, 3×3, pad 1) → Relu → MaxPool 2×2 → Flatten → Gemm(27→4, transB=0, alpha 0.5, beta 2). */
function tinyCnn(seed: number): BuildModelParameters {
  const r = rng(seed)
  return {
    name: 'tiny_cnn',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 2, 6, 6] }],
    outputs: [{ name: 'y', shape: [1, 4] }],
    initializers: [
      { name: 'conv.w', dims: [3, 2, 3, 3], data: uniform(r, 54) },
      { name: 'conv.b', dims: [3], data: uniform(r, 3, -0.2, 0.2) },
      { name: 'fc.w', dims: [27, 4], data: uniform(r, 108) },
      { name: 'fc.b', dims: [4], data: uniform(r, 4, -0.5, 0.5) },
    ],
    nodes: [
      {
        op: 'Conv',
        name: 'conv',
        inputs: ['x', 'conv.w', 'conv.b'],
        outputs: ['c'],
        attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } },
      },
      { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['a'] },
      {
        op: 'MaxPool',
        name: 'pool',
        inputs: ['a'],
        outputs: ['p'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'Flatten', name: 'flatten', inputs: ['p'], outputs: ['f'], attributes: { axis: { int: 1 } } },
      {
        op: 'Gemm',
        name: 'fc',
        inputs: ['f', 'fc.w', 'fc.b'],
        outputs: ['y'],
        attributes: { alpha: { float: 0.5 }, beta: { float: 2 } },
      },
    ],
  }
}

/** Random samples of the model's inputs, uniform in [-1, 1). */
function samplesFor(model: OnnxModel, seed: number, n: number): Float64Array[][] {
  const r = rng(seed)
  return Array.from({ length: n }, () =>
    model.inputs.map((i) =>
      Float64Array.from(
        uniform(
          r,
          i.shape.reduce((a, b) => a * b, 1),
        ),
      ),
    ),
  )
}

async function quantizeInMemory(params: BuildModelParameters, seed: number) {
  const bytes = buildModel(params)
  const model = parseOnnx(bytes)
  const samples = samplesFor(model, seed, 32)
  const tensors = calibrationTensors(model)
  const ranges = await calibrateRanges(exposeTensors(model, tensors), model.inputs, tensors, samples)
  return { floatBytes: bytes, model, samples, calibrated: tensors, ranges, ...exportQdq({ model, ranges }) }
}

describe('QDQ export: scale arithmetic', () => {
  it('chooses uint8 for non-negative ranges and int8 with a zero point otherwise, containing 0', () => {
    expect(activationQuant('t', { min: 0, max: 2.55 })).toEqual({
      type: 'uint8',
      scale: Math.fround(0.01),
      zeroPoint: 0,
    })
    expect(activationQuant('t', { min: 0.5, max: 2.55 })).toEqual({
      type: 'uint8',
      scale: Math.fround(0.01),
      zeroPoint: 0,
    })
    const q = activationQuant('t', { min: -1, max: 3 })
    expect(q.type).toBe('int8')
    expect(q.scale).toBe(Math.fround(4 / 255))
    expect(q.zeroPoint).toBe(roundHalfEven(-128 + 1 / q.scale))
    // Real 0 is exactly representable: (zeroPoint - zeroPoint) · scale.
    expect(activationQuant('t', { min: 0, max: 0 })).toEqual({ type: 'uint8', scale: 1, zeroPoint: 0 })
    expect(() => activationQuant('t', { min: Number.NaN, max: 1 })).toThrow(QdqRangeError)
  })

  it('quantises weights per channel, symmetric, to the requested range', () => {
    const w = [0.5, -1, 0.25, 2, -4, 1]
    const { q, scales } = quantizeWeights(w, [2, 3], 0, 127)
    expect(Array.from(scales)).toEqual([Math.fround(1 / 127), Math.fround(4 / 127)])
    expect(Array.from(q)).toEqual([
      roundHalfEven(0.5 * 127),
      -127,
      roundHalfEven(0.25 * 127),
      roundHalfEven(2 / scales[1]),
      -127,
      roundHalfEven(1 / scales[1]),
    ])
    const perColumn = quantizeWeights(w, [2, 3], 1, 64)
    expect(perColumn.scales.length).toBe(3)
    expect(Math.max(...Array.from(perColumn.q, Math.abs))).toBe(64)
  })
})

describe('QDQ export: round trip on a tiny CNN', () => {
  it('writes standard QDQ that onnxruntime runs, close to the float model', async () => {
    const r = await quantizeInMemory(tinyCnn(3), 4)
    const q = parseOnnx(r.bytes)
    // The float ops are kept with their attributes; Q/DQ pairs wrap the Conv and Gemm.
    const byName = new Map(q.nodes.map((n) => [n.name, n]))
    expect(byName.get('pool')!.attributes).toEqual({ kernel_shape: [2, 2], strides: [2, 2] })
    expect(byName.get('fc')!.attributes.alpha).toBeCloseTo(0.5)
    expect(q.nodes.map((n) => n.opType).filter((o) => !['QuantizeLinear', 'DequantizeLinear'].includes(o))).toEqual([
      'Conv',
      'Relu',
      'MaxPool',
      'Flatten',
      'Gemm',
    ])
    expect(byName.get('conv')!.inputs).toEqual(['x_dequantized', 'conv.w_dequantized', 'conv.conv.b_dequantized'])
    expect(
      q.nodes
        .filter((n) => n.opType === 'QuantizeLinear')
        .map((n) => n.inputs[0])
        .sort(),
    ).toEqual(['c_float', 'f', 'x', 'y_float'])
    // No float weight survives; weights are int8 per output channel, biases int32.
    expect([...q.initializers.keys()].filter((k) => k === 'conv.w' || k === 'fc.w')).toEqual([])
    const wq = q.initializers.get('conv.w_quantized')!
    expect(wq.dataType).toBe(3)
    const ws = q.initializers.get('conv.w_scale')!.data as Float64Array
    expect(ws.length).toBe(3)
    const w = r.model.initializers.get('conv.w')!.data as Float64Array
    for (let i = 0; i < w.length; i++) {
      const s = ws[Math.floor(i / 18)]
      expect(Math.abs(w[i] - Number(wq.data[i]) * s)).toBeLessThanOrEqual(s / 2 + 1e-9)
    }
    expect(byName.get('fc.w_DequantizeLinear')!.attributes.axis).toBe(1) // transB=0: output channels are columns
    expect(q.initializers.get('fc.w_scale')!.dims).toEqual([4])
    // Bias at input_scale · weight_scale (× alpha/beta for the Gemm), int32.
    const xs = q.initializers.get('x_scale')!.data[0] as number
    const bq = q.initializers.get('conv.conv.b_quantized')!
    expect(bq.dataType).toBe(6)
    const b = r.model.initializers.get('conv.b')!.data as Float64Array
    expect(Array.from(bq.data, Number)).toEqual(Array.from(b, (v, c) => roundHalfEven(v / Math.fround(xs * ws[c]))))
    const fs = q.initializers.get('f_scale')!.data[0] as number
    const fws = q.initializers.get('fc.w_scale')!.data as Float64Array
    expect(Array.from(q.initializers.get('fc.fc.b_scale')!.data as Float64Array)).toEqual(
      Array.from(fws, (s) => Math.fround(0.25 * fs * s)),
    )
    // The ReLU fuses into the conv output's quantisation; the pooled, flattened tensor shares its grid.
    const c = r.tensors.find((t) => t.tensor === 'c')!
    expect(c).toMatchObject({ type: 'uint8', zeroPoint: 0, source: { kind: 'calibrated', tensor: 'a' } })
    expect(r.tensors.find((t) => t.tensor === 'f')).toMatchObject({
      scale: c.scale,
      zeroPoint: 0,
      source: { kind: 'shared', tensor: 'c' },
    })
    expect(activationQuant('x', r.ranges.get('x')!).type).toBe('int8')
    expect(r.tensors.find((t) => t.tensor === 'x')).toMatchObject(activationQuant('x', r.ranges.get('x')!))
    expect(r.tensors.find((t) => t.tensor === 'y')).toMatchObject(activationQuant('y', r.ranges.get('y')!))
    // onnxruntime runs it; on the calibration samples (no output clipped) the outputs stay within
    // a few quantisation steps of the float model's.
    const cmp = compareOutputs(
      await runOnnxruntime(r.floatBytes, r.model.inputs, r.samples),
      await runOnnxruntime(r.bytes, q.inputs, r.samples),
    )
    const yRange = r.ranges.get('y')!.max - r.ranges.get('y')!.min
    expect(cmp.maxAbsError).toBeLessThan(0.05 * yRange)
    expect(cmp.argmaxAgreement).toBeGreaterThanOrEqual(0.9)
  })

  it('quantises a MatMul by its constant operand, per output column, and keeps the input float-named', async () => {
    const r0 = rng(8)
    const r = await quantizeInMemory(
      {
        name: 'mm',
        inputs: [{ name: 'x', shape: [1, 8] }],
        outputs: [{ name: 'z', shape: [1, 5] }],
        initializers: [{ name: 'w', dims: [8, 5], data: uniform(r0, 40) }],
        nodes: [
          { op: 'MatMul', name: 'mm', inputs: ['x', 'w'], outputs: ['y'] },
          { op: 'Relu', name: 'relu', inputs: ['y'], outputs: ['z'] },
        ],
      },
      9,
    )
    const q = parseOnnx(r.bytes)
    expect(q.nodes.find((n) => n.name === 'w_DequantizeLinear')!.attributes.axis).toBe(1)
    expect(q.outputs.map((o) => o.name)).toEqual(['z'])
    const cmp = compareOutputs(
      await runOnnxruntime(r.floatBytes, q.inputs, r.samples),
      await runOnnxruntime(r.bytes, q.inputs, r.samples),
    )
    expect(cmp.maxAbsError).toBeLessThan(0.05 * r.ranges.get('z')!.max)
  })
})

describe('QDQ export: refusals', () => {
  const base = tinyCnn(5)
  it('names every node it cannot quantise, at once', () => {
    const model = parseOnnx(
      buildModel({
        ...base,
        nodes: [
          ...base.nodes.slice(0, 4),
          { op: 'Sigmoid', name: 'sig', inputs: ['f'], outputs: ['g'] },
          { op: 'Softmax', name: 'soft', inputs: ['g'], outputs: ['y'] },
        ],
      }),
    )
    expect(() => calibrationTensors(model)).toThrow(QuantizeUnsupportedOpsError)
    expect(() => calibrationTensors(model)).toThrow(/"sig" \(Sigmoid\), "soft" \(Softmax\)/)
  })
  it('refuses a Conv whose weight is not an initializer, an old opset, and missing ranges', () => {
    const dynamic = parseOnnx(
      buildModel({
        ...base,
        inputs: [...base.inputs, { name: 'conv.w', shape: [3, 2, 3, 3] }],
        initializers: base.initializers!.filter((t) => t.name !== 'conv.w'),
      }),
    )
    expect(() => calibrationTensors(dynamic)).toThrow(QuantizeModelError)
    expect(() => calibrationTensors(dynamic)).toThrow(
      /node "conv" \(Conv\): its weight "conv.w" must be an initializer/,
    )
    expect(() => calibrationTensors(parseOnnx(buildModel({ ...base, opset: 11 })))).toThrow(/opset 11 is older than 13/)
    const model = parseOnnx(buildModel(base))
    expect(() => exportQdq({ model, ranges: new Map() })).toThrow(MissingCalibrationError)
  })
})

describe('QDQ export: the MNIST CNN', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veriml-qdq-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('stays close to the float model on calibration and held-out digits in onnxruntime', async () => {
    const out = join(dir, 'cnn.int8.onnx')
    const r = await quantizeOnnxFile({ onnxPath: CNN, calibrationPath: CNN_CALIBRATION, outPath: out })
    expect(r.weights.map((w) => [w.node, w.channels, w.axis])).toEqual([
      ['conv1', 8, 0],
      ['conv2', 16, 0],
      ['fc', 10, 0],
    ])
    // Calibration samples: measured max |error| 0.47 on logits spanning ~28.
    expect(r.agreement.argmaxAgreement).toBe(1)
    expect(r.agreement.maxAbsError).toBeLessThan(1)
    const [floatBytes, int8Bytes] = await Promise.all([readFile(CNN), readFile(out)])
    const f = await ort.InferenceSession.create(floatBytes)
    const q = await ort.InferenceSession.create(int8Bytes)
    const { test } = loadMnist()
    let floatCorrect = 0,
      int8Correct = 0,
      agree = 0
    const errors: number[] = []
    for (const s of test) {
      const x = new ort.Tensor('float32', s.pixels, [1, 1, 28, 28])
      const a = (await f.run({ input: x })).logits.data as Float32Array
      const b = (await q.run({ input: x })).logits.data as Float32Array
      floatCorrect += Number(argmax(a) === s.label)
      int8Correct += Number(argmax(b) === s.label)
      agree += Number(argmax(a) === argmax(b))
      errors.push(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]))))
    }
    await Promise.all([f.release(), q.release()])
    errors.sort((a, b) => a - b)
    // Measured: float 97.20 %, int8 97.40 %, agreement 99.8 %, median max-error 0.25, p99 3.1
    // (the tail is logits beyond the calibrated range, clipped by the output's QuantizeLinear).
    expect(agree / test.length).toBeGreaterThanOrEqual(0.99)
    expect(int8Correct / test.length).toBeGreaterThanOrEqual(floatCorrect / test.length - 0.01)
    expect(errors[test.length / 2]).toBeLessThan(0.5)
    expect(errors[test.length - 1]).toBeLessThan(8)
  })
})

describe('veriml quantize (CLI)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'veriml-qdq-cli-'))
    await writeFile(join(dir, 'tiny.onnx'), buildModel(tinyCnn(6)))
    const model = parseOnnx(buildModel(tinyCnn(6)))
    await writeFile(
      join(dir, 'cal.json'),
      JSON.stringify({ input_data: [samplesFor(model, 7, 8).flatMap((s) => Array.from(s[0]))] }),
    )
    const base = tinyCnn(6)
    await writeFile(
      join(dir, 'unsupported.onnx'),
      buildModel({
        ...base,
        nodes: [...base.nodes.slice(0, 4), { op: 'Softmax', name: 'soft', inputs: ['f'], outputs: ['y'] }],
      }),
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const cli = cliInProcess

  it('writes a model onnxruntime loads and exits 0', async () => {
    const out = join(dir, 'tiny.int8.onnx')
    const r = await cli('quantize', join(dir, 'tiny.onnx'), '--calibration', join(dir, 'cal.json'), '--out', out)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/conv \(3 channels\), fc \(4 channels\)/)
    const bytes = await readFile(out)
    const model = parseOnnx(bytes)
    expect(model.nodes.filter((n) => n.opType === 'QuantizeLinear').length).toBe(4)
    const samples = parseInputs(JSON.parse(await readFile(join(dir, 'cal.json'), 'utf8')), model.inputs, { many: true })
    expect((await runOnnxruntime(bytes, model.inputs, samples)).length).toBe(8)
  })

  it('exits 2 on usage errors and 1 on model errors, naming the problem', async () => {
    const missingOut = await cli('quantize', join(dir, 'tiny.onnx'), '--calibration', join(dir, 'cal.json'))
    expect(missingOut.code).toBe(2)
    expect(missingOut.stderr).toMatch(/--out FILE are required/)
    expect((await cli('quantize', join(dir, 'tiny.onnx'), '--bogus')).code).toBe(2)
    const unreadable = await cli(
      'quantize',
      join(dir, 'nope.onnx'),
      '--calibration',
      join(dir, 'cal.json'),
      '--out',
      join(dir, 'x.onnx'),
    )
    expect(unreadable.code).toBe(1)
    expect(unreadable.stderr).toMatch(/nope\.onnx: cannot read the model/)
    const unsupported = await cli(
      'quantize',
      join(dir, 'unsupported.onnx'),
      '--calibration',
      join(dir, 'cal.json'),
      '--out',
      join(dir, 'x.onnx'),
    )
    expect(unsupported.code).toBe(1)
    expect(unsupported.stderr).toMatch(/"soft" \(Softmax\)/)
    const wrongShape = join(dir, 'bad-cal.json')
    await writeFile(wrongShape, JSON.stringify({ input_data: [[1, 2, 3]] }))
    const badCalibration = await cli(
      'quantize',
      join(dir, 'tiny.onnx'),
      '--calibration',
      wrongShape,
      '--out',
      join(dir, 'x.onnx'),
    )
    expect(badCalibration.code).toBe(1)
    expect(badCalibration.stderr).toMatch(/x/)
  })
})
