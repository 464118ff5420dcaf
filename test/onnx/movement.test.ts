import { describe, expect, it } from 'vitest'
import { LoweringError, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import {
  type AttributeSpec,
  type BuildModelParameters,
  type NodeSpec,
  type TensorSpec,
  buildModel,
} from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1)
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
const i64 = (name: string, values: number[], dims = [values.length]): TensorSpec & { name: string } => ({
  name,
  dims,
  data: BigInt64Array.from(values.map(BigInt)),
})
const randomShape = (r: () => number, rank: number) => Array.from({ length: rank }, () => int(r, 1, 4))

/** Random permutation of 0..n-1 (Fisher–Yates). */
function shuffle(r: () => number, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = int(r, 0, i)
    ;[p[i], p[j]] = [p[j], p[i]]
  }
  return p
}

/** A model reading "x" of `input` shape; onnxruntime infers the output shape (declared with symbolic dims). */
function model(
  input: number[],
  nodes: NodeSpec[],
  {
    initializers = [],
    opset = 13,
    outRank,
  }: { initializers?: (TensorSpec & { name: string })[]; opset?: number; outRank: number },
): BuildModelParameters {
  return {
    name: 'm',
    opset,
    inputs: [{ name: 'x', shape: input }],
    outputs: [{ name: 'y', shape: Array.from({ length: outRank }, (_, i) => `d${i}`) }],
    initializers,
    nodes,
  }
}
const node = (op: string, inputs: string[], attributes?: Record<string, AttributeSpec>, outputs = ['y']): NodeSpec => ({
  op,
  name: op.toLowerCase() + (outputs[0] === 'y' ? '' : `_${outputs[0]}`),
  inputs,
  outputs,
  attributes,
})

const SEEDS = [1, 2, 3, 4, 5, 6]

describe('movement ops equal onnxruntime and lower to at most one gather', () => {
  it.each(SEEDS)('Transpose (seed %i)', async (seed) => {
    const r = rng(seed)
    const s = randomShape(r, int(r, 2, 4))
    const perm = seed % 3 === 0 ? undefined : shuffle(r, s.length)
    const graph = await matchesOnnxruntime(
      model(s, [node('Transpose', ['x'], perm ? { perm: { ints: perm } } : {})], { outRank: s.length }),
      seed,
    )
    expect(graph.steps.every((st) => st.op.kind === 'gather')).toBe(true)
  })

  it.each(SEEDS)(
    'Squeeze and Unsqueeze, axes as inputs (opset 13) and attributes (opset 11) (seed %i)',
    async (seed) => {
      const r = rng(seed)
      const s = [1, int(r, 2, 3), 1, int(r, 2, 3)]
      const opset = seed % 2 ? 13 : 11
      const squeezeAxes = seed % 3 === 0 ? undefined : [-2, 0]
      const unsqueezeAxes = [pick(r, [-4, -3, -2, 0, 1, 2]), 3]
      const axes = (
        name: string,
        v: number[] | undefined,
      ): { inputs: string[]; attributes: Record<string, AttributeSpec>; init: (TensorSpec & { name: string })[] } =>
        !v
          ? { inputs: [], attributes: {}, init: [] }
          : opset >= 13
            ? { inputs: [name], attributes: {}, init: [i64(name, v)] }
            : { inputs: [], attributes: { axes: { ints: v } }, init: [] }
      const sq = axes('sq_axes', squeezeAxes),
        un = axes('un_axes', unsqueezeAxes)
      const graph = await matchesOnnxruntime(
        model(
          s,
          [
            { ...node('Squeeze', ['x', ...sq.inputs], sq.attributes, ['s']) },
            { ...node('Unsqueeze', ['s', ...un.inputs], un.attributes) },
          ],
          { opset, initializers: [...sq.init, ...un.init], outRank: 4 },
        ),
        seed,
      )
      expect(graph.steps).toHaveLength(0)
    },
  )

  it.each([
    ['constant (value input)', 'constant', true],
    ['edge', 'edge', false],
    ['reflect', 'reflect', false],
  ] as const)('Pad %s, including negative pads', async (_, mode, withValue) => {
    const r = rng(21)
    const s = [2, 4, 5]
    const pads = [0, int(r, 0, 3), -1, 0, int(r, 0, 3), 2]
    const inits = [i64('pads', pads), { name: 'v', dims: [], data: Float32Array.of(0.75) }]
    const graph = await matchesOnnxruntime(
      model(s, [node('Pad', ['x', 'pads', ...(withValue ? ['v'] : [])], { mode: { string: mode } })], {
        initializers: inits,
        outRank: 3,
      }),
      21,
    )
    // A non-zero pad value is a bias, so that one is an affine map.
    expect(graph.steps.map((st) => st.op.kind)).toEqual([withValue ? 'affine' : 'gather'])
  })

  it('Pad with attributes (opset 10) and zero fill is a gather with fill', async () => {
    const graph = await matchesOnnxruntime(
      model([3, 4], [node('Pad', ['x'], { pads: { ints: [1, 0, 2, 3] } })], { opset: 10, outRank: 2 }),
      22,
    )
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['gather'])
  })

  it.each(SEEDS)('Slice with negative, out-of-range and backward bounds (seed %i)', async (seed) => {
    const r = rng(30 + seed)
    const s = randomShape(r, 3).map((d) => d + 2)
    const axes = shuffle(r, 3).slice(0, int(r, 1, 3))
    const steps = axes.map(() => (r() < 0.3 ? -int(r, 1, 2) : int(r, 1, 2)))
    const bound = (d: number) => pick(r, [int(r, -d, d), -1000, 1000, 2 ** 62, -(2 ** 62)])
    const starts = axes.map((a) => bound(s[a])),
      ends = axes.map((a) => bound(s[a]))
    const inits = [
      i64('starts', starts),
      i64('ends', ends),
      i64(
        'axes',
        axes.map((a) => (r() < 0.5 ? a - 3 : a)),
      ),
      i64('steps', steps),
    ]
    const graph = await matchesOnnxruntime(
      model(s, [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'])], { initializers: inits, outRank: 3 }),
      seed,
    )
    expect(graph.steps.length).toBeLessThanOrEqual(1)
  })

  it('Slice reversing an axis (x[::-1] as exporters write it: ends = INT64_MIN, step -1)', async () => {
    const inits = [i64('starts', [-1]), i64('ends', [-(2 ** 62)]), i64('axes', [1]), i64('steps', [-1])]
    await matchesOnnxruntime(
      model([2, 5], [node('Slice', ['x', 'starts', 'ends', 'axes', 'steps'])], { initializers: inits, outRank: 2 }),
      8,
    )
  })

  it('Slice with attributes (opset 9)', async () => {
    await matchesOnnxruntime(
      model(
        [4, 5],
        [node('Slice', ['x'], { starts: { ints: [1, -4] }, ends: { ints: [100, -1] }, axes: { ints: [0, 1] } })],
        { opset: 9, outRank: 2 },
      ),
      9,
    )
  })

  it.each([0, 1, -1])('Concat along axis %i of the input, an emitted tensor and a constant', async (axis) => {
    const r = rng(40)
    const c = { name: 'c', dims: [2, 3], data: Float32Array.from({ length: 6 }, () => r()) }
    const graph = await matchesOnnxruntime(
      model([2, 3], [node('Relu', ['x'], {}, ['a']), node('Concat', ['x', 'a', 'c', 'x'], { axis: { int: axis } })], {
        initializers: [c],
        outRank: 2,
      }),
      40,
    )
    // The constant makes rows with a bias: Relu's clamp, then one affine step over both bases.
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['clamp', 'affine'])
    expect(graph.steps[1].op.inputs).toHaveLength(2)
  })

  it('Concat of input-dependent pieces only is a gather over both', async () => {
    const graph = await matchesOnnxruntime(
      model([2, 3], [node('Relu', ['x'], {}, ['a']), node('Concat', ['a', 'x'], { axis: { int: 1 } })], { outRank: 2 }),
      41,
    )
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['clamp', 'gather'])
  })

  it.each(SEEDS)('Gather with constant (negative, multi-dimensional) indices (seed %i)', async (seed) => {
    const r = rng(50 + seed)
    const s = randomShape(r, 3).map((d) => d + 1)
    const axis = int(r, -3, 2)
    const d = s[(axis + 3) % 3]
    const idims = seed % 2 ? [] : [2, 2]
    const indices = Array.from({ length: size(idims) }, () => int(r, -d, d - 1))
    const graph = await matchesOnnxruntime(
      model(s, [node('Gather', ['x', 'idx'], { axis: { int: axis } })], {
        initializers: [i64('idx', indices, idims)],
        outRank: 3 - 1 + idims.length,
      }),
      seed,
    )
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['gather'])
  })
})

describe('constant folding around Shape', () => {
  it('Shape → Gather → Unsqueeze → Concat → Reshape folds to no step at all', async () => {
    const graph = await matchesOnnxruntime(
      model(
        [2, 3, 4],
        [
          node('Shape', ['x'], {}, ['shape']),
          node('Gather', ['shape', 'zero'], { axis: { int: 0 } }, ['n']),
          node('Unsqueeze', ['n', 'axes0'], {}, ['n1']),
          node('Slice', ['shape', 'one', 'two'], {}, ['c1']),
          node('Concat', ['n1', 'c1', 'minus1'], { axis: { int: 0 } }, ['target']),
          node('Cast', ['target'], { to: { int: 7 } }, ['target64']),
          node('Reshape', ['x', 'target64']),
        ],
        {
          initializers: [
            i64('zero', [0], []),
            i64('axes0', [0]),
            i64('one', [1]),
            i64('two', [2]),
            i64('minus1', [-1]),
          ],
          outRank: 3,
        },
      ),
      60,
    )
    expect(graph.steps).toHaveLength(0)
  })

  it('Cast: a constant dimension cast to float scales the input; casting the input to float is the identity', async () => {
    const graph = await matchesOnnxruntime(
      model(
        [2, 5],
        [
          node('Shape', ['x'], { start: { int: -1 } }, ['last']),
          node('Cast', ['last'], { to: { int: 1 } }, ['lastf']),
          node('Cast', ['x'], { to: { int: 1 } }, ['xf']),
          node('Mul', ['xf', 'lastf']),
        ],
        { opset: 15, outRank: 2 },
      ),
      61,
    )
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['affine'])
    expect(graph.steps[0].op.kind === 'affine' && Array.from(new Set(graph.steps[0].op.vals))).toEqual([5])
  })

  it('Cast of an input-dependent value to an integer type is a LoweringError', () => {
    const bytes = buildModel(model([2], [node('Cast', ['x'], { to: { int: 7 } })], { outRank: 1 }))
    expect(() => lowerOnnx(parseOnnx(bytes))).toThrow(LoweringError)
  })

  it('Mul of two input-dependent tensors lowers to a mul step (test/onnx/mul.test.ts has the rest)', () => {
    const bytes = buildModel(model([3], [node('Relu', ['x'], {}, ['a']), node('Mul', ['x', 'a'])], { outRank: 1 }))
    expect(lowerOnnx(parseOnnx(bytes)).steps.map((st) => st.op.kind)).toEqual(['clamp', 'mul'])
  })
})

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]
}
