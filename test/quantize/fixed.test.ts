import { describe, expect, it } from 'vitest'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, type NodeSpec, buildModel } from '../../src/onnx/write.js'
import { execute } from '../../src/ir/execute.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { divRound, foldRows, rowFactor, toDyadic } from '../../src/quantize/dyadic.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { agreement, int, scaleIn, tensor } from '../onnx/quantized-models.js'

const irOf = (m: BuildModelParameters) => quantize(lowerOnnx(parseOnnx(buildModel(m))), [])

describe('dyadic arithmetic', () => {
  it('writes every float64 exactly as n·2^e with n odd', () => {
    const r = rng(3)
    for (const v of [
      1,
      -1,
      0.1,
      3 * 2 ** -1070,
      Number.MAX_VALUE,
      2 ** -1074,
      ...Array.from({ length: 200 }, () => (r() - 0.5) * 2 ** int(r, -60, 60)),
    ]) {
      const d = toDyadic(v)
      expect(d.n % 2n !== 0n).toBe(true)
      expect(Number(d.n) * 2 ** d.e).toBe(v)
    }
    expect(toDyadic(0)).toEqual({ n: 0n, e: 0 })
  })

  it('rounds a rational to nearest, ties to even, for either sign', () => {
    expect([
      divRound(5n, 2n),
      divRound(7n, 2n),
      divRound(-5n, 2n),
      divRound(-7n, 2n),
      divRound(10n, 3n),
      divRound(-10n, 3n),
    ]).toEqual([2n, 4n, -2n, -4n, 3n, -3n])
  })

  it('finds the exact factor of rows that are exact in float64', () => {
    const f = rowFactor([3 * 2 ** -9, -5 * 2 ** -9, 2 ** -7])
    expect(f).toEqual({ g: 2 ** -9, ints: [3n, -5n, 4n], exact: true })
  })

  it('recovers the integer weights of a QDQ Conv row whose float64 products were rounded', () => {
    const r = rng(5)
    for (let t = 0; t < 50; t++) {
      const sx = scaleIn(r, 0.001, 0.1),
        sw = scaleIn(r, 0.001, 0.1)
      const w = Array.from({ length: int(r, 1, 30) }, () => int(r, -64, 63) || 1)
      const f = rowFactor(w.map((wi) => sx * (wi * sw)))
      // The factor is s_x·s_w up to the common divisor of the weights and a float64 rounding.
      const ratio = f.g / (sx * sw)
      const G = Math.round(ratio)
      expect(Math.abs(ratio - G)).toBeLessThan(1e-12)
      expect(f.ints).toEqual(w.map((wi) => BigInt(wi / G)))
    }
  })

  it('an average pool row (1/9 each, not dyadic) is one factor times ones, exactly as float64 holds it', () => {
    expect(rowFactor(Array.from({ length: 9 }, () => 0.0173 / 9))).toEqual({
      g: 0.0173 / 9,
      ints: Array.from({ length: 9 }, () => 1n),
      exact: true,
    })
  })

  it('falls back to a fine power-of-two grid for rows without a common factor', () => {
    const c = [0.1, Math.PI * 0.01, -Math.E * 0.001, Math.SQRT2 * 1e-5]
    const f = rowFactor(c)
    expect(f.exact).toBe(false)
    expect(Number.isInteger(Math.log2(f.g))).toBe(true)
    c.forEach((ci, k) => expect(Math.abs(ci - f.g * Number(f.ints[k]))).toBeLessThanOrEqual(2 ** -44 * 0.1))
  })

  it('folds per-row float32 multipliers into integer weights with one shift, exactly', () => {
    const r = rng(11)
    for (let t = 0; t < 30; t++) {
      const outScale = scaleIn(r, 0.01, 1)
      const rows = Array.from({ length: int(r, 1, 5) }, () => {
        const g = scaleIn(r, 1e-5, 1e-2)
        return { g, ints: Array.from({ length: 4 }, () => BigInt(int(r, -200, 200))), bias: g * int(r, -5000, 5000) }
      })
      const f = foldRows(rows, outScale)
      expect(f.roundedBiases).toBe(0)
      const x = Array.from({ length: 4 }, () => BigInt(int(r, -128, 127)))
      rows.forEach((row, j) => {
        // (Σ A·x + b/g) · M with M = float32(g / outScale) = m·2^e, against the folded integers.
        const m = toDyadic(Math.fround(row.g / outScale))
        const acc = row.ints.reduce((s, a, k) => s + a * x[k], 0n) + BigInt(Math.round(row.bias / row.g))
        const folded = f.vals.slice(4 * j, 4 * j + 4).reduce((s, w, k) => s + w * x[k], 0n) + f.bias[j]
        // folded / 2^shift must equal acc · m · 2^e exactly: compare cross-multiplied.
        const lhs = folded * (m.e < 0 ? 1n << BigInt(-m.e) : 1n)
        const rhs = acc * m.n * (m.e > 0 ? 1n << BigInt(m.e) : 1n) * (1n << BigInt(f.shift))
        expect(lhs).toBe(rhs)
      })
    }
  })
})

const scalar = (name: string, v: number) => tensor(name, 'float32', [], [v])
const q = (input: string, output: string, s: string, z: string): NodeSpec => ({
  op: 'QuantizeLinear',
  name: `q_${output}`,
  inputs: [input, s, z],
  outputs: [output],
})
const dq = (input: string, output: string, s: string, z: string): NodeSpec => ({
  op: 'DequantizeLinear',
  name: `dq_${output}`,
  inputs: [input, s, z],
  outputs: [output],
})

describe('fixed-scale quantisation of QDQ models', () => {
  const identity: BuildModelParameters = {
    name: 'qdq-identity',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 8] }],
    outputs: [{ name: 'y', shape: [1, 8] }],
    initializers: [scalar('s', 0.25), tensor('z', 'int8', [], [-3])],
    nodes: [q('x', 'xq', 's', 'z'), dq('xq', 'y', 's', 'z')],
  }

  it('needs no calibration: the input takes its QuantizeLinear, the output its DequantizeLinear, with no extra step', () => {
    const ir = irOf(identity)
    expect(ir.inputs[0]).toMatchObject({ quant: { scale: 0.25, zeroPoint: -3 }, lo: -128n, hi: 127n })
    expect(ir.steps).toHaveLength(0)
    expect(ir.outputs[0]).toMatchObject({ tensor: ir.inputs[0].id, quant: { scale: 0.25, zeroPoint: -3 } })
  })

  it('quantises inputs as onnxruntime does: ties to even, plus the zero point', async () => {
    const ir = irOf(identity)
    expect(quantizeInputs(ir.inputs, [Float64Array.of(0.125, 0.375, -0.125, -0.375, 0.1, 1, -31.25, 31.75)])).toEqual([
      [-3n, -1n, -3n, -5n, -3n, 1n, -128n, 124n],
    ])
    const { stats } = await agreement(buildModel(identity), rng(1), 20)
    expect(stats.exact).toBe(stats.elements)
  })

  it('refuses an input outside the QuantizeLinear range, in real units', () => {
    const ir = irOf(identity)
    expect(() => quantizeInputs(ir.inputs, [Float64Array.of(0, 0, 0, 0, 0, 0, 0, 40)])).toThrow(
      /input "x": expected values in the calibrated range \[-31.25, 32.5\], found 40 at index 7/,
    )
  })

  it('an int8 graph input is an IR input with scale 1', () => {
    const ir = irOf({
      ...identity,
      inputs: [{ name: 'x', shape: [1, 8], type: 'int8' }],
      nodes: [dq('x', 'y', 's', 'z')],
    })
    expect(ir.inputs[0]).toMatchObject({ quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n })
    expect(ir.outputs[0].quant).toEqual({ scale: 0.25, zeroPoint: -3 })
  })

  it('a per-axis DequantizeLinear of an int8 input: a float output with one tensor-wide factor, as onnxruntime computes it', async () => {
    const m: BuildModelParameters = {
      name: 'dq-axis',
      opset: 13,
      inputs: [{ name: 'x', shape: [1, 3, 4], type: 'int8' }],
      outputs: [{ name: 'y', shape: [1, 3, 4] }],
      initializers: [tensor('s', 'float32', [3], [0.0123, 0.0456, 0.00789]), tensor('z', 'int8', [3], [-4, 0, 17])],
      nodes: [
        {
          op: 'DequantizeLinear',
          name: 'dq',
          inputs: ['x', 's', 'z'],
          outputs: ['y'],
          attributes: { axis: { int: 1 } },
        },
      ],
    }
    const { ir, stats } = await agreement(buildModel(m), rng(4), 10)
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear'])
    expect(stats.exact).toBe(stats.elements)
  })

  it('a float layer after the last DequantizeLinear: the output is its affine map of the integers on a fine grid', async () => {
    const r = rng(6)
    const m: BuildModelParameters = {
      name: 'float-head',
      opset: 13,
      inputs: [{ name: 'x', shape: [1, 6] }],
      outputs: [{ name: 'y', shape: [1, 3] }],
      initializers: [
        scalar('s', 0.0173),
        tensor('z', 'uint8', [], [128]),
        tensor(
          'w',
          'float32',
          [6, 3],
          Array.from({ length: 18 }, () => r() * 2 - 1),
        ),
        tensor('b', 'float32', [3], [0.1, -0.2, 0.3]),
      ],
      nodes: [
        q('x', 'xq', 's', 'z'),
        dq('xq', 'xd', 's', 'z'),
        { op: 'Gemm', name: 'head', inputs: ['xd', 'w', 'b'], outputs: ['y'] },
      ],
    }
    const bytes = buildModel(m)
    const onnx = parseOnnx(bytes)
    const ir = quantize(lowerOnnx(onnx), [])
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear'])
    const xs = Array.from({ length: 10 }, () => [
      Float64Array.from({ length: 6 }, () => (int(r, 0, 255) - 128) * 0.0173),
    ])
    const reference = await runOnnxruntime(bytes, onnx.inputs, xs)
    xs.forEach((x, k) =>
      dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant).forEach((v, i) =>
        expect(Math.abs(v - reference[k][0][i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(reference[k][0][i]))),
      ),
    )
  })

  it('a QDQ Conv is one linear step and one half-even requant fused with its Relu', () => {
    const r = rng(2)
    const ir = irOf({
      name: 'conv-relu',
      opset: 13,
      inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
      outputs: [{ name: 'y', shape: [1, 3, 2, 2] }],
      initializers: [
        scalar('sx', 0.0123),
        tensor('zx', 'uint8', [], [128]),
        scalar('sy', 0.0456),
        tensor('zy', 'uint8', [], [0]),
        tensor(
          'w',
          'int8',
          [3, 2, 3, 3],
          Array.from({ length: 54 }, () => int(r, -64, 63)),
        ),
        tensor('ws', 'float32', [3], [0.003, 0.004, 0.005]),
        tensor('wz', 'int8', [3], [0, 0, 0]),
      ],
      nodes: [
        q('x', 'xq', 'sx', 'zx'),
        dq('xq', 'xd', 'sx', 'zx'),
        {
          op: 'DequantizeLinear',
          name: 'dqw',
          inputs: ['w', 'ws', 'wz'],
          outputs: ['wd'],
          attributes: { axis: { int: 0 } },
        },
        { op: 'Conv', name: 'conv', inputs: ['xd', 'wd'], outputs: ['c'] },
        { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['rl'] },
        q('rl', 'yq', 'sy', 'zy'),
        dq('yq', 'y', 'sy', 'zy'),
      ],
    })
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'requant'])
    expect(ir.steps[1].op).toMatchObject({
      op: 'requant',
      mul: 1n,
      zeroPoint: 0n,
      lo: 0n,
      hi: 255n,
      rounding: 'half-even',
    })
  })

  it('an AveragePool between DequantizeLinear and QuantizeLinear (1/9 weights) matches onnxruntime', async () => {
    const m: BuildModelParameters = {
      name: 'qdq-avgpool',
      opset: 13,
      inputs: [{ name: 'x', shape: [1, 2, 5, 5] }],
      outputs: [{ name: 'y', shape: [1, 2, 3, 3] }],
      initializers: [
        scalar('sx', 0.0173),
        tensor('zx', 'uint8', [], [120]),
        scalar('sy', 0.0117),
        tensor('zy', 'uint8', [], [110]),
      ],
      nodes: [
        q('x', 'xq', 'sx', 'zx'),
        dq('xq', 'xd', 'sx', 'zx'),
        {
          op: 'AveragePool',
          name: 'pool',
          inputs: ['xd'],
          outputs: ['p'],
          attributes: { kernel_shape: { ints: [3, 3] } },
        },
        q('p', 'yq', 'sy', 'zy'),
        dq('yq', 'y', 'sy', 'zy'),
      ],
    }
    const { ir, stats } = await agreement(buildModel(m), rng(9), 20)
    console.log(
      `QDQ AveragePool: ${stats.elements} elements, ${stats.exact} exact, ${stats.offByOne} off by one LSB, max ${stats.maxLsb.toFixed(4)} LSB; requant shift ${(ir.steps.at(-1)!.op as { shift: number }).shift}`,
    )
    expect(stats.exact + stats.offByOne).toBe(stats.elements)
    expect(stats.offByOne).toBeLessThanOrEqual(Math.floor(stats.elements / 100))
  })
})
