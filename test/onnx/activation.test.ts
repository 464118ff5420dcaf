import { describe, expect, it } from 'vitest'
import { type FloatGraph, executeFloat } from '../../src/onnx/graph.js'
import { type LowerOnnxOptions, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type AttributeSpec, type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { applyPostprocess } from '../../src/quantize/postprocess.js'
import { rng } from '../helpers/circuit.js'
import { f32, int, oneNode, ortRun, samples, worstRelative } from './ort-diff.js'

/**
 * The float graph (with a final Softmax applied from its output note) against onnxruntime on
 * random inputs uniform in [-scale, scale): within 1e-4 (onnxruntime computes in float32).
 */
async function agrees(
  params: BuildModelParameters,
  seed: number,
  scale: number,
  options: LowerOnnxOptions = {},
): Promise<FloatGraph> {
  const bytes = buildModel(params)
  const graph = lowerOnnx(parseOnnx(bytes), options)
  const xs = samples(rng(seed), graph.inputs, 3, -scale, scale)
  const reference = await ortRun(bytes, graph.inputs, xs)
  xs.forEach((x, k) => {
    const values = executeFloat(graph, x)
    graph.outputs.forEach((o, j) => {
      const v = Array.from(values.get(o.id)!)
      const got = o.postprocess ? applyPostprocess(o.postprocess, v) : v
      expect(got.length).toBe(reference[k][j].data.length)
      expect(worstRelative(got, reference[k][j].data)).toBeLessThan(1e-4)
    })
  })
  return graph
}

const randomShape = (r: () => number) => Array.from({ length: int(r, 1, 4) }, () => int(r, 1, 5))

describe('elementwise activations', () => {
  const cases: [string, Record<string, AttributeSpec>, number?][] = [
    ['Sigmoid', {}],
    ['Sigmoid', {}, 6],
    ['Tanh', {}],
    ['Tanh', {}, 6],
    ['LeakyRelu', {}],
    ['LeakyRelu', { alpha: { float: 0.3 } }],
    ['LeakyRelu', { alpha: { float: -0.5 } }, 6],
    ['HardSigmoid', {}],
    ['HardSigmoid', { alpha: { float: 0.35 }, beta: { float: 0.4 } }],
  ]
  it.each(
    cases.map(
      ([op, a, opset], i) => [`${op} ${JSON.stringify(a)}${opset ? ` opset ${opset}` : ''}`, op, a, opset, i] as const,
    ),
  )('%s equals onnxruntime', async (_, op, attributes, opset, seed) => {
    const r = rng(400 + seed)
    // Inputs in [-8, 8): both tails of sigmoid and tanh, both HardSigmoid saturations.
    const graph = await agrees(oneNode(op, randomShape(r), attributes, { opset }), seed, 8)
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['unary'])
  })

  it('sigmoid is exact far in both tails (no overflow in exp)', async () => {
    const bytes = buildModel(oneNode('Sigmoid', [4]))
    const graph = lowerOnnx(parseOnnx(bytes))
    const x = [Float64Array.of(-800, -30, 30, 800)]
    const got = executeFloat(graph, x).get(graph.outputs[0].id)!
    expect(Array.from(got).every(Number.isFinite)).toBe(true)
    expect(worstRelative(got, (await ortRun(bytes, graph.inputs, [x]))[0][0].data)).toBeLessThan(1e-6)
  })

  it('after a Gemm: the affine map is materialised, then one unary step', async () => {
    const r = rng(420)
    const graph = await agrees(
      {
        name: 'gemm-tanh',
        inputs: [{ name: 'x', shape: [1, 6] }],
        outputs: [{ name: 'y', shape: [1, 4] }],
        initializers: [f32(r, 'w', [6, 4]), f32(r, 'b', [4])],
        nodes: [
          { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['z'] },
          { op: 'Tanh', name: 'tanh', inputs: ['z'], outputs: ['y'] },
        ],
      },
      420,
      2,
    )
    expect(graph.steps.map((s) => [s.op.kind, s.origin])).toEqual([
      ['affine', 'fc'],
      ['unary', 'tanh'],
    ])
  })

  it('folds on constants', () => {
    const graph = lowerOnnx(
      parseOnnx(
        buildModel({
          name: 'const',
          inputs: [{ name: 'x', shape: [2] }],
          outputs: [{ name: 'y', shape: [2] }],
          initializers: [{ name: 'k', dims: [2], data: Float32Array.of(0, 2) }],
          nodes: [
            { op: 'Sigmoid', name: 's', inputs: ['k'], outputs: ['t'] },
            { op: 'Add', name: 'add', inputs: ['x', 't'], outputs: ['y'] },
          ],
        }),
      ),
    )
    const op = graph.steps[0].op
    expect(op.kind === 'affine' && Array.from(op.bias)).toEqual([0.5, 1 / (1 + Math.exp(-2))])
  })
})

describe("Softmax and LogSoftmax as the final op, proven as logits (finalSoftmax: 'logits')", () => {
  const logits = { finalSoftmax: 'logits' } as const
  const cases = (['Softmax', 'LogSoftmax'] as const).flatMap((op) => [
    { op, opset: 13, axis: undefined },
    { op, opset: 13, axis: 0 },
    { op, opset: 13, axis: 1 },
    { op, opset: 13, axis: -2 },
    { op, opset: 11, axis: undefined },
    { op, opset: 11, axis: 2 },
    { op, opset: 11, axis: 0 },
  ])
  it.each(cases.map((c, i) => [`${c.op} opset ${c.opset} axis ${c.axis ?? 'default'}`, c, i] as const))(
    "%s: logits proven, the note gives onnxruntime's output",
    async (_, { op, opset, axis }, seed) => {
      const r = rng(500 + seed)
      const shape = [int(r, 1, 3), int(r, 2, 4), int(r, 2, 4)]
      const graph = await agrees(
        oneNode(op, shape, axis === undefined ? {} : { axis: { int: axis } }, { opset }),
        seed,
        4,
        logits,
      )
      // No step: the output is the logits, here the input itself.
      expect(graph.steps).toEqual([])
      expect(graph.outputs[0].id).toBe(graph.inputs[0].id)
      const rank = shape.length
      const a = axis === undefined ? (opset < 13 ? 1 : -1) : axis
      const norm = a < 0 ? a + rank : a
      expect(graph.outputs[0].postprocess).toEqual(
        opset < 13
          ? {
              op: op.toLowerCase(),
              axis: 1,
              shape: [shape.slice(0, norm).reduce((x, y) => x * y, 1), shape.slice(norm).reduce((x, y) => x * y, 1)],
            }
          : { op: op.toLowerCase(), axis: norm, shape },
      )
    },
  )

  it('Gemm → Softmax: the output is the Gemm step, with the note', async () => {
    const r = rng(520)
    const graph = await agrees(
      {
        name: 'classifier',
        inputs: [{ name: 'x', shape: [1, 5] }],
        outputs: [{ name: 'probs', shape: [1, 3] }],
        initializers: [f32(r, 'w', [5, 3]), f32(r, 'b', [3])],
        nodes: [
          { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['z'] },
          { op: 'Softmax', name: 'softmax', inputs: ['z'], outputs: ['probs'] },
        ],
      },
      520,
      3,
      logits,
    )
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine'])
    expect(graph.outputs).toEqual([
      { id: graph.steps[0].id, name: 'probs', postprocess: { op: 'softmax', axis: 1, shape: [1, 3] } },
    ])
  })

  // Anywhere else they are decomposed into proven steps (test/onnx/normalization.test.ts).
  it.each(['Softmax', 'LogSoftmax'])('decomposes %s that is not the final op, without a note', async (op) => {
    const graph = await agrees(
      {
        name: 'inner',
        inputs: [{ name: 'x', shape: [1, 4] }],
        outputs: [{ name: 'y', shape: [1, 4] }],
        nodes: [
          { op, name: 'sm', inputs: ['x'], outputs: ['p'] },
          { op: 'Relu', name: 'relu', inputs: ['p'], outputs: ['y'] },
        ],
      },
      560,
      4,
    )
    // The input made an activation (an unbounded clamp, src/onnx/ops/normalization.ts), then its max.
    expect(graph.steps.slice(0, 2).map((s) => s.op.kind)).toEqual(['clamp', 'max'])
    expect(graph.outputs[0]).not.toHaveProperty('postprocess')
  })

  it('a Softmax whose output is a graph output that another node also reads is decomposed: both outputs proven', async () => {
    const graph = await agrees(
      {
        name: 'both',
        inputs: [{ name: 'x', shape: [1, 4] }],
        outputs: [
          { name: 'p', shape: [1, 4] },
          { name: 'y', shape: [1, 4] },
        ],
        nodes: [
          { op: 'Softmax', name: 'sm', inputs: ['x'], outputs: ['p'] },
          { op: 'Relu', name: 'relu', inputs: ['p'], outputs: ['y'] },
        ],
      },
      561,
      4,
    )
    expect(graph.outputs.every((o) => !o.postprocess)).toBe(true)
  })
})
