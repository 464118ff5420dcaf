import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { type BuildModelParameters, type NodeSpec, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { FixedScaleError } from '../../src/quantize/fixed.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'
import { f32, modelOf, node, samples } from './ort-diff.js'
import { type QType, agreement, scaleIn, tensor, zeroPoint } from './quantized-models.js'

const model = (
  inputs: { name: string; shape: number[] }[],
  nodes: NodeSpec[],
  outRank: number,
  initializers: (TensorSpec & { name: string })[] = [],
): BuildModelParameters => modelOf(inputs, nodes, outRank, initializers, { name: 'mul' })

const broadcast = () =>
  model(
    [
      { name: 'a', shape: [1, 4, 3] },
      { name: 'b', shape: [4, 1] },
    ],
    [node('Mul', ['a', 'b'], ['y'])],
    3,
  )
const square = () => model([{ name: 'x', shape: [2, 5] }], [node('Mul', ['x', 'x'], ['y'])], 2)
const afterRelu = () =>
  model([{ name: 'x', shape: [6] }], [node('Relu', ['x'], ['r']), node('Mul', ['r', 'x'], ['y'])], 1)
const r0 = rng(11)
const afterConv = () =>
  model(
    [{ name: 'x', shape: [1, 2, 4, 4] }],
    [
      node('Conv', ['x', 'w', 'c'], ['h'], { pads: { ints: [1, 1, 1, 1] } }),
      node('Relu', ['h'], ['r']),
      node('Mul', ['r', 'h'], ['m']),
      node('Add', ['m', 'x'], ['y']),
    ],
    4,
    [f32(r0, 'w', [2, 2, 3, 3], 0.5), f32(r0, 'c', [2], 0.1)],
  )

describe('Mul of two input-dependent tensors: lowering', () => {
  it('broadcasts [1,4,3] × [4,1] as index maps, equal to onnxruntime', async () => {
    const g = await matchesOnnxruntime(broadcast(), 1, { samples: 4 })
    expect(g.steps.map((s) => s.op.kind)).toEqual(['mul'])
    const op = g.steps[0].op
    if (op.kind !== 'mul') throw new Error('not mul')
    expect(g.steps[0].shape).toEqual([1, 4, 3])
    // b follows a (12 elements) in the concatenation; b[i] is shared along the last axis.
    expect(Array.from(op.right)).toEqual([12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15])
    expect(Array.from(op.left)).toEqual(Array.from({ length: 12 }, (_, i) => i))
  })

  it('x·x reads one tensor twice', async () => {
    const g = await matchesOnnxruntime(square(), 2, { scale: 3 })
    const op = g.steps[0].op
    expect(op.kind === 'mul' && op.inputs.length).toBe(1)
    expect(op.kind === 'mul' && Array.from(op.right)).toEqual(Array.from({ length: 10 }, (_, i) => i))
  })

  it('after Relu and after Conv (pending maps are materialised first)', async () => {
    expect((await matchesOnnxruntime(afterRelu(), 3)).steps.map((s) => s.op.kind)).toEqual(['clamp', 'mul'])
    const g = await matchesOnnxruntime(afterConv(), 4, { scale: 2 })
    // The Conv map is emitted once and read by both the Relu and the Mul.
    expect(g.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp', 'mul', 'affine'])
  })

  it('random broadcasting shapes equal onnxruntime', async () => {
    const r = rng(5)
    for (let t = 0; t < 6; t++) {
      const rank = 1 + Math.floor(r() * 3)
      const out = Array.from({ length: rank }, () => 1 + Math.floor(r() * 3))
      const a = out.map((d) => (r() < 0.4 ? 1 : d))
      const b = out.slice(Math.floor(r() * rank)).map((d) => (r() < 0.4 ? 1 : d))
      await matchesOnnxruntime(
        model(
          [
            { name: 'a', shape: a },
            { name: 'b', shape: b },
          ],
          [node('Mul', ['a', 'b'], ['y'])],
          rank,
        ),
        10 + t,
      )
    }
  })
})

describe('Mul of two input-dependent tensors: calibrated quantisation', () => {
  /**
   * Tolerance: operands are int8 activations at power-of-two scales with |err| ≤ 2^-exp/2 ≤
   * maxAbs/254 each (expFor picks exp with maxAbs·2^exp > 127/2), the product itself is exact; so
   * |ab - a'b'| ≤ |a|·e_b + |b|·e_a + e_a·e_b ≈ 2·maxA·maxB/254, and the output requant adds half an
   * output step (≤ maxAbs(y)/254). With |a|, |b| ≤ 1: under 0.02 (measured values are printed).
   */
  for (const [name, build, tol] of [
    ['broadcast', broadcast, 0.02],
    ['x·x', square, 0.02],
    ['after Relu', afterRelu, 0.02],
    ['after Conv', afterConv, 0.1],
  ] as const) {
    it(`${name}: executor dequantised ≈ onnxruntime, IR has one mul with an accumulator output`, async () => {
      const m = build()
      const bytes = buildModel(m)
      const graph = lowerOnnx(parseOnnx(bytes))
      const r = rng(21)
      // The corners make the calibrated range [-1, 1) for every input, so every test sample is inside it.
      const calib = [
        ...samples(r, graph.inputs, 32),
        ...[-1, 0.999].map((v) =>
          graph.inputs.map((i) => new Float64Array(i.shape.reduce((p, d) => p * d, 1)).fill(v)),
        ),
      ]
      const ir = quantize(graph, calib)
      const muls = ir.steps.filter((s) => s.op.op === 'mul')
      expect(muls).toHaveLength(1)
      const bounds = analyzeBounds(ir)
      for (const b of bounds.values())
        for (const v of [...b.lo, ...b.hi]) expect(v < 0n ? -v : v).toBeLessThan(1n << 40n)
      const test = samples(r, graph.inputs, 16)
      const ref = await runOnnxruntime(bytes, parseOnnx(bytes).inputs, test)
      let worst = 0
      test.forEach((s, k) => {
        const out = execute(ir, quantizeInputs(ir.inputs, s)).outputs[0]
        const got = dequantize(out, ir.outputs[0].quant)
        for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[k][0][i]))
      })
      console.log(`${name}: max |error| ${worst.toPrecision(3)}`)
      expect(worst).toBeLessThan(tol)
    })
  }
})

describe('Mul of two input-dependent tensors: QDQ models', () => {
  const qdq = (x: string, y: string, p: string): NodeSpec[] => [
    node('QuantizeLinear', [x, `${p}_s`, `${p}_z`], [`${y}_q`]),
    node('DequantizeLinear', [`${y}_q`, `${p}_s`, `${p}_z`], [y]),
  ]
  const params = (r: () => number, p: string, type: QType, s: number) => [
    tensor(`${p}_s`, 'float32', [], [s]),
    tensor(`${p}_z`, type, [], [zeroPoint(r, type)]),
  ]
  function qdqMul(
    r: () => number,
    type: QType,
    shapes: [number[], number[]] | 'square',
    relu: boolean,
  ): BuildModelParameters {
    const sa = scaleIn(r, 0.005, 0.05),
      sb = scaleIn(r, 0.005, 0.05)
    const sy = Math.fround(sa * sb * scaleIn(r, 20, 200))
    const square = shapes === 'square'
    const [ashape, bshape] = square
      ? [
          [2, 3],
          [2, 3],
        ]
      : shapes
    const inputs =
      square || relu
        ? [{ name: 'x', shape: ashape }]
        : [
            { name: 'x', shape: ashape },
            { name: 'x2', shape: bshape },
          ]
    // With relu, the second operand is Relu(DQ(a)) requantised, as onnxruntime's quantiser writes it.
    const nodes = [
      ...qdq('x', 'a', 'a'),
      ...(square ? [] : relu ? [node('Relu', ['a'], ['ra']), ...qdq('ra', 'b', 'b')] : qdq('x2', 'b', 'b')),
      node('Mul', ['a', square ? 'a' : 'b'], ['p']),
      ...qdq('p', 'y', 'y'),
    ]
    const out = square ? ashape : relu ? ashape : ashape.length >= bshape.length ? ashape : bshape
    return {
      ...model(inputs, nodes, out.length, [
        ...params(r, 'a', type, sa),
        ...params(r, 'b', type, sb),
        ...params(r, 'y', type, sy),
      ]),
      outputs: [{ name: 'y', shape: out.map((_, i) => `d${i}`) }],
    }
  }
  const cases: [string, QType, [number[], number[]] | 'square', boolean][] = [
    [
      'int8 broadcast [1,4,3]×[4,1]',
      'int8',
      [
        [1, 4, 3],
        [4, 1],
      ],
      false,
    ],
    [
      'uint8 broadcast [1,4,3]×[4,1]',
      'uint8',
      [
        [1, 4, 3],
        [4, 1],
      ],
      false,
    ],
    ['int8 x·x', 'int8', 'square', false],
    ['uint8 x·x', 'uint8', 'square', false],
    [
      'int8 a·Relu(a)',
      'int8',
      [
        [3, 4],
        [3, 4],
      ],
      true,
    ],
    [
      'uint8 same shapes',
      'uint8',
      [
        [2, 5],
        [2, 5],
      ],
      false,
    ],
  ]
  for (const [name, type, shapes, relu] of cases) {
    it(`${name}: the executor gives onnxruntime's integers`, async () => {
      for (let seed = 0; seed < 4; seed++) {
        const r = rng(100 + seed)
        const { ir, stats } = await agreement(buildModel(qdqMul(r, type, shapes, relu)), r, 4)
        expect(ir.steps.filter((s) => s.op.op === 'mul')).toHaveLength(1)
        console.log(`${name} seed ${seed}: ${JSON.stringify(stats)}`)
        expect(stats.exact, JSON.stringify(stats)).toBe(stats.elements)
      }
    })
  }

  it('refuses an operand that is a Relu result not requantised, with a FixedScaleError naming the node', () => {
    const r = rng(1)
    const m = model(
      [{ name: 'x', shape: [4] }],
      [...qdq('x', 'a', 'a'), node('Relu', ['a'], ['r']), node('Mul', ['a', 'r'], ['p']), ...qdq('p', 'y', 'y')],
      1,
      [...params(r, 'a', 'int8', 0.05), ...params(r, 'y', 'int8', 0.01)],
    )
    const graph = lowerOnnx(parseOnnx(buildModel(m)))
    expect(() => quantize(graph, [])).toThrow(FixedScaleError)
    expect(() => quantize(graph, [])).toThrow(/step "p": Mul of a value that is not one per-tensor DequantizeLinear/)
  })
})
