import { afterAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import { LoweringError, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import {
  type AttributeSpec,
  type BuildModelParameters,
  type NodeSpec,
  type TensorSpec,
  buildModel,
} from '../../src/onnx/write.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, rng } from '../helpers/circuit.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'
import { violated } from '../helpers/r1cs.js'

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1)
const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1))
const f32 = (r: () => number, name: string, dims: number[]): TensorSpec & { name: string } => ({
  name,
  dims,
  data: Float32Array.from({ length: size(dims) }, () => r() * 2 - 1),
})

interface OneNode {
  op: string
  input: number[]
  output: number[]
  attributes?: Record<string, AttributeSpec>
  initializers?: (TensorSpec & { name: string })[]
  /** Extra node inputs after the data input (initializer names, or '' for omitted ones). */
  extra?: string[]
  opset?: number
}

/** A model of one node reading input "x" (and initializers) and writing "y". */
function oneNode({
  op,
  input,
  output,
  attributes,
  initializers = [],
  extra = [],
  opset,
}: OneNode): BuildModelParameters {
  return {
    name: op,
    opset,
    inputs: [{ name: 'x', shape: input }],
    outputs: [{ name: 'y', shape: output }],
    initializers,
    nodes: [{ op, name: op.toLowerCase(), inputs: ['x', ...extra], outputs: ['y'], attributes }],
  }
}

/** Output spatial size of a window op, the ONNX way (floor mode); null when the window does not fit. */
function outSize(
  input: number,
  k: number,
  s: number,
  d: number,
  begin: number,
  end: number,
  autoPad: string,
): number | null {
  if (autoPad.startsWith('SAME')) return Math.ceil(input / s)
  const span = d * (k - 1) + 1
  const pad = autoPad === 'VALID' ? 0 : begin + end
  return input + pad >= span ? Math.floor((input + pad - span) / s) + 1 : null
}

interface WindowCase {
  H: number
  W: number
  kernel: number[]
  strides: number[]
  dilations: number[]
  pads: number[]
  out: number[]
}

function randomWindow(r: () => number, autoPad: string, dilate: boolean): WindowCase {
  for (;;) {
    const H = int(r, 3, 7),
      W = int(r, 3, 7)
    const kernel = [int(r, 1, 3), int(r, 1, 3)],
      strides = [int(r, 1, 2), int(r, 1, 2)]
    const dilations = dilate ? [int(r, 1, 2), int(r, 1, 2)] : [1, 1]
    // Pads smaller than the kernel, as onnxruntime's pools require.
    const pads = [0, 1, 2, 3].map((i) => int(r, 0, kernel[i % 2] - 1))
    const out = [0, 1].map((i) =>
      outSize([H, W][i], kernel[i], strides[i], dilations[i], pads[i], pads[i + 2], autoPad),
    )
    if (out.every((o): o is number => o !== null && o > 0)) return { H, W, kernel, strides, dilations, pads, out }
  }
}

function windowAttributes(c: WindowCase, autoPad: string, dilate: boolean): Record<string, AttributeSpec> {
  return {
    ...(autoPad === 'NOTSET' ? { pads: { ints: c.pads } } : { auto_pad: { string: autoPad } }),
    ...(dilate ? { dilations: { ints: c.dilations } } : {}),
    strides: { ints: c.strides },
  }
}

const AUTO_PADS = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'] as const
const GROUPS = ['dense', 'grouped', 'depthwise'] as const

describe('Conv', () => {
  const cases = AUTO_PADS.flatMap((autoPad) =>
    GROUPS.flatMap((groups) => [true, false].map((bias) => ({ autoPad, groups, bias }))),
  )
  it.each(cases.map((c, i) => [`${c.autoPad} ${c.groups}${c.bias ? ' +bias' : ''}`, c, i] as const))(
    '%s equals onnxruntime',
    async (_, { autoPad, groups, bias }, seed) => {
      const r = rng(100 + seed)
      // onnxruntime refuses dilations with SAME_* auto_pad, so that pairing has no yardstick.
      const dilate = !autoPad.startsWith('SAME')
      const w = randomWindow(r, autoPad, dilate)
      const N = int(r, 1, 2)
      const [C, group, M] =
        groups === 'dense'
          ? [int(r, 1, 3), 1, int(r, 1, 3)]
          : groups === 'grouped'
            ? [4, 2, 2 * int(r, 1, 2)]
            : [3, 3, 3 * int(r, 1, 2)]
      const weight = f32(r, 'w', [M, C / group, ...w.kernel])
      const b = f32(r, 'b', [M])
      const graph = await matchesOnnxruntime(
        oneNode({
          op: 'Conv',
          input: [N, C, w.H, w.W],
          output: [N, M, ...w.out],
          initializers: bias ? [weight, b] : [weight],
          extra: bias ? ['w', 'b'] : ['w'],
          attributes: {
            ...windowAttributes(w, autoPad, dilate),
            group: { int: group },
            kernel_shape: { ints: w.kernel },
          },
        }),
        seed,
      )
      expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine'])
    },
  )

  it('uses the ONNX defaults: strides, dilations 1, no pads, group 1, kernel from the weight', async () => {
    const r = rng(3)
    await matchesOnnxruntime(
      oneNode({
        op: 'Conv',
        input: [1, 2, 5, 4],
        output: [1, 3, 3, 3],
        initializers: [f32(r, 'w', [3, 2, 3, 2])],
        extra: ['w'],
      }),
      3,
    )
  })

  it('names the node when the weight is input-dependent', () => {
    const params: BuildModelParameters = {
      name: 'bad',
      inputs: [
        { name: 'x', shape: [1, 1, 3, 3] },
        { name: 'w', shape: [1, 1, 2, 2] },
      ],
      outputs: [{ name: 'y', shape: [1, 1, 2, 2] }],
      nodes: [{ op: 'Conv', name: 'conv_w', inputs: ['x', 'w'], outputs: ['y'] }],
    }
    expect(() => lowerOnnx(parseOnnx(buildModel(params)))).toThrow(LoweringError)
    expect(() => lowerOnnx(parseOnnx(buildModel(params)))).toThrow(/conv_w.*Conv.*weight W must be a constant/)
  })
})

describe('pools', () => {
  const cases = AUTO_PADS.flatMap((autoPad) => [0, 1].map((countIncludePad) => ({ autoPad, countIncludePad })))
  it.each(cases.map((c, i) => [`AveragePool ${c.autoPad} count_include_pad=${c.countIncludePad}`, c, i] as const))(
    '%s equals onnxruntime',
    async (_, { autoPad, countIncludePad }, seed) => {
      const r = rng(200 + seed)
      const w = randomWindow(r, autoPad, false)
      const C = int(r, 1, 3)
      const graph = await matchesOnnxruntime(
        oneNode({
          op: 'AveragePool',
          input: [1, C, w.H, w.W],
          output: [1, C, ...w.out],
          attributes: {
            ...windowAttributes(w, autoPad, false),
            kernel_shape: { ints: w.kernel },
            count_include_pad: { int: countIncludePad },
          },
        }),
        seed,
      )
      // One step: an affine map, or a gather for a 1×1 kernel.
      expect(graph.steps).toHaveLength(1)
    },
  )

  it('GlobalAveragePool equals onnxruntime', async () => {
    await matchesOnnxruntime(oneNode({ op: 'GlobalAveragePool', input: [2, 3, 4, 5], output: [2, 3, 1, 1] }), 5)
  })

  it('refuses ceil_mode=1 with a LoweringError', () => {
    const bytes = buildModel(
      oneNode({
        op: 'AveragePool',
        input: [1, 1, 5, 5],
        output: [1, 1, 3, 3],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] }, ceil_mode: { int: 1 } },
      }),
    )
    expect(() => lowerOnnx(parseOnnx(bytes))).toThrow(LoweringError)
  })
})

/** Conv → BatchNormalization (→ activation): the shape of a folded CNN block. */
function convBn(r: () => number, activation: NodeSpec[], opset = 13): BuildModelParameters {
  const C = 3
  const positive = (name: string) => ({ name, dims: [C], data: Float32Array.from({ length: C }, () => 0.2 + r()) })
  return {
    name: 'conv-bn',
    opset,
    inputs: [{ name: 'x', shape: [1, 2, 5, 5] }],
    outputs: [{ name: 'y', shape: [1, C, 5, 5] }],
    initializers: [
      f32(r, 'w', [C, 2, 3, 3]),
      f32(r, 'b', [C]),
      positive('scale'),
      f32(r, 'shift', [C]),
      f32(r, 'mean', [C]),
      positive('var'),
    ],
    nodes: [
      {
        op: 'Conv',
        name: 'conv',
        inputs: ['x', 'w', 'b'],
        outputs: ['c'],
        attributes: { pads: { ints: [1, 1, 1, 1] } },
      },
      {
        op: 'BatchNormalization',
        name: 'bn',
        inputs: ['c', 'scale', 'shift', 'mean', 'var'],
        outputs: [activation.length ? 'n' : 'y'],
        attributes: { epsilon: { float: 1e-3 } },
      },
      ...activation,
    ],
  }
}

describe('BatchNormalization and Clip', () => {
  it('BatchNormalization folds into the preceding Conv: one affine step', async () => {
    const graph = await matchesOnnxruntime(convBn(rng(8), []), 8)
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine'])
    expect(graph.steps[0].origin).toBe('conv+bn')
  })

  it('BatchNormalization alone, with the default epsilon', async () => {
    const r = rng(9)
    const v = { name: 'var', dims: [4], data: Float32Array.from({ length: 4 }, () => r()) }
    await matchesOnnxruntime(
      oneNode({
        op: 'BatchNormalization',
        input: [1, 4, 3, 2],
        output: [1, 4, 3, 2],
        initializers: [f32(r, 's', [4]), f32(r, 'b', [4]), f32(r, 'm', [4]), v],
        extra: ['s', 'b', 'm', 'var'],
      }),
      9,
    )
  })

  it('Conv → BN → Clip(0, 6) (ReLU6) is one affine and one clamp step', async () => {
    const r = rng(10)
    const params = convBn(r, [{ op: 'Clip', name: 'relu6', inputs: ['n', 'lo', 'hi'], outputs: ['y'] }])
    params.initializers!.push(
      { name: 'lo', dims: [], data: Float32Array.of(0) },
      { name: 'hi', dims: [], data: Float32Array.of(6) },
    )
    const graph = await matchesOnnxruntime(params, 10, { scale: 8 })
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp'])
    expect(graph.steps[1].op).toMatchObject({ lo: 0, hi: 6 })
  })

  it.each([
    ['min and max inputs', 13, ['lo', 'hi'], {}],
    ['min only', 13, ['lo'], {}],
    ['max only', 13, ['', 'hi'], {}],
    ['attributes (opset 6)', 6, [], { min: { float: -0.3 }, max: { float: 0.4 } }],
    ['no bounds', 13, [], {}],
  ] as const)('Clip with %s equals onnxruntime', async (_, opset, extra, attributes) => {
    const initializers = [
      { name: 'lo', dims: [], data: Float32Array.of(-0.3) },
      { name: 'hi', dims: [], data: Float32Array.of(0.4) },
    ].filter((t) => extra.includes(t.name as never))
    await matchesOnnxruntime(
      oneNode({ op: 'Clip', input: [2, 5], output: [2, 5], opset, initializers, extra: [...extra], attributes }),
      11,
    )
  })
})

describe('a small CNN end to end', () => {
  afterAll(shutdown)
  it('Conv → BN → Clip → AveragePool → Gemm: float graph equals onnxruntime, circuit witness equals the executor', async () => {
    const r = rng(12)
    const params = convBn(r, [
      { op: 'Clip', name: 'relu6', inputs: ['n', 'lo', 'hi'], outputs: ['a'] },
      {
        op: 'AveragePool',
        name: 'pool',
        inputs: ['a'],
        outputs: ['p'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'Flatten', name: 'flat', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'fw', 'fb'], outputs: ['y'], attributes: { transB: { int: 1 } } },
    ])
    // A 1×1×6×6 input and 2 channels keep the circuit small.
    params.inputs = [{ name: 'x', shape: [1, 1, 6, 6] }]
    params.outputs = [{ name: 'y', shape: [1, 3] }]
    params.initializers = [
      f32(r, 'w', [2, 1, 3, 3]),
      f32(r, 'b', [2]),
      { name: 'scale', dims: [2], data: Float32Array.of(0.8, 1.3) },
      f32(r, 'shift', [2]),
      f32(r, 'mean', [2]),
      { name: 'var', dims: [2], data: Float32Array.of(0.5, 1.5) },
      { name: 'lo', dims: [], data: Float32Array.of(0) },
      { name: 'hi', dims: [], data: Float32Array.of(6) },
      f32(r, 'fw', [3, 2 * 3 * 3]),
      f32(r, 'fb', [3]),
    ]
    const graph = await matchesOnnxruntime(params, 12)
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp', 'affine'])
    const sample = () => graph.inputs.map((i) => Float64Array.from({ length: size(i.shape) }, () => r() * 2 - 1))
    const ir = quantize(graph, Array.from({ length: 16 }, sample))
    const circuit = await buildCircuit(ir)
    for (let k = 0; k < 4; k++) {
      const x = quantizeInputs(
        ir.inputs,
        sample().map((v) => v.map((e) => e * 0.9)),
      )
      const w = await circuit.witness(x)
      const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })
})
