import { describe, expect, it } from 'vitest'
import { IrInputError } from '../../src/ir/errors.js'
import { execute } from '../../src/ir/execute.js'
import { executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { LoweringError } from '../../src/onnx/ops/common.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { buildModel } from '../../src/onnx/write.js'
import { defaultCalibration } from '../../src/quantize/default-calibration.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { D, EXPORTS, T, attention } from './attention-mask-models.js'
import { node } from './ort-diff.js'

/**
 * Hugging Face's attention_mask (src/onnx/ops/input-mask.ts): an int64 [1, T] input of 0/1,
 * Unsqueeze → Cast → (1 − m)·float32 min → added to the scores before Softmax, as
 * get_extended_attention_mask exports it. Against onnxruntime, float and quantised; a masked
 * key's score must not matter.
 */

const MASKS = [
  [1, 1, 1, 1, 1],
  [1, 1, 1, 0, 0],
  [1, 0, 1, 1, 0],
  [0, 0, 0, 0, 1],
]

function samplesOf(masks: number[][], seed: number, n = masks.length): Float64Array[][] {
  const r = rng(seed)
  return Array.from({ length: n }, (_, k) => [
    Float64Array.from({ length: T * D }, () => 2 * r() - 1),
    Float64Array.from(masks[k % masks.length]),
  ])
}

describe.each(EXPORTS)('an attention_mask input (0/1) as %s', (_, maskNodes, fill) => {
  const bytes = buildModel(attention(maskNodes, fill))
  const onnx = parseOnnx(bytes)
  const graph = lowerOnnx(onnx)

  it('lowers to a declared-binary input whose scores keep their range; the float graph equals onnxruntime', async () => {
    expect(graph.inputs[1]).toMatchObject({ name: 'attention_mask', binary: true })
    const xs = samplesOf(MASKS, 1811)
    const reference = await runOnnxruntime(bytes, onnx.inputs, xs)
    xs.forEach((x, k) => {
      const got = executeFloat(graph, x).get(graph.outputs[0].id)!
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - reference[k][0][i])).toBeLessThan(1e-5)
    })
    // No step sees the mask's −big: every constant and bias of the float graph is small.
    for (const s of graph.steps)
      if (s.op.kind === 'affine') expect(Math.max(...s.op.bias.map(Math.abs), 0)).toBeLessThan(100)
  })

  it('quantised: close to onnxruntime; a masked key changes nothing, bit for bit', async () => {
    const calibration = samplesOf(MASKS, 1812, 32)
    const ir = quantize(graph, calibration)
    expect(ir.inputs[1]).toMatchObject({ lo: 0n, hi: 1n, integer: true, quant: { scale: 1 } })
    const xs = samplesOf(MASKS, 1813, 8)
    const reference = await runOnnxruntime(bytes, onnx.inputs, xs)
    let worst = 0
    xs.forEach((x, k) => {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
      got.forEach((g, i) => {
        worst = Math.max(worst, Math.abs(g - reference[k][0][i]))
      })
    })
    console.log(`masked attention, int8: max |error| ${worst.toFixed(4)} against onnxruntime`)
    expect(worst).toBeLessThan(0.1)
    // Token 3 masked: its key's score (and its value) may be anything. Rows of the other queries
    // stay identical in the integer model; onnxruntime agrees to float precision.
    const mask = Float64Array.of(1, 1, 0, 1, 1)
    const [x] = samplesOf([[]], 1814, 1)[0]
    const changed = Float64Array.from(x, (v, i) => (Math.floor(i / D) === 2 ? 0.9 - v * 0.5 : v))
    const run = (input: Float64Array) => execute(ir, quantizeInputs(ir.inputs, [input, mask])).outputs[0]
    const [a, b] = [run(x), run(changed)]
    const otherRows = (v: readonly bigint[]) => v.filter((_, i) => Math.floor(i / D) !== 2)
    expect(otherRows(b)).toEqual(otherRows(a))
    expect(b).not.toEqual(a)
    const [ra, rb] = await runOnnxruntime(bytes, onnx.inputs, [
      [x, mask],
      [changed, mask],
    ])
    ra[0].forEach((v, i) => {
      if (Math.floor(i / D) !== 2) expect(Math.abs(v - rb[0][i])).toBeLessThan(1e-6)
    })
    // Random masks, every masked token redrawn: the kept queries' outputs never move, on the
    // default calibration's model too (measured: while the row minimum was quantised apart from
    // the max, 4 of 3,640 outputs of these 300 trials did).
    const byDefault = quantize(graph, defaultCalibration(graph.inputs))
    const r = rng(99)
    let compared = 0
    for (let trial = 0; trial < 300; trial++) {
      const m = Float64Array.from({ length: T }, () => (r() < 0.6 ? 1 : 0))
      if (!m.includes(1)) m[0] = 1
      const x0 = Float64Array.from({ length: T * D }, () => 2 * r() - 1)
      const x1 = Float64Array.from(x0, (v, i) => (m[Math.floor(i / D)] ? v : 2 * r() - 1))
      const [p, q] = [x0, x1].map((v) => execute(byDefault, quantizeInputs(byDefault.inputs, [v, m])).outputs[0])
      p.forEach((v, i) => {
        if (!m[Math.floor(i / D)]) return
        compared++
        expect(q[i]).toBe(v)
      })
    }
    expect(compared).toBeGreaterThan(1000)
  })
})

describe('an attention_mask input: what is refused', () => {
  const graph = lowerOnnx(parseOnnx(buildModel(attention())))

  it('refuses a mask value other than 0 and 1, and the default calibration draws 0/1 masks', () => {
    const ir = quantize(graph, samplesOf(MASKS, 1815, 8))
    const [x] = samplesOf(MASKS, 1816, 1)
    const two = () => quantizeInputs(ir.inputs, [x[0], Float64Array.of(1, 1, 2, 0, 1)])
    expect(two).toThrow(IrInputError)
    expect(two).toThrow(/input "attention_mask": expected 0 or 1 \(an attention mask.*found 2 at index 2/)
    const drawn = defaultCalibration(graph.inputs).map((s) => Array.from(s[1]))
    expect(drawn.flat().every((v) => v === 0 || v === 1)).toBe(true)
    // Every row keeps a token (a fully masked row has no softmax), and some mask one.
    expect(drawn.every((m) => m.includes(1))).toBe(true)
    expect(drawn.some((m) => m.includes(0))).toBe(true)
  })

  it('an int input added to the scores as is (no mask-sized weight) is an ordinary input; a mask added twice is refused', () => {
    const asValue = attention([
      node('Unsqueeze', ['attention_mask', 'axis1'], ['mu']),
      node('Cast', ['mu'], ['mf'], { to: { int: 1 } }),
      node('Add', ['ss', 'mf'], ['scores']),
    ])
    expect(lowerOnnx(parseOnnx(buildModel(asValue))).inputs[1].binary).toBeUndefined()
    const twice = attention([
      node('Unsqueeze', ['attention_mask', 'axis1'], ['mu']),
      node('Cast', ['mu'], ['mf'], { to: { int: 1 } }),
      node('Sub', ['one', 'mf'], ['inv']),
      node('Mul', ['inv', 'fill'], ['ext']),
      node('Transpose', ['ext'], ['extT'], { perm: { ints: [0, 2, 1] } }),
      node('Add', ['ss', 'ext'], ['half']),
      node('Add', ['half', 'extT'], ['scores']),
    ])
    const lowering = () => lowerOnnx(parseOnnx(buildModel(twice)))
    expect(lowering).toThrow(LoweringError)
    expect(lowering).toThrow(/node "p" \(Softmax\): input "attention_mask" reaches the Softmax twice in one score/)
  })

  it('refuses a Where whose condition depends on a float input', () => {
    const params = attention([
      node('Greater', ['ss', 'zerof'], ['pos']),
      node('Where', ['pos', 'ss', 'zerof'], ['scores']),
    ])
    const lowering = () => lowerOnnx(parseOnnx(buildModel(params)))
    expect(lowering).toThrow(LoweringError)
    expect(lowering).toThrow(/node "pos" \(Greater\): input A depends on the model input/)
  })
})
