import { describe, expect, it } from 'vitest'
import { execute } from '../../src/ir/execute.js'
import type { IsqrtOp } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildModel } from '../../src/onnx/write.js'
import { DivisionError } from '../../src/quantize/division.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { ortRun, samples } from '../onnx/ort-diff.js'
import {
  accuracy,
  block,
  decomposedLayerNorm,
  expectNormalisationRules,
  gammaBeta,
  report,
  scalars,
  stepOf,
} from './transformer-accuracy.js'

/**
 * LayerNorm, its decomposition and RMSNorm quantised (reference executor) against onnxruntime:
 * the largest error relative to the output range and the argmax agreement, with tolerances at
 * about 2× the measured values (int8 activations), plus the rules on the IR that make them: a
 * variance summed from exact products, a 16-bit σ, one reciprocal per row. Also: products summed
 * without a requant, roots of activations, refused divisors.
 */

describe('normalisation, quantised, against onnxruntime', () => {
  // Measured: LayerNormalization (width 160, inputs of mean 1: a mean folded into x − mean would
  // vanish, 33 % off) 0.77 % / 99.0 %, decomposed 0.59 % / 100 %, RMSNorm 0.75 % / 100 %.
  it('LayerNormalization (opset 17) → Gemm: within 1.2 % of the range, argmax ≥ 95 %', async () => {
    const r = rng(900)
    const a = await accuracy(
      block(
        'ln',
        [
          {
            op: 'LayerNormalization',
            name: 'ln',
            inputs: ['x', 'gamma', 'beta'],
            outputs: ['h'],
            attributes: { epsilon: { float: 1e-5 } },
          },
        ],
        gammaBeta(r, 160),
        r,
        17,
        160,
      ),
      901,
      -1,
      3,
    )
    report('LayerNormalization', a)
    expect(a.relative).toBeLessThan(0.012)
    expect(a.argmax).toBeGreaterThanOrEqual(0.95)
    expectNormalisationRules(a, 3, 160, 'isqrt')
  })

  it.each([13, 18])(
    'decomposed LayerNorm (opset %i, axes as attribute / input) quantises exactly as LayerNormalization',
    async (opset) => {
      const fused = await accuracy(
        block(
          'ln',
          [
            {
              op: 'LayerNormalization',
              name: 'ln',
              inputs: ['x', 'gamma', 'beta'],
              outputs: ['h'],
              attributes: { epsilon: { float: 1e-5 } },
            },
          ],
          gammaBeta(rng(910)),
          rng(912),
        ),
        911,
      )
      const a = await accuracy(
        block('ln-dec', decomposedLayerNorm(opset), [...gammaBeta(rng(910)), ...scalars], rng(912), opset),
        911,
      )
      report(`decomposed LayerNorm, opset ${opset}`, a)
      expect(a.ir.steps.map((s) => s.op)).toEqual(fused.ir.steps.map((s) => s.op))
      expect(a.relative).toBeLessThan(0.012)
      expect(a.argmax).toBeGreaterThanOrEqual(0.95)
    },
  )

  it('RMSNorm decomposed (Pow, ReduceMean, Add ε, Sqrt, Reciprocal, Mul) → Gemm: within 1.5 %, argmax ≥ 95 %', async () => {
    const r = rng(920)
    const a = await accuracy(
      block(
        'rms',
        [
          { op: 'Pow', name: 'pow', inputs: ['x', 'two'], outputs: ['x2'] },
          { op: 'ReduceMean', name: 'ms', inputs: ['x2', 'axes'], outputs: ['ms'] },
          { op: 'Add', name: 'add_eps', inputs: ['ms', 'eps'], outputs: ['mse'] },
          { op: 'Sqrt', name: 'sqrt', inputs: ['mse'], outputs: ['rms'] },
          { op: 'Reciprocal', name: 'inv', inputs: ['rms'], outputs: ['inv'] },
          { op: 'Mul', name: 'scale', inputs: ['x', 'inv'], outputs: ['n'] },
          { op: 'Mul', name: 'mul_gamma', inputs: ['n', 'gamma'], outputs: ['h'] },
        ],
        [...gammaBeta(r), ...scalars],
        r,
        18,
      ),
      921,
    )
    report('RMSNorm', a)
    expect(a.relative).toBeLessThan(0.015)
    expect(a.argmax).toBeGreaterThanOrEqual(0.95)
    // The reciprocal is read by the product as it is (16 bits), not requantised to int8.
    const recip = a.ir.steps.find((s) => s.op.op === 'div')!
    const product = a.ir.steps.find((s) => s.op.op === 'mul' && s.op.inputs.includes(recip.output.id))
    expect(product).toBeDefined()
    expectNormalisationRules(a, 3, 16, 'isqrt')
  })
})

describe('products summed exactly, square roots of activations, refused divisors', () => {
  it('a matrix product of two activations as Mul + ReduceSum: the sum reads the products as they are', async () => {
    const bytes = buildModel({
      name: 'bmm',
      opset: 18,
      inputs: [
        { name: 'a', shape: [2, 8, 1] },
        { name: 'b', shape: [1, 8, 3] },
      ],
      outputs: [{ name: 'y', shape: [2, 3] }],
      initializers: [{ name: 'axes', dims: [1], data: BigInt64Array.of(1n) }],
      nodes: [
        { op: 'Mul', name: 'mul', inputs: ['a', 'b'], outputs: ['p'] },
        { op: 'ReduceSum', name: 'sum', inputs: ['p', 'axes'], outputs: ['y'], attributes: { keepdims: { int: 0 } } },
      ],
    })
    const graph = lowerOnnx(parseOnnx(bytes))
    const cal = samples(rng(960), graph.inputs, 16, -1, 1)
    const ir = quantize(graph, cal)
    expect(ir.steps.map((s) => s.op.op)).toEqual(['mul', 'linear'])
    const reference = await ortRun(bytes, graph.inputs, cal)
    // No requant between the products and their sum (the step list above), so the only errors are
    // the inputs' roundings (Δ/2 each, |a|, |b| ≤ 1): ≤ 8 · ((Δa + Δb)/2 + Δa·Δb/4).
    const [da, db] = ir.inputs.map((i) => i.quant.scale)
    cal.forEach((x, k) => {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
      const worst = Math.max(...got.map((v, i) => Math.abs(v - reference[k][0].data[i])))
      expect(worst).toBeLessThanOrEqual(8 * ((da + db) / 2 + (da * db) / 4) + 1e-5)
    })
  })

  it('Sqrt of an activation (Sigmoid) is an isqrt of the activation scaled up: within 1 % of the range', async () => {
    const r = rng(970)
    const a = await accuracy(
      block(
        'sqrt',
        [
          { op: 'Sigmoid', name: 'sig', inputs: ['x'], outputs: ['s'] },
          { op: 'Sqrt', name: 'sqrt', inputs: ['s'], outputs: ['h'] },
        ],
        [],
        r,
      ),
      971,
    )
    report('Sqrt of a sigmoid', a) // measured 0.36 %
    expect(a.relative).toBeLessThan(0.01)
    const root = a.ir.steps.find((s) => s.op.op === 'isqrt')!
    // A sigmoid's table is ≥ 0, so the bounds prove the operand non-negative: no clamp, a free scaling.
    expect(stepOf(a.ir, (root.op as IsqrtOp).inputs[0]).op).toMatchObject({ op: 'requant', lo: null, shift: 0 })
  })

  it('refuses a divisor that is not positive on the calibration samples, naming the step', () => {
    // Unfused, so the division itself is refused (fused, x / tanh(x) is one table, refused as such).
    const graph = lowerOnnx(
      parseOnnx(
        buildModel({
          name: 'bad',
          inputs: [{ name: 'x', shape: [4] }],
          outputs: [{ name: 'y', shape: [4] }],
          nodes: [
            { op: 'Tanh', name: 't', inputs: ['x'], outputs: ['t'] },
            { op: 'Div', name: 'div', inputs: ['x', 't'], outputs: ['y'] },
          ],
        }),
      ),
      { fuseElementwise: false },
    )
    const quantized = () => quantize(graph, samples(rng(980), graph.inputs, 4, -1, 1))
    expect(quantized).toThrow(DivisionError)
    expect(quantized).toThrow(/step "div": the divisor takes the value -0\.\d+ in the calibration samples/)
  })
})
