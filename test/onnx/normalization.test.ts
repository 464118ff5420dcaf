import { describe, expect, it } from 'vitest'
import { type FloatGraph, executeFloat } from '../../src/onnx/graph.js'
import { LoweringError, lowerOnnx } from '../../src/onnx/lower.js'
import { erf } from '../../src/onnx/ops/activation.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type AttributeSpec, type BuildModelParameters, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import { f32, oneNode, ortRun, samples, worstRelative } from './ort-diff.js'

/**
 * The float lowering of reductions, division, square root, powers, the transformer activations,
 * softmax inside the graph and LayerNormalization, against onnxruntime on random inputs: within
 * 1e-4 (onnxruntime computes in float32). Quantisation: test/quantize/normalization.test.ts.
 */
async function agrees(params: BuildModelParameters, seed: number, lo = -2, hi = 2): Promise<FloatGraph> {
  const bytes = buildModel(params)
  // Each op as lowered, unfused (elementwise fusion: test/onnx/fuse-elementwise.test.ts).
  const graph = lowerOnnx(parseOnnx(bytes), { fuseElementwise: false })
  const xs = samples(rng(seed), graph.inputs, 3, lo, hi)
  const reference = await ortRun(bytes, graph.inputs, xs)
  xs.forEach((x, k) => {
    const values = executeFloat(graph, x)
    graph.outputs.forEach((o, j) => {
      const got = values.get(o.id)!
      expect(got.length).toBe(reference[k][j].data.length)
      expect(worstRelative(got, reference[k][j].data)).toBeLessThan(1e-4)
    })
  })
  return graph
}

const kinds = (g: FloatGraph) => g.steps.map((s) => s.op.kind)
const axesInput = (axes: number[]): TensorSpec & { name: string } => ({
  name: 'axes',
  dims: [axes.length],
  data: BigInt64Array.from(axes.map(BigInt)),
})

/** One node reading x (and the named initializers) and writing y; a Relu after it when `inner`, so it is not the final op. */
function node(
  op: string,
  shape: number[],
  {
    attributes = {},
    opset = 13,
    extra = [],
    initializers = [],
    inner = false,
  }: {
    attributes?: Record<string, AttributeSpec>
    opset?: number
    extra?: string[]
    initializers?: (TensorSpec & { name: string })[]
    inner?: boolean
  } = {},
): BuildModelParameters {
  return {
    name: op,
    opset,
    inputs: [{ name: 'x', shape }],
    outputs: [{ name: 'y' }],
    initializers,
    nodes: [
      { op, name: op.toLowerCase(), inputs: ['x', ...extra], outputs: [inner ? 't' : 'y'], attributes },
      ...(inner ? [{ op: 'Relu', name: 'after', inputs: ['t'], outputs: ['y'] }] : []),
    ],
  }
}

describe('Reduce*', () => {
  const cases: { axes?: number[]; keepdims?: number; noop?: number }[] = [
    { axes: [1] },
    { axes: [0, 2] },
    { axes: [-1], keepdims: 0 },
    {},
    { keepdims: 0 },
    { noop: 1 },
  ]
  it.each(
    ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceSumSquare', 'ReduceL2'].flatMap((op) =>
      [13, 18].flatMap((opset) =>
        cases
          // noop_with_empty_axes came with the axes input (opset 13 for ReduceSum, 18 for the others).
          .filter((c) => !c.noop || op === 'ReduceSum' || opset >= 18)
          .map((c, i) => [`${op} opset ${opset} ${JSON.stringify(c)}`, op, opset, c, i] as const),
      ),
    ),
  )('%s equals onnxruntime', async (_, op, opset, c, seed) => {
    // Axes are an input from opset 13 for ReduceSum, from 18 for the others.
    const asInput = op === 'ReduceSum' ? true : opset >= 18
    const attributes: Record<string, AttributeSpec> = {}
    if (c.keepdims !== undefined) attributes.keepdims = { int: c.keepdims }
    if (c.noop !== undefined) attributes.noop_with_empty_axes = { int: c.noop }
    if (c.axes && !asInput) attributes.axes = { ints: c.axes }
    const graph = await agrees(
      node(op, [2, 3, 4], {
        attributes,
        opset,
        extra: c.axes && asInput ? ['axes'] : [],
        initializers: c.axes && asInput ? [axesInput(c.axes)] : [],
        inner: true,
      }),
      700 + seed,
    )
    // ReduceMin is −max(−x): the negation is an affine step before the max.
    const first: Record<string, string> = { ReduceMax: 'max', ReduceSumSquare: 'mul', ReduceL2: 'mul' }
    if (!c.noop) expect(kinds(graph)[0]).toBe(first[op] ?? 'affine')
    if (!c.noop && op === 'ReduceMin') expect(kinds(graph)[1]).toBe('max')
  })

  it('a reduction of a constant folds', async () => {
    const graph = await agrees(
      {
        name: 'c',
        inputs: [{ name: 'x', shape: [2] }],
        outputs: [{ name: 'y' }],
        initializers: [{ name: 'k', dims: [2, 2], data: Float32Array.of(1, 5, -3, 2) }],
        nodes: [
          {
            op: 'ReduceMax',
            name: 'm',
            inputs: ['k'],
            outputs: ['km'],
            attributes: { axes: { ints: [0] }, keepdims: { int: 0 } },
          },
          { op: 'Add', name: 'add', inputs: ['x', 'km'], outputs: ['y'] },
        ],
      },
      720,
    )
    expect(kinds(graph)).toEqual(['affine'])
  })
})

describe('Div, Reciprocal, Sqrt, Pow', () => {
  const two = (a: string, b: string, shapeA: number[], shapeB: number[]): BuildModelParameters => ({
    name: 'div',
    inputs: [
      { name: 'a', shape: shapeA },
      { name: 'b', shape: shapeB },
    ],
    outputs: [{ name: 'y' }],
    nodes: [
      { op: 'Exp', name: 'pos', inputs: ['b'], outputs: ['eb'] },
      { op: 'Div', name: 'div', inputs: [a, b === 'b' ? 'eb' : b], outputs: ['y'] },
    ],
  })

  it('Div by a tensor, broadcast: one float div step reading both', async () => {
    const graph = await agrees(two('a', 'b', [2, 3], [2, 1]), 730)
    expect(kinds(graph)).toEqual(['unary', 'div'])
  })

  it('Div of a tensor by itself reads it once', async () => {
    const graph = await agrees(
      {
        name: 'self',
        inputs: [{ name: 'x', shape: [4] }],
        outputs: [{ name: 'y' }],
        nodes: [
          { op: 'Exp', name: 'e', inputs: ['x'], outputs: ['e'] },
          { op: 'Div', name: 'div', inputs: ['e', 'e'], outputs: ['y'] },
        ],
      },
      731,
    )
    const div = graph.steps[1].op
    expect(div.kind === 'div' && div.inputs).toEqual([graph.steps[0].id])
  })

  it('Div by a constant stays affine; a constant divided by a tensor is a reciprocal then an affine scale', async () => {
    const byConst = await agrees(
      node('Div', [2, 3], {
        extra: ['k'],
        initializers: [{ name: 'k', dims: [3], data: Float32Array.of(2, -4, 0.5) }],
      }),
      732,
    )
    expect(kinds(byConst)).toEqual(['affine'])
    const constBy = await agrees(
      {
        name: 'cdiv',
        inputs: [{ name: 'x', shape: [2, 3] }],
        outputs: [{ name: 'y' }],
        initializers: [{ name: 'k', dims: [3], data: Float32Array.of(2, -4, 0.5) }],
        nodes: [
          { op: 'Exp', name: 'e', inputs: ['x'], outputs: ['e'] },
          { op: 'Div', name: 'div', inputs: ['k', 'e'], outputs: ['y'] },
        ],
      },
      733,
    )
    expect(kinds(constBy)).toEqual(['unary', 'div', 'affine'])
  })

  it('refuses a division by a constant 0', () => {
    const bytes = buildModel(
      node('Div', [2], { extra: ['k'], initializers: [{ name: 'k', dims: [], data: Float32Array.of(0) }] }),
    )
    expect(() => lowerOnnx(parseOnnx(bytes))).toThrow(LoweringError)
  })

  it.each([
    ['Reciprocal', ['div']],
    ['Sqrt', ['sqrt']],
  ] as const)('%s of a positive input', async (op, steps) => {
    const graph = await agrees(oneNode(op, [2, 5]), 740, 0.25, 4)
    expect(kinds(graph)).toEqual(steps)
  })

  it.each([
    [2, ['mul']],
    [0.5, ['sqrt']],
    [-1, ['div']],
    [-0.5, ['sqrt', 'div']],
    [3, ['unary']],
    [1, []],
  ] as const)('Pow by %d', async (p, steps) => {
    const graph = await agrees(
      node('Pow', [2, 4], {
        extra: ['p'],
        initializers: [{ name: 'p', dims: [], data: Float32Array.of(p) }],
        inner: true,
      }),
      750,
      0.25,
      3,
    )
    expect(kinds(graph).slice(0, steps.length)).toEqual(steps)
  })

  it('refuses an exponent that is not one value', () => {
    const bytes = buildModel(
      node('Pow', [2], { extra: ['p'], initializers: [{ name: 'p', dims: [2], data: Float32Array.of(2, 3) }] }),
    )
    expect(() => lowerOnnx(parseOnnx(bytes))).toThrow(/exponent must be one value/)
  })
})

describe('Exp, Log, Erf, Gelu', () => {
  it('erf is within 1e-13 of reference values, odd, and ±1 in the tails', () => {
    const reference: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [3, 0.9999779095030014],
      [2.99, 0.9999764743969194],
      [3.5, 0.9999992569016276],
      [5, 0.9999999999984626],
    ]
    for (const [x, want] of reference) {
      expect(Math.abs(erf(x) - want)).toBeLessThan(1e-13)
      expect(erf(-x)).toBe(-erf(x))
    }
    expect(erf(0)).toBe(0)
    expect(erf(40)).toBe(1)
  })

  it.each([
    ['Exp', {}, 13, -3, 3],
    ['Log', {}, 13, 0.1, 5],
    ['Erf', {}, 13, -4, 4],
    ['Gelu', {}, 20, -5, 5],
    ['Gelu', { approximate: { string: 'tanh' } }, 20, -5, 5],
  ] as const)('%s %j equals onnxruntime: one unary step', async (op, attributes, opset, lo, hi) => {
    const graph = await agrees(oneNode(op, [3, 4], attributes, { opset }), 760, lo, hi)
    expect(kinds(graph)).toEqual(['unary'])
  })

  it('refuses an unknown Gelu approximation', () => {
    const bytes = buildModel(oneNode('Gelu', [2], { approximate: { string: 'fast' } }, { opset: 20 }))
    expect(() => lowerOnnx(parseOnnx(bytes))).toThrow(/approximate must be "none" or "tanh"/)
  })
})

describe('Softmax and LogSoftmax inside the graph', () => {
  const cases = (['Softmax', 'LogSoftmax'] as const).flatMap((op) => [
    { op, opset: 13, axis: undefined },
    { op, opset: 13, axis: 1 },
    { op, opset: 13, axis: 0 },
    { op, opset: 11, axis: undefined },
    { op, opset: 11, axis: 2 },
  ])
  it.each(cases.map((c, i) => [`${c.op} opset ${c.opset} axis ${c.axis ?? 'default'}`, c, i] as const))(
    '%s, followed by a Relu, equals onnxruntime',
    async (_, { op, opset, axis }, seed) => {
      const graph = await agrees(
        node(op, [2, 3, 4], { attributes: axis === undefined ? {} : { axis: { int: axis } }, opset, inner: true }),
        770 + seed,
        -4,
        4,
      )
      // x as an activation (an unbounded clamp), its max, x − max clamped at 0, exp, then the
      // row sum and division (or the log of the row sum).
      expect(kinds(graph).slice(0, 5)).toEqual(['clamp', 'max', 'affine', 'clamp', 'unary'])
      expect(kinds(graph)).toContain(op === 'Softmax' ? 'div' : 'unary')
      expect(graph.outputs[0]).not.toHaveProperty('postprocess')
    },
  )

  it('after a Gemm: the logits are emitted once, read by the max and the subtraction', async () => {
    const r = rng(780)
    const graph = await agrees(
      {
        name: 'gemm-softmax',
        inputs: [{ name: 'x', shape: [2, 6] }],
        outputs: [{ name: 'y' }],
        initializers: [f32(r, 'w', [6, 5]), f32(r, 'b', [5])],
        nodes: [
          { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['z'] },
          { op: 'Softmax', name: 'sm', inputs: ['z'], outputs: ['p'] },
          { op: 'Relu', name: 'relu', inputs: ['p'], outputs: ['y'] },
        ],
      },
      781,
    )
    expect(kinds(graph)).toEqual(['affine', 'clamp', 'max', 'affine', 'clamp', 'unary', 'affine', 'div', 'clamp'])
    // The logits are emitted once and made an activation once (the unbounded clamp, which the
    // quantiser makes their one requantisation); the max and the subtraction read that, not the
    // Gemm's inputs again.
    const logits = graph.steps[1]
    expect(logits.op).toMatchObject({ kind: 'clamp', inputs: [graph.steps[0].id], lo: null, hi: null })
    expect(graph.steps[2].op.inputs).toEqual([logits.id])
    expect(graph.steps[3].op.inputs).toEqual([logits.id, graph.steps[2].id])
  })
})

describe('LayerNormalization', () => {
  it.each([
    [-1, true, [2, 3, 8]],
    [1, true, [2, 3, 4]],
    [-1, false, [4, 6]],
  ] as const)('axis %i, bias %s, shape %j equals onnxruntime', async (axis, withBias, shape) => {
    const r = rng(790)
    const normalised = shape.slice(axis < 0 ? shape.length + axis : axis)
    const graph = await agrees(
      {
        name: 'ln',
        opset: 17,
        inputs: [{ name: 'x', shape: [...shape] }],
        outputs: [{ name: 'y' }],
        initializers: [f32(r, 'gamma', normalised), ...(withBias ? [f32(r, 'beta', normalised)] : [])],
        nodes: [
          {
            op: 'LayerNormalization',
            name: 'ln',
            inputs: ['x', 'gamma', ...(withBias ? ['beta'] : [])],
            outputs: ['y'],
            attributes: { axis: { int: axis }, epsilon: { float: 1e-3 } },
          },
        ],
      },
      791,
    )
    // The mean, x − mean, its square, the variance, + ε, σ, the division, γ and β. The means are
    // steps of their own: folded into x − mean, −1/n would be lost next to 1 − 1/n once quantised.
    expect(kinds(graph)).toEqual(['affine', 'affine', 'mul', 'affine', 'affine', 'sqrt', 'div', 'affine'])
  })

  it('refuses a model that reads the Mean output', () => {
    const bytes = buildModel({
      name: 'ln',
      opset: 17,
      inputs: [{ name: 'x', shape: [2, 4] }],
      outputs: [{ name: 'y' }, { name: 'm' }],
      initializers: [{ name: 'g', dims: [4], data: Float32Array.of(1, 1, 1, 1) }],
      nodes: [{ op: 'LayerNormalization', name: 'ln', inputs: ['x', 'g'], outputs: ['y', 'm'] }],
    })
    expect(() => lowerOnnx(parseOnnx(bytes))).toThrow(/Mean and InvStdDev outputs are not supported/)
  })
})
