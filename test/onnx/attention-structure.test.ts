import { describe, expect, it } from 'vitest'
import { type FloatGraph, executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, type NodeSpec, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { rng } from '../helpers/circuit.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'
import { f32, i64, int, modelOf, node, samples } from './ort-diff.js'

// MatMul and Gemm of two input-dependent tensors (attention's Q·Kᵀ and P·V): one 'mul' step
// holding every product, then an affine sum over k. Float graph against onnxruntime.

const model = (
  inputs: { name: string; shape: number[] }[],
  nodes: NodeSpec[],
  outRank: number,
  initializers: (TensorSpec & { name: string })[] = [],
  opset = 13,
): BuildModelParameters => modelOf(inputs, nodes, outRank, initializers, { opset, name: 'attention' })
const kinds = (g: FloatGraph) => g.steps.map((s) => s.op.kind)

describe('MatMul of two input-dependent tensors', () => {
  it('[3,4] × [4,5]: one mul step of 60 products, then the sum over k', async () => {
    const g = await matchesOnnxruntime(
      model(
        [
          { name: 'a', shape: [3, 4] },
          { name: 'b', shape: [4, 5] },
        ],
        [node('MatMul', ['a', 'b'], ['y'])],
        2,
      ),
      1,
    )
    expect(kinds(g)).toEqual(['mul', 'affine'])
    expect(g.steps[0].shape).toEqual([3, 5, 4])
    const sum = g.steps[1].op
    // Each output is the sum, with weight 1, of its K = 4 products.
    expect(sum.kind === 'affine' && [Array.from(sum.rowPtr.slice(0, 3)), Array.from(new Set(sum.vals))]).toEqual([
      [0, 4, 8],
      [1],
    ])
  })

  it('random batched shapes broadcast as numpy matmul does, 1-D operands included', async () => {
    const r = rng(3)
    for (let t = 0; t < 8; t++) {
      const [M, K, N] = [int(r, 1, 3), int(r, 1, 4), int(r, 1, 3)]
      const batch = Array.from({ length: int(r, 0, 2) }, () => int(r, 1, 3))
      const ba = batch.map((d) => (r() < 0.4 ? 1 : d)).slice(int(r, 0, batch.length))
      const bb = batch.map((d) => (r() < 0.4 ? 1 : d)).slice(int(r, 0, batch.length))
      // t = 0, 1: a 1-D left or right operand (its unit dim is dropped from the result).
      const sa = t === 0 ? [K] : [...ba, M, K]
      const sb = t === 1 ? [K] : [...bb, K, N]
      const outRank = Math.max(sa.length, sb.length) - (t < 2 ? 1 : 0)
      const g = await matchesOnnxruntime(
        model(
          [
            { name: 'a', shape: sa },
            { name: 'b', shape: sb },
          ],
          [node('MatMul', ['a', 'b'], ['y'])],
          outRank,
        ),
        20 + t,
      )
      expect(kinds(g).filter((k) => k === 'mul')).toHaveLength(1)
    }
  })

  it('x·xᵀ reads one tensor twice, the Transpose through the index (no gather step)', async () => {
    const g = await matchesOnnxruntime(
      model(
        [{ name: 'x', shape: [2, 3, 4] }],
        [node('Transpose', ['x'], ['t'], { perm: { ints: [0, 2, 1] } }), node('MatMul', ['x', 't'], ['y'])],
        3,
      ),
      4,
    )
    expect(kinds(g)).toEqual(['mul', 'affine'])
    expect(g.steps[0].op.kind === 'mul' && g.steps[0].op.inputs).toEqual([0])
  })

  it('operands that are not index maps (after a weight MatMul and a Relu) are materialised once', async () => {
    const r = rng(5)
    const g = await matchesOnnxruntime(
      model(
        [{ name: 'x', shape: [3, 4] }],
        [
          node('MatMul', ['x', 'wq'], ['q']),
          node('Relu', ['x'], ['k']),
          node('Transpose', ['k'], ['kt']),
          node('MatMul', ['q', 'kt'], ['y']),
        ],
        2,
        [f32(r, 'wq', [4, 4])],
      ),
      5,
    )
    expect(kinds(g)).toEqual(['clamp', 'affine', 'mul', 'affine'])
  })

  /** x [1, S, H·D] through Q, K, V projections split into H heads, attention without softmax, heads merged, output projection. */
  function multiHead(S: number, H: number, D: number): BuildModelParameters {
    const r = rng(6)
    const E = H * D
    const heads = (src: string, perm: number[]): NodeSpec[] => [
      node('MatMul', ['x', `w${src}`], [`${src}p`]),
      node('Reshape', [`${src}p`, 'split'], [`${src}r`]),
      node('Transpose', [`${src}r`], [src], { perm: { ints: perm } }),
    ]
    return model(
      [{ name: 'x', shape: [1, S, E] }],
      [
        ...heads('q', [0, 2, 1, 3]),
        ...heads('k', [0, 2, 3, 1]),
        ...heads('v', [0, 2, 1, 3]),
        node('MatMul', ['q', 'k'], ['s']),
        node('Mul', ['s', 'scale'], ['ss']),
        node('MatMul', ['ss', 'v'], ['o']),
        node('Transpose', ['o'], ['ot'], { perm: { ints: [0, 2, 1, 3] } }),
        node('Reshape', ['ot', 'merge'], ['om']),
        node('MatMul', ['om', 'wo'], ['y']),
      ],
      3,
      [
        ...['wq', 'wk', 'wv', 'wo'].map((n) => f32(r, n, [E, E], 0.5)),
        i64('split', [1, S, H, D]),
        i64('merge', [1, S, E]),
        { name: 'scale', dims: [], data: Float32Array.of(1 / Math.sqrt(D)) },
      ],
    )
  }

  it('multi-head attention as PyTorch exports it: Reshape → Transpose(0,2,1,3) → Q·Kᵀ, scale, ·V, heads merged, output projection', async () => {
    const [S, H, D] = [3, 2, 4]
    const g = await matchesOnnxruntime(multiHead(S, H, D), 6, { scale: 2 })
    // Q and K projections (emitted when the first product reads them), Q·Kᵀ products, their
    // scaled sum and the V projection (read by the second product), P·V products; the head
    // merge and the output projection compose into the final sum.
    expect(kinds(g)).toEqual(['affine', 'affine', 'mul', 'affine', 'affine', 'mul', 'affine'])
    expect(g.steps[2].shape).toEqual([1, H, S, S, D])
    expect(g.steps[5].shape).toEqual([1, H, S, D, S])
  })

  it('at 16 positions the P·V sum is its own step before the output projection (composed, 16× the terms)', async () => {
    const [S, H, D] = [16, 2, 8]
    const g = await matchesOnnxruntime(multiHead(S, H, D), 7)
    expect(kinds(g)).toEqual(['affine', 'affine', 'mul', 'affine', 'affine', 'mul', 'affine', 'affine'])
    const terms = g.steps.slice(-2).map((st) => (st.op.kind === 'affine' ? st.op.cols.length : 0))
    // The sum: each of the S·H·D outputs reads S products; the projection: each reads H·D sums.
    expect(terms).toEqual([S * H * D * S, S * H * D * H * D])
  })
})

describe('scaled_dot_product_attention(is_causal=True) as torch exports it (opset 14)', () => {
  it('causal mask from Shape → ConstantOfShape → Trilu → Equal → Where(-inf, 0), added to Q·Kᵀ; final Softmax equals onnxruntime', async () => {
    const [S, D] = [4, 3]
    const m: BuildModelParameters = {
      ...model(
        [
          { name: 'q', shape: [1, S, D] },
          { name: 'k', shape: [1, S, D] },
        ],
        [
          node('Shape', ['q'], ['qs']),
          node('Gather', ['qs', 'minus2'], ['L']),
          node('Shape', ['k'], ['ks']),
          node('Gather', ['ks', 'minus2'], ['Sk']),
          node('Concat', ['L', 'Sk'], ['LS'], { axis: { int: 0 } }),
          node('ConstantOfShape', ['LS'], ['ones'], { value: { tensor: { dims: [1], data: Float32Array.of(1) } } }),
          node('Trilu', ['ones'], ['tril'], { upper: { int: 0 } }),
          node('Equal', ['tril', 'zero'], ['hidden']),
          node('Where', ['hidden', 'ninf', 'zero'], ['mask']),
          node('Transpose', ['k'], ['kt'], { perm: { ints: [0, 2, 1] } }),
          node('MatMul', ['q', 'kt'], ['s']),
          node('Mul', ['s', 'scale'], ['ss']),
          node('Add', ['ss', 'mask'], ['masked']),
          node('Softmax', ['masked'], ['y'], { axis: { int: -1 } }),
        ],
        3,
        [
          i64('minus2', [-2]),
          { name: 'zero', dims: [], data: Float32Array.of(0) },
          { name: 'ninf', dims: [], data: Float32Array.of(Number.NEGATIVE_INFINITY) },
          { name: 'scale', dims: [], data: Float32Array.of(1 / Math.sqrt(D)) },
        ],
        14,
      ),
    }
    const bytes = buildModel(m)
    const onnx = parseOnnx(bytes)
    // The final Softmax proven (the default): its steps follow the scores' products and sums.
    const graph = lowerOnnx(onnx)
    expect(kinds(graph).slice(0, 2)).toEqual(['mul', 'affine'])
    expect(kinds(graph)).toContain('div')
    const test = samples(rng(12), graph.inputs, 3, -2, 2)
    const ref = await runOnnxruntime(bytes, onnx.inputs, test)
    test.forEach((sample, k) => {
      const probs = Array.from(executeFloat(graph, sample).get(graph.outputs[0].id)!)
      probs.forEach((p, i) => expect(p).toBeCloseTo(ref[k][0][i], 6))
      // Above the diagonal: weight exactly 0, as onnxruntime's exp(-inf).
      expect(probs.filter((_, i) => i % S > Math.floor(i / S) % S)).toEqual(Array((S * (S - 1)) / 2).fill(0))
    })
  })
})

describe('Einsum', () => {
  const cases: [string, number[][], boolean[]][] = [
    [
      'bhqd,bhkd->bhqk',
      [
        [1, 2, 3, 4],
        [1, 2, 5, 4],
      ],
      [true, true],
    ],
    [
      'ij,jk',
      [
        [2, 3],
        [3, 4],
      ],
      [true, true],
    ],
    [
      'bsd,de->bse',
      [
        [2, 3, 4],
        [4, 5],
      ],
      [true, false],
    ],
    ['i,j->ij', [[3], [4]], [false, true]],
    ['ii->i', [[3, 3]], [true]],
    ['bij->jb', [[2, 3, 4]], [true]],
    ['bij->b', [[2, 3, 4]], [true]],
  ]
  it.each(cases)('%s equals onnxruntime', async (equation, shapes, inputDependent) => {
    const r = rng(13)
    const names = shapes.map((_, i) => `e${i}`)
    const m = model(
      shapes.flatMap((shape, i) => (inputDependent[i] ? [{ name: names[i], shape }] : [])),
      [node('Einsum', names, ['y'], { equation: { string: equation } })],
      equation.includes('->') ? equation.split('->')[1].length : 2,
      shapes.flatMap((shape, i) => (inputDependent[i] ? [] : [f32(r, names[i], shape)])),
      12,
    )
    const g = await matchesOnnxruntime(m, 14)
    expect(kinds(g).filter((k) => k === 'mul')).toHaveLength(
      inputDependent.every((d) => d) && shapes.length === 2 ? 1 : 0,
    )
  })

  it('an ellipsis is a LoweringError naming the node', () => {
    const m = model(
      [{ name: 'x', shape: [2, 3] }],
      [node('Einsum', ['x'], ['y'], { equation: { string: '...i->...' } })],
      1,
    )
    expect(() => lowerOnnx(parseOnnx(buildModel(m)))).toThrow(/node "y" \(Einsum\): equation "...i->...": ellipsis/)
  })
})

describe('Gemm of two input-dependent tensors', () => {
  for (const [transA, transB] of [
    [0, 0],
    [1, 1],
    [0, 1],
  ])
    it(`transA=${transA} transB=${transB}, alpha 0.5, beta 2, C constant then input-dependent`, async () => {
      const r = rng(7 + transA + 2 * transB)
      const [M, K, N] = [3, 4, 2]
      const sa = transA ? [K, M] : [M, K]
      const sb = transB ? [N, K] : [K, N]
      const attributes = {
        transA: { int: transA },
        transB: { int: transB },
        alpha: { float: 0.5 },
        beta: { float: 2 },
      }
      const inputs = [
        { name: 'a', shape: sa },
        { name: 'b', shape: sb },
      ]
      const g = await matchesOnnxruntime(
        model(inputs, [node('Gemm', ['a', 'b', 'c'], ['y'], attributes)], 2, [f32(r, 'c', [N])]),
        8,
      )
      expect(kinds(g)).toEqual(['mul', 'affine'])
      await matchesOnnxruntime(
        model([...inputs, { name: 'c', shape: [M, N] }], [node('Gemm', ['a', 'b', 'c'], ['y'], attributes)], 2),
        9,
      )
    })
})
