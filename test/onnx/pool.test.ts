import { describe, expect, it } from 'vitest'
import { executeFloat } from '../../src/onnx/graph.js'
import { LoweringError, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type AttributeSpec, type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import { f32, int, oneNode, ortRun, samples, worstRelative } from './ort-diff.js'

/**
 * Lowers the model, runs the float graph and onnxruntime on the same float32 inputs, and
 * checks shapes and values. MaxPool picks one of its inputs, so on float32-exact inputs the
 * two agree exactly; fused affine steps before it may differ by float32 rounding (1e-4).
 */
async function agrees(params: BuildModelParameters, seed: number, { exact = true, n = 2 } = {}) {
  const bytes = buildModel(params)
  const graph = lowerOnnx(parseOnnx(bytes))
  const xs = samples(rng(seed), graph.inputs, n).map((s) => s.map((v) => v.map(Math.fround)))
  const reference = await ortRun(bytes, graph.inputs, xs)
  xs.forEach((x, k) => {
    const values = executeFloat(graph, x)
    graph.outputs.forEach((o, j) => {
      const step = graph.steps.find((s) => s.id === o.id)!
      expect(step.shape).toEqual(reference[k][j].dims)
      if (exact) expect(Array.from(values.get(o.id)!)).toEqual(Array.from(reference[k][j].data))
      else expect(worstRelative(values.get(o.id)!, reference[k][j].data)).toBeLessThan(1e-4)
    })
  })
  return graph
}

const AUTO_PADS = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'] as const

/** Random window attributes for `rank` spatial dims; every input dim holds at least one dilated kernel span. */
function randomPool(r: () => number, rank: number, autoPad: string, ceil: boolean, dilate: boolean) {
  const kernel: number[] = [],
    strides: number[] = [],
    dilations: number[] = [],
    begin: number[] = [],
    end: number[] = [],
    spatial: number[] = []
  for (let i = 0; i < rank; i++) {
    const k = int(r, 1, 3),
      d = dilate ? int(r, 1, 2) : 1
    let s: number, n: number
    // onnxruntime refuses SAME_* when its total pad (ceil(n/s) - 1)·s + k - n is negative.
    do {
      s = int(r, 1, 3)
      n = int(r, d * (k - 1) + 1, rank === 3 ? 5 : 8)
    } while (autoPad.startsWith('SAME') && (Math.ceil(n / s) - 1) * s + k - n < 0)
    kernel.push(k)
    strides.push(s)
    dilations.push(d)
    spatial.push(n)
    // onnxruntime requires pads smaller than the kernel.
    begin.push(int(r, 0, k - 1))
    end.push(int(r, 0, k - 1))
  }
  const attributes: Record<string, AttributeSpec> = {
    kernel_shape: { ints: kernel },
    strides: { ints: strides },
    ...(autoPad === 'NOTSET' ? { pads: { ints: [...begin, ...end] } } : { auto_pad: { string: autoPad } }),
    ...(dilate ? { dilations: { ints: dilations } } : {}),
    ...(ceil ? { ceil_mode: { int: 1 } } : {}),
  }
  return { spatial, attributes }
}

describe('MaxPool', () => {
  const cases = [1, 2, 3].flatMap((rank) =>
    AUTO_PADS.flatMap((autoPad) =>
      [false, true].flatMap((ceil) => [false, true].map((dilate) => ({ rank, autoPad, ceil, dilate }))),
    ),
  )
  it.each(
    cases.map(
      (c, i) => [`${c.rank}-D ${c.autoPad}${c.ceil ? ' ceil_mode=1' : ''}${c.dilate ? ' dilated' : ''}`, c, i] as const,
    ),
  )('%s equals onnxruntime exactly', async (_, { rank, autoPad, ceil, dilate }, seed) => {
    const r = rng(300 + seed)
    // Three draws per case: the attributes vary more than one draw shows.
    for (let draw = 0; draw < 3; draw++) {
      const { spatial, attributes } = randomPool(r, rank, autoPad, ceil, dilate)
      const opset = [10, 12, 22][int(r, 0, 2)]
      const graph = await agrees(
        oneNode('MaxPool', [int(r, 1, 2), int(r, 1, 3), ...spatial], attributes, { opset }),
        seed * 10 + draw,
      )
      expect(graph.steps.map((s) => s.op.kind)).toEqual(['max'])
    }
  })

  it.each([1, 8])('opset %i (no dilations, no ceil_mode) equals onnxruntime', async (opset) => {
    await agrees(
      oneNode(
        'MaxPool',
        [1, 2, 5, 6],
        { kernel_shape: { ints: [2, 3] }, strides: { ints: [2, 1] }, pads: { ints: [1, 0, 0, 2] } },
        { opset },
      ),
      40 + opset,
    )
  })

  it('ceil_mode=1 keeps a last window that starts inside the input, padding left out of its row', async () => {
    // in 6, kernel 2, stride 2, pads 1/0: ceil(5/2)+1 = 4 windows (floor mode: 3); the 4th starts at 5 and reads only position 5.
    const graph = await agrees(
      oneNode('MaxPool', [1, 1, 6], {
        kernel_shape: { ints: [2] },
        strides: { ints: [2] },
        pads: { ints: [1, 0] },
        ceil_mode: { int: 1 },
      }),
      50,
    )
    expect(graph.steps[0].shape).toEqual([1, 1, 4])
    const op = graph.steps[0].op
    expect(op.kind === 'max' && Array.from(op.cols.subarray(op.rowPtr[3], op.rowPtr[4]))).toEqual([5])
  })

  it('ceil_mode=1 drops a last window that would start in the end padding', async () => {
    // in 5, kernel 2, stride 2, pads 1/1: ceil(5/2)+1 = 4, but the 4th window starts at 6 − 1 = 5, in the end padding.
    const graph = await agrees(
      oneNode('MaxPool', [1, 1, 5], {
        kernel_shape: { ints: [2] },
        strides: { ints: [2] },
        pads: { ints: [1, 1] },
        ceil_mode: { int: 1 },
      }),
      50,
    )
    expect(graph.steps[0].shape).toEqual([1, 1, 3])
  })

  it('all-negative inputs: padded positions never win', async () => {
    const bytes = buildModel(
      oneNode('MaxPool', [1, 1, 3, 3], { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } }),
    )
    const graph = lowerOnnx(parseOnnx(bytes))
    const x = [Float64Array.from({ length: 9 }, (_, i) => -1 - i)]
    const want = (await ortRun(bytes, graph.inputs, [x]))[0][0].data
    expect(Array.from(executeFloat(graph, x).get(graph.outputs[0].id)!)).toEqual(Array.from(want))
    expect(Math.max(...want)).toBe(-1)
  })

  it('after a Conv (an affine step) and after a Pad (a gather): the input is materialised first', async () => {
    const r = rng(51)
    const graph = await agrees(
      {
        name: 'conv-pad-pool',
        inputs: [{ name: 'x', shape: [1, 2, 6, 6] }],
        outputs: [{ name: 'y', shape: ['n', 'c', 'h', 'w'] }],
        initializers: [
          f32(r, 'w', [3, 2, 3, 3]),
          { name: 'p', dims: [8], data: BigInt64Array.from([0, 0, 1, 1, 0, 0, 1, 1].map(BigInt)) },
        ],
        nodes: [
          { op: 'Conv', name: 'conv', inputs: ['x', 'w'], outputs: ['c'] },
          {
            op: 'MaxPool',
            name: 'pool1',
            inputs: ['c'],
            outputs: ['m'],
            attributes: { kernel_shape: { ints: [2, 2] } },
          },
          { op: 'Pad', name: 'pad', inputs: ['m', 'p'], outputs: ['q'] },
          {
            op: 'MaxPool',
            name: 'pool2',
            inputs: ['q'],
            outputs: ['y'],
            attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] } },
          },
        ],
      },
      51,
      { exact: false },
    )
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'max', 'gather', 'max'])
  })

  it('commutes with a pending increasing map: Transpose, Concat and a positive per-tensor scale stay pending', async () => {
    const s = (name: string, v: number) => ({ name, dims: [], data: Float32Array.of(v) })
    const graph = await agrees(
      {
        name: 'through',
        inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
        outputs: [{ name: 'y', shape: ['n', 'c', 'h', 'w'] }],
        initializers: [s('half', 0.5), s('quarter', 0.25)],
        nodes: [
          { op: 'Transpose', name: 't', inputs: ['x'], outputs: ['t'], attributes: { perm: { ints: [0, 1, 3, 2] } } },
          { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['r'] },
          { op: 'Concat', name: 'cat', inputs: ['t', 'r'], outputs: ['c'], attributes: { axis: { int: 1 } } },
          { op: 'Mul', name: 'mul', inputs: ['c', 'half'], outputs: ['m'] },
          { op: 'Add', name: 'add', inputs: ['m', 'quarter'], outputs: ['a'] },
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['a'],
            outputs: ['p'],
            attributes: { kernel_shape: { ints: [2, 2] }, pads: { ints: [1, 0, 0, 1] } },
          },
          { op: 'Relu', name: 'relu2', inputs: ['p'], outputs: ['y'] },
        ],
      },
      52,
      { exact: false },
    )
    // max over x and relu(x) directly (two operands); 0.5·max + 0.25 is one affine step before the last ReLU.
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['clamp', 'max', 'affine', 'clamp'])
    expect(graph.steps[1].op.inputs).toEqual([0, graph.steps[0].id])
  })

  it('does not commute with a decreasing map (Mul by −1): the map is materialised first', async () => {
    const graph = await agrees(
      {
        name: 'neg',
        inputs: [{ name: 'x', shape: [1, 1, 4, 4] }],
        outputs: [{ name: 'y', shape: ['n', 'c', 'h', 'w'] }],
        initializers: [{ name: 'neg', dims: [], data: Float32Array.of(-1) }],
        nodes: [
          { op: 'Mul', name: 'mul', inputs: ['x', 'neg'], outputs: ['m'] },
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['m'],
            outputs: ['y'],
            attributes: { kernel_shape: { ints: [2, 2] } },
          },
        ],
      },
      53,
    )
    expect(graph.steps.map((st) => st.op.kind)).toEqual(['affine', 'max'])
  })

  it('GlobalMaxPool equals onnxruntime for 1, 2 and 3 spatial dims', async () => {
    for (const shape of [
      [2, 3, 5],
      [1, 2, 3, 4],
      [1, 2, 2, 3, 2],
    ]) {
      const graph = await agrees(oneNode('GlobalMaxPool', shape), shape.length)
      expect(graph.steps.map((s) => s.op.kind)).toEqual(['max'])
    }
  })

  it('folds on constants', () => {
    const bytes = buildModel({
      name: 'const-pool',
      inputs: [{ name: 'x', shape: [1, 1, 2, 2] }],
      outputs: [{ name: 'y', shape: [1, 1, 2, 2] }],
      initializers: [{ name: 'k', dims: [1, 1, 2, 2], data: Float32Array.of(1, -2, 3, 0.5) }],
      nodes: [
        { op: 'MaxPool', name: 'pool', inputs: ['k'], outputs: ['m'], attributes: { kernel_shape: { ints: [2, 2] } } },
        { op: 'Add', name: 'add', inputs: ['x', 'm'], outputs: ['y'] },
      ],
    })
    const graph = lowerOnnx(parseOnnx(bytes))
    const op = graph.steps[0].op
    expect(op.kind === 'affine' && Array.from(op.bias)).toEqual([3, 3, 3, 3])
  })
})

describe('MaxPool refusals', () => {
  const lower = (params: BuildModelParameters) => () => lowerOnnx(parseOnnx(buildModel(params)))

  it('refuses the Indices output, naming the node', () => {
    const params = oneNode('MaxPool', [1, 1, 4, 4], { kernel_shape: { ints: [2, 2] } }, { outputs: ['y', 'indices'] })
    expect(lower(params)).toThrow(LoweringError)
    expect(lower(params)).toThrow(/node "maxpool" \(MaxPool\): the optional Indices output "indices" is not supported/)
  })

  it('accepts an omitted Indices output (empty name)', async () => {
    await agrees(oneNode('MaxPool', [1, 1, 4, 4], { kernel_shape: { ints: [2, 2] } }, { outputs: ['y', ''] }), 60)
  })

  it('refuses an unknown auto_pad', () => {
    const params = oneNode('MaxPool', [1, 1, 4, 4], { kernel_shape: { ints: [2, 2] }, auto_pad: { string: 'SAME' } })
    expect(lower(params)).toThrow(LoweringError)
    expect(lower(params)).toThrow(/unknown auto_pad "SAME"/)
  })

  it('refuses a window that covers only padding', () => {
    // in 2, kernel 2 dilated by 3, pads 1/1: the one window reads positions -1 and 2, both outside.
    const params = oneNode('MaxPool', [1, 1, 2], {
      kernel_shape: { ints: [2] },
      dilations: { ints: [3] },
      pads: { ints: [1, 1] },
    })
    expect(lower(params)).toThrow(LoweringError)
    expect(lower(params)).toThrow(/covers only padding/)
  })

  it('refuses a kernel that does not fit, a missing kernel_shape and ceil_mode=2', () => {
    expect(lower(oneNode('MaxPool', [1, 1, 2, 2], { kernel_shape: { ints: [4, 1] } }))).toThrow(/does not fit/)
    expect(lower(oneNode('MaxPool', [1, 1, 2, 2]))).toThrow(/missing attribute kernel_shape/)
    expect(lower(oneNode('MaxPool', [1, 1, 4, 4], { kernel_shape: { ints: [2, 2] }, ceil_mode: { int: 2 } }))).toThrow(
      /ceil_mode must be 0 or 1/,
    )
  })
})
