import { describe, expect, it } from 'vitest'
import { type FloatGraph, executeFloat } from '../../src/onnx/graph.js'
import { LoweringError, lowerOnnx } from '../../src/onnx/lower.js'
import { MASK_FILL, Where, maskedRows } from '../../src/onnx/ops/mask.js'
import { identity } from '../../src/onnx/affine.js'
import type { Sym } from '../../src/onnx/ops/common.js'
import { OnnxParseError, parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { type BuildModelParameters, type NodeSpec, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'
import { f32, i64, node, samples } from './ort-diff.js'

// The structural ops of attention exports: shape subgraphs folded to constants, Expand/Tile/
// Split/Neg/Trilu as index or linear maps, Where with a constant condition (masked_fill).

const bool = (name: string, values: number[], dims: number[]): TensorSpec & { name: string } => ({
  name,
  dims,
  data: Uint8Array.from(values),
  type: 'bool',
})
const scalar = (name: string, v: number): TensorSpec & { name: string } => ({
  name,
  dims: [],
  data: Float32Array.of(v),
})
function model(
  input: number[],
  nodes: NodeSpec[],
  outRank: number,
  initializers: (TensorSpec & { name: string })[] = [],
  { opset = 13, outputs = ['y'] }: { opset?: number; outputs?: string[] } = {},
): BuildModelParameters {
  return {
    name: 'structure',
    opset,
    inputs: [{ name: 'x', shape: input }],
    outputs: outputs.map((name) => ({ name, shape: Array.from({ length: outRank }, (_, i) => `d${i}`) })),
    initializers,
    nodes,
  }
}
const kinds = (g: FloatGraph) => g.steps.map((s) => s.op.kind)
// A 3×3 causal mask, true above the diagonal (the positions masked_fill hides).
const CAUSAL = [0, 1, 1, 0, 0, 1, 0, 0, 0]

describe('index maps: Expand, Tile, Split, Trilu; Neg', () => {
  it('Expand of an activation and of a constant added to it is one gather / one affine', async () => {
    const g = await matchesOnnxruntime(
      model([3, 1], [node('Expand', ['x', 'shape'], ['y'])], 3, [i64('shape', [2, 1, 4])]),
      1,
    )
    expect(kinds(g)).toEqual(['gather'])
    const r = rng(1)
    await matchesOnnxruntime(
      model([2, 3], [node('Expand', ['c', 'shape'], ['e']), node('Add', ['x', 'e'], ['y'])], 2, [
        f32(r, 'c', [3]),
        i64('shape', [2, 1]),
      ]),
      2,
    )
  })

  it('Tile', async () => {
    const g = await matchesOnnxruntime(model([2, 3], [node('Tile', ['x', 'rep'], ['y'])], 2, [i64('rep', [2, 3])]), 3)
    expect(g.steps[0].shape).toEqual([4, 9])
  })

  for (const [name, opset, input, attributes, inputs] of <
    [string, number, number[], NodeSpec['attributes'], string[]][]
  >[
    ['split attribute, opset 11', 11, [2, 5], { axis: { int: 1 }, split: { ints: [1, 4] } }, ['x']],
    ['split input, opset 13', 13, [2, 5], { axis: { int: -1 } }, ['x', 'sizes']],
    ['equal parts, opset 13', 13, [2, 4, 2], { axis: { int: 1 } }, ['x']],
    ['num_outputs not dividing, opset 18', 18, [2, 5], { axis: { int: 1 }, num_outputs: { int: 2 } }, ['x']],
  ])
    it(`Split: ${name}`, async () => {
      const outputs = ['y', 'z']
      const g = await matchesOnnxruntime(
        {
          ...model(input, [node('Split', inputs, outputs, attributes)], 0, [i64('sizes', [2, 3])], { opset }),
          outputs: outputs.map((o) => ({ name: o, shape: input.map((_, i) => `${o}${i}`) })),
        },
        4,
      )
      expect(kinds(g)).toEqual(['gather', 'gather'])
    })

  it('Neg of an activation composes into the affine map; of a constant folds', async () => {
    const g = await matchesOnnxruntime(
      model([2, 3], [node('Neg', ['x'], ['n']), node('Neg', ['c'], ['nc']), node('Add', ['n', 'nc'], ['y'])], 2, [
        f32(rng(5), 'c', [3]),
      ]),
      5,
    )
    expect(kinds(g)).toEqual(['affine'])
  })

  it('Trilu on an activation (a gather with fill 0) and on a constant, upper and lower, with k', async () => {
    for (const [upper, k] of [
      [1, 0],
      [0, -1],
      [1, 1],
    ]) {
      const attributes = { upper: { int: upper } }
      const g = await matchesOnnxruntime(
        model([2, 3, 4], [node('Trilu', ['x', 'k'], ['y'], attributes)], 3, [i64('k', [k], [])], { opset: 14 }),
        6,
      )
      expect(kinds(g)).toEqual(['gather'])
      await matchesOnnxruntime(
        model(
          [3, 3],
          [node('Trilu', ['c', 'k'], ['t'], attributes), node('Mul', ['x', 't'], ['y'])],
          2,
          [f32(rng(6), 'c', [3, 3]), i64('k', [k], [])],
          { opset: 14 },
        ),
        7,
      )
    }
  })
})

describe('shape subgraphs fold to constants', () => {
  it('Shape → Gather → Unsqueeze → Concat → Reshape, ConstantOfShape, Range, Cast, Equal → Where (as PyTorch writes a view)', async () => {
    const m = model(
      [2, 3, 4],
      [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'zero'], ['b']),
        node('Unsqueeze', ['b', 'axes0'], ['bu']),
        // The -1 of view(b, -1) as torch writes it: Where(Equal(t, -1), ones, t) around an Expand.
        node('Concat', ['bu', 'minus1'], ['t'], { axis: { int: 0 } }),
        node('ConstantOfShape', ['two'], ['ones'], {
          value: { tensor: { dims: [1], data: BigInt64Array.of(1n) } },
        }),
        node('Equal', ['t', 'minus1b'], ['eq']),
        node('Where', ['eq', 'ones', 't'], ['t2']),
        node('Reshape', ['x', 't'], ['flat']),
        node('Expand', ['flat', 't2'], ['e']),
        // Range(0, 12) cast to float, added to every row.
        node('Gather', ['s', 'one'], ['d1']),
        node('Gather', ['s', 'two0'], ['d2']),
        node('Mul', ['d1', 'd2'], ['n']),
        node('Range', ['zero', 'n', 'one'], ['rng']),
        node('Cast', ['rng'], ['rf'], { to: { int: 1 } }),
        node('Add', ['e', 'rf'], ['y']),
      ],
      2,
      [
        i64('zero', [0], []),
        i64('one', [1], []),
        i64('two0', [2], []),
        i64('axes0', [0]),
        i64('minus1', [-1]),
        i64('minus1b', [-1, -1]),
        i64('two', [2]),
      ],
    )
    const g = await matchesOnnxruntime(m, 8)
    expect(kinds(g)).toEqual(['affine'])
  })

  it('Less/Greater/Not/And/Or/Xor/LessOrEqual/GreaterOrEqual on constants pick through Where; NonZero gathers', async () => {
    const r = rng(9)
    const m = model(
      [2, 3],
      [
        node('Less', ['a', 'b'], ['lt']),
        node('Greater', ['a', 'b'], ['gt']),
        node('Not', ['lt'], ['nlt']),
        node('And', ['nlt', 'gt'], ['c1']),
        node('LessOrEqual', ['a', 'zero'], ['le']),
        node('GreaterOrEqual', ['a', 'zero'], ['ge']),
        node('Xor', ['le', 'ge'], ['c2']),
        node('Or', ['c1', 'c2'], ['c']),
        node('Where', ['c', 'x', 'neg'], ['w']),
        node('NonZero', ['pick'], ['nz']),
        node('Squeeze', ['nz', 'axes0'], ['idx']),
        node('Gather', ['w', 'idx'], ['y'], { axis: { int: 1 } }),
      ],
      2,
      [
        f32(r, 'a', [2, 3]),
        f32(r, 'b', [3]),
        { name: 'zero', dims: [], data: Float32Array.of(0) },
        f32(r, 'neg', [1]),
        bool('pick', [1, 0, 1], [3]),
        i64('axes0', [0]),
      ],
    )
    const g = await matchesOnnxruntime(m, 9)
    expect(g.steps[g.steps.length - 1].shape).toEqual([2, 2])
  })
})

describe('constant-only folds of position and rotary tables', () => {
  it('Range → Cast → Sin/Cos (a rotary table) scaling x; CumSum, Mod, Floor, Ceil, Size as offsets', async () => {
    const m = model(
      [4, 2],
      [
        node('Size', ['x'], ['n']),
        node('Range', ['zerof', 'four', 'onef'], ['pos']),
        node('Unsqueeze', ['pos', 'axes1'], ['posu']),
        node('Mul', ['posu', 'freq'], ['ang']),
        node('Sin', ['ang'], ['sin']),
        node('Cos', ['ang'], ['cos']),
        node('Mul', ['x', 'sin'], ['xs']),
        node('Mul', ['x', 'cos'], ['xc']),
        node('Add', ['xs', 'xc'], ['rot']),
        node('CumSum', ['ones', 'axis0'], ['cs'], { exclusive: { int: 1 }, reverse: { int: 1 } }),
        node('Mod', ['cs', 'n'], ['m8']),
        node('Mod', ['m8', 'three'], ['md']),
        node('Cast', ['md'], ['mdf'], { to: { int: 1 } }),
        node('Floor', ['halfs'], ['fl']),
        node('Ceil', ['halfs'], ['ce']),
        node('Add', ['rot', 'mdf'], ['r1']),
        node('Add', ['r1', 'fl'], ['r2']),
        node('Add', ['r2', 'ce'], ['y']),
      ],
      2,
      [
        { name: 'zerof', dims: [], data: Float32Array.of(0) },
        { name: 'four', dims: [], data: Float32Array.of(4) },
        { name: 'onef', dims: [], data: Float32Array.of(1) },
        i64('axes1', [1]),
        { name: 'freq', dims: [2], data: Float32Array.of(1, 0.01) },
        i64('ones', [1, 1, 1, 1], [4, 1]),
        i64('axis0', [0], []),
        i64('three', [3], []),
        { name: 'halfs', dims: [2], data: Float32Array.of(-1.5, 2.5) },
      ],
    )
    const g = await matchesOnnxruntime(m, 12)
    expect(kinds(g)).toEqual(['affine'])
  })
})

describe('Where with a constant condition: masked_fill', () => {
  it('picks from two activations (one gather)', async () => {
    const m: BuildModelParameters = {
      ...model([3, 3], [node('Where', ['m', 'x', 'r'], ['y'])], 2, [bool('m', CAUSAL, [3, 3])]),
    }
    m.nodes.unshift(node('Relu', ['x'], ['r']))
    const g = await matchesOnnxruntime(m, 10)
    expect(kinds(g)).toEqual(['clamp', 'gather'])
  })

  for (const [name, fill] of [
    ['-inf', Number.NEGATIVE_INFINITY],
    ['-1e9', -1e9],
    ["float32's lowest", -3.4028234663852886e38],
  ] as const)
    it(`a ${name} fill becomes the finite MASK_FILL, whose softmax weight is 0 as onnxruntime's`, async () => {
      const m = model(
        [2, 3, 3],
        [node('Where', ['m', 'fill', 'x'], ['y']), node('Softmax', ['y'], ['p'], { axis: { int: -1 } })],
        3,
        [bool('m', CAUSAL, [3, 3]), scalar('fill', fill)],
        { outputs: ['y', 'p'] },
      )
      const bytes = buildModel(m)
      const onnx = parseOnnx(bytes)
      const graph = lowerOnnx(onnx)
      const test = samples(rng(11), graph.inputs, 2, -3, 3)
      const ref = await runOnnxruntime(bytes, onnx.inputs, test)
      test.forEach((s, k) => {
        const scores = executeFloat(graph, s).get(graph.outputs[0].id)!
        expect(scores.every(Number.isFinite)).toBe(true)
        const probs = softmaxRows(scores, 3)
        for (let i = 0; i < scores.length; i++) {
          if (CAUSAL[i % 9]) expect(scores[i]).toBe(MASK_FILL)
          else expect(scores[i]).toBeCloseTo(ref[k][0][i], 5)
          expect(probs[i]).toBeCloseTo(ref[k][1][i], 6)
          if (CAUSAL[i % 9]) expect(probs[i]).toBe(0)
        }
      })
    })

  it('an additive -inf mask (scores + triu(-inf)) meets the activation as MASK_FILL too', () => {
    const mask = CAUSAL.map((c) => (c ? Number.NEGATIVE_INFINITY : 0))
    const m = model([3, 3], [node('Add', ['x', 'mask'], ['y'])], 2, [
      { name: 'mask', dims: [3, 3], data: Float32Array.from(mask) },
    ])
    const graph = lowerOnnx(parseOnnx(buildModel(m)))
    const y = executeFloat(graph, [new Float64Array(9).fill(0.5)]).get(graph.outputs[0].id)!
    expect(Array.from(y)).toEqual(CAUSAL.map((c) => (c ? MASK_FILL + 0.5 : 0.5)))
  })

  it('maskedRows finds the masked positions of a Where fill and of an additive mask, none of plain scores', () => {
    const ctx = { node: { name: 'w', opType: 'Where' } } as Parameters<typeof Where>[0]
    const x: Sym = { kind: 'affine', a: identity(0, [3, 3]) }
    const cond: Sym = { kind: 'const', dims: [3, 3], data: Float64Array.from(CAUSAL) }
    const fill: Sym = { kind: 'const', dims: [], data: Float64Array.of(Number.NEGATIVE_INFINITY) }
    const [w] = Where(ctx, [cond, fill, x])
    expect(Array.from(maskedRows(w)!)).toEqual(CAUSAL)
    const added = {
      kind: 'affine',
      a: { ...identity(0, [3, 3]), bias: Float64Array.from(CAUSAL, (c) => (c ? MASK_FILL + 3 : 3)) },
    } as const
    expect(Array.from(maskedRows(added)!)).toEqual(CAUSAL)
    expect(maskedRows(x)).toBeNull()
  })

  it('an infinity anywhere but a mask is a LoweringError; NaN and +inf are still refused at parse', () => {
    const w = { name: 'w', dims: [2, 2], data: Float32Array.of(1, Number.NEGATIVE_INFINITY, 0, 1) }
    const m = model([1, 2], [node('MatMul', ['x', 'w'], ['h']), node('Relu', ['h'], ['y'])], 2, [w])
    expect(() => lowerOnnx(parseOnnx(buildModel(m)))).toThrow(
      /node "y" \(Relu\): an infinite constant \(-inf\) reaches a linear step/,
    )
    const nan = model([1, 2], [node('MatMul', ['x', 'w'], ['y'])], 2, [
      { ...w, data: Float32Array.of(1, Number.NaN, 0, 1) },
    ])
    expect(() => parseOnnx(buildModel(nan))).toThrow(OnnxParseError)
    const inf = model([1, 2], [node('MatMul', ['x', 'w'], ['y'])], 2, [
      { ...w, data: Float32Array.of(1, Number.POSITIVE_INFINITY, 0, 1) },
    ])
    expect(() => parseOnnx(buildModel(inf))).toThrow(/tensor "w": element 1 is Infinity/)
  })

  it('Clip with a -inf min (now past the parser) is open below', async () => {
    const m = model([2, 3], [node('Clip', ['x', 'lo', 'hi'], ['y'])], 2, [
      scalar('lo', Number.NEGATIVE_INFINITY),
      scalar('hi', 0.25),
    ])
    const g = await matchesOnnxruntime(m, 13)
    expect(g.steps.map((st) => st.op.kind === 'clamp' && [st.op.lo, st.op.hi])).toEqual([[null, 0.25]])
  })

  it('a condition that depends on the input is a LoweringError naming the node', () => {
    const m: BuildModelParameters = {
      ...model([3], [node('Where', ['c', 'x', 'zero'], ['y'])], 1, [scalar('zero', 0)]),
    }
    m.inputs.push({ name: 'c', shape: [3], type: 'bool' })
    expect(() => lowerOnnx(parseOnnx(buildModel(m)))).toThrow(LoweringError)
    expect(() => lowerOnnx(parseOnnx(buildModel(m)))).toThrow(
      /node "y" \(Where\): the condition depends on the model input/,
    )
    const viaGreater = model(
      [3],
      [node('Greater', ['x', 'zero'], ['c']), node('Where', ['c', 'x', 'zero'], ['y'])],
      1,
      [scalar('zero', 0)],
    )
    expect(() => lowerOnnx(parseOnnx(buildModel(viaGreater)))).toThrow(
      /node "c" \(Greater\): input A depends on the model input/,
    )
  })
})

function softmaxRows(v: Float64Array, n: number): Float64Array {
  const out = new Float64Array(v.length)
  for (let r = 0; r < v.length / n; r++) {
    const row = v.subarray(r * n, r * n + n)
    const max = Math.max(...row)
    const e = Array.from(row, (x) => Math.exp(x - max))
    const s = e.reduce((a, b) => a + b, 0)
    e.forEach((x, i) => {
      out[r * n + i] = x / s
    })
  }
  return out
}
