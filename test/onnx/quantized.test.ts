import { describe, expect, it } from 'vitest'
import { type BuildModelParameters, type NodeSpec, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import {
  type Agreement,
  type QType,
  agreement,
  int,
  pick,
  scaleIn,
  size,
  tensor,
  weights,
  zeroPoint,
} from './quantized-models.js'

/**
 * QOperator and QDQ models against onnxruntime: veriml's reference executor (the integer IR
 * the circuit proves) must give onnxruntime's integers exactly, or one LSB off on at most 1%
 * of the elements. Off-by-one cases can come from onnxruntime requantising in float32
 * (float(acc) · float32 multiplier, then rounding) where veriml multiplies exactly, and from
 * float functions (Sigmoid, Tanh) that onnxruntime evaluates in float32 with its own
 * approximations where veriml's table uses float64.
 */

const total: Record<string, Agreement> = {}
async function check(kind: string, model: BuildModelParameters, seed: number, count = 4): Promise<void> {
  const { stats } = await agreement(buildModel(model), rng(seed * 7919 + 1), count)
  const t = (total[kind] ??= { elements: 0, exact: 0, offByOne: 0, maxLsb: 0 })
  t.elements += stats.elements
  t.exact += stats.exact
  t.offByOne += stats.offByOne
  t.maxLsb = Math.max(t.maxLsb, stats.maxLsb)
  expect(stats.exact + stats.offByOne, `${kind} seed ${seed} (${model.name}): ${JSON.stringify(stats)}`).toBe(
    stats.elements,
  )
  if (stats.offByOne > 0)
    console.log(`${kind} seed ${seed} (${model.name}): ${stats.offByOne} of ${stats.elements} off by one LSB`)
}

const scalar = (name: string, v: number) => tensor(name, 'float32', [], [v])
const zp = (name: string, type: QType, v: number) => tensor(name, type, [], [v])

/** Output scale so that the accumulator's typical range spans the output type: realistic, rarely saturating. */
const outScale = (r: () => number, inScale: number, wScale: number, K: number) =>
  Math.fround(((inScale * wScale * Math.sqrt(K) * 2400) / 127) * (0.7 + 0.6 * r()))

function qlinearMatMul(seed: number): BuildModelParameters {
  const r = rng(seed)
  const aType: QType = pick(r, ['uint8', 'int8'] as const),
    bType: QType = aType === 'int8' ? 'int8' : pick(r, ['uint8', 'int8'] as const)
  const M = int(r, 1, 4),
    K = int(r, 3, 40),
    N = int(r, 1, 8)
  const perColumn = r() < 0.5
  // onnxruntime implements QLinearMatMul and QLinearConv with y of a's type only (u8·u8, u8·s8 → u8; s8·s8 → s8).
  const yType = aType
  const as = scaleIn(r, 0.002, 0.05)
  const bs = Array.from({ length: perColumn ? N : 1 }, () => scaleIn(r, 0.001, 0.02))
  const bz = Array.from({ length: perColumn ? N : 1 }, () => zeroPoint(r, bType))
  const vec = (name: string, type: QType | 'float32', data: number[]) => tensor(name, type, perColumn ? [N] : [], data)
  return {
    name: 'qlinearmatmul',
    opset: pick(r, [10, 13, 21]),
    inputs: [{ name: 'a', shape: [M, K], type: aType }],
    outputs: [{ name: 'y', shape: [M, N], type: yType }],
    initializers: [
      scalar('as', as),
      zp('az', aType, zeroPoint(r, aType)),
      tensor('b', bType, [K, N], weights(r, bType, K * N)),
      vec('bs', 'float32', bs),
      vec('bz', bType, bz),
      scalar('ys', outScale(r, as, bs[0], K)),
      zp('yz', yType, zeroPoint(r, yType)),
    ],
    nodes: [
      { op: 'QLinearMatMul', name: 'qmm', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'] },
    ],
  }
}

/** u8·u8 with K up to 1000: accumulators beyond 2^24, where onnxruntime's float(acc) rounds. */
function wideMatMul(seed: number): BuildModelParameters {
  const r = rng(seed)
  const M = 2,
    K = int(r, 400, 1000),
    N = 8
  const as = scaleIn(r, 0.002, 0.05),
    bs = scaleIn(r, 0.001, 0.02)
  return {
    name: 'wide-qlinearmatmul',
    opset: 13,
    inputs: [{ name: 'a', shape: [M, K], type: 'uint8' }],
    outputs: [{ name: 'y', shape: [M, N], type: 'uint8' }],
    initializers: [
      scalar('as', as),
      zp('az', 'uint8', 0),
      tensor('b', 'uint8', [K, N], weights(r, 'uint8', K * N)),
      scalar('bs', bs),
      zp('bz', 'uint8', 0),
      // Outputs around 128 for accumulators around K·128².
      scalar('ys', Math.fround(as * bs * K * 128)),
      zp('yz', 'uint8', 0),
    ],
    nodes: [
      { op: 'QLinearMatMul', name: 'qmm', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'] },
    ],
  }
}

function convGeometry(r: () => number) {
  const group = pick(r, [1, 1, 2])
  const C = group * int(r, 1, 3),
    M = group * int(r, 1, 3)
  const kernel = [int(r, 1, 3), int(r, 1, 3)]
  const strides = [int(r, 1, 2), int(r, 1, 2)],
    dilations = [int(r, 1, 2), 1]
  const pads = [int(r, 0, 1), int(r, 0, 1), int(r, 0, 1), int(r, 0, 1)]
  // Large enough for the widest dilated kernel (span 5) without padding.
  const H = int(r, 5, 8),
    W = int(r, 4, 7)
  const out = [0, 1].map(
    (i) => Math.floor(([H, W][i] + pads[i] + pads[i + 2] - dilations[i] * (kernel[i] - 1) - 1) / strides[i]) + 1,
  )
  const attributes = {
    group: { int: group },
    kernel_shape: { ints: kernel },
    strides: { ints: strides },
    dilations: { ints: dilations },
    pads: { ints: pads },
  }
  return { group, C, M, kernel, H, W, out, attributes, K: (C / group) * kernel[0] * kernel[1] }
}

function qlinearConv(seed: number): BuildModelParameters {
  const r = rng(seed)
  const g = convGeometry(r)
  const xType: QType = pick(r, ['uint8', 'int8'] as const),
    wType: QType = xType === 'int8' ? 'int8' : pick(r, ['int8', 'int8', 'uint8'] as const)
  const yType = xType
  const perChannel = wType === 'int8' && r() < 0.6
  const xs = scaleIn(r, 0.002, 0.05)
  const ws = Array.from({ length: perChannel ? g.M : 1 }, () => scaleIn(r, 0.001, 0.02))
  const wz = ws.map(() => (wType === 'int8' ? 0 : zeroPoint(r, wType)))
  const withBias = r() < 0.7
  const vec = (name: string, type: QType | 'float32', data: number[]) =>
    tensor(name, type, perChannel ? [g.M] : [], data)
  return {
    name: 'qlinearconv',
    opset: pick(r, [10, 13]),
    inputs: [{ name: 'x', shape: [1, g.C, g.H, g.W], type: xType }],
    outputs: [{ name: 'y', shape: [1, g.M, ...g.out], type: yType }],
    initializers: [
      scalar('xs', xs),
      zp('xz', xType, zeroPoint(r, xType)),
      tensor(
        'w',
        wType,
        [g.M, g.C / g.group, ...g.kernel],
        weights(r, wType, g.M * (g.C / g.group) * g.kernel[0] * g.kernel[1]),
      ),
      vec('ws', 'float32', ws),
      vec('wz', wType, wz),
      scalar('ys', outScale(r, xs, ws[0], g.K)),
      zp('yz', yType, zeroPoint(r, yType)),
      ...(withBias
        ? [
            tensor(
              'b',
              'int32',
              [g.M],
              Array.from({ length: g.M }, () => int(r, -3000, 3000)),
            ),
          ]
        : []),
    ],
    nodes: [
      {
        op: 'QLinearConv',
        name: 'qconv',
        inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', ...(withBias ? ['b'] : [])],
        outputs: ['y'],
        attributes: g.attributes,
      },
    ],
  }
}

function matMulInteger(seed: number): BuildModelParameters {
  const r = rng(seed)
  const aType: QType = pick(r, ['uint8', 'int8'] as const),
    bType: QType = aType === 'int8' ? 'int8' : pick(r, ['uint8', 'int8'] as const)
  const M = int(r, 1, 4),
    K = int(r, 3, 30),
    N = int(r, 1, 6)
  const perColumn = r() < 0.5
  return {
    name: 'matmulinteger',
    opset: 13,
    inputs: [{ name: 'a', shape: [M, K], type: aType }],
    outputs: [{ name: 'y', shape: [M, N], type: 'int32' }],
    initializers: [
      tensor('b', bType, [K, N], weights(r, bType, K * N)),
      zp('az', aType, zeroPoint(r, aType)),
      tensor(
        'bz',
        bType,
        perColumn ? [N] : [],
        Array.from({ length: perColumn ? N : 1 }, () => zeroPoint(r, bType)),
      ),
    ],
    nodes: [{ op: 'MatMulInteger', name: 'mmi', inputs: ['a', 'b', 'az', 'bz'], outputs: ['y'] }],
  }
}

function convInteger(seed: number): BuildModelParameters {
  const r = rng(seed)
  const g = convGeometry(r)
  return {
    name: 'convinteger',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, g.C, g.H, g.W], type: 'uint8' }],
    outputs: [{ name: 'y', shape: [1, g.M, ...g.out], type: 'int32' }],
    initializers: [
      tensor(
        'w',
        'uint8',
        [g.M, g.C / g.group, ...g.kernel],
        weights(r, 'uint8', g.M * (g.C / g.group) * g.kernel[0] * g.kernel[1]),
      ),
      zp('xz', 'uint8', zeroPoint(r, 'uint8')),
      zp('wz', 'uint8', zeroPoint(r, 'uint8')),
    ],
    nodes: [
      { op: 'ConvInteger', name: 'convi', inputs: ['x', 'w', 'xz', 'wz'], outputs: ['y'], attributes: g.attributes },
    ],
  }
}

function qlinearAdd(seed: number): BuildModelParameters {
  const r = rng(seed)
  const type: QType = pick(r, ['uint8', 'int8'] as const)
  const C = int(r, 1, 4),
    H = int(r, 1, 4)
  const twoInputs = r() < 0.5
  const bShape = twoInputs ? [1, C, H] : pick(r, [[C, H], [C, 1], [H]])
  const as = scaleIn(r, 0.005, 0.05),
    bs = scaleIn(r, 0.005, 0.05)
  return {
    name: 'qlinearadd',
    opset: 13,
    inputs: [{ name: 'a', shape: [1, C, H], type }, ...(twoInputs ? [{ name: 'b', shape: bShape, type }] : [])],
    outputs: [{ name: 'c', shape: [1, C, H], type }],
    initializers: [
      scalar('as', as),
      zp('az', type, zeroPoint(r, type)),
      scalar('bs', bs),
      zp('bz', type, zeroPoint(r, type)),
      scalar('cs', Math.fround((as + bs) * (0.8 + 0.8 * r()))),
      zp('cz', type, zeroPoint(r, type)),
      ...(twoInputs ? [] : [tensor('b', type, bShape, weights(r, type, size(bShape)))]),
    ],
    nodes: [
      {
        op: 'QLinearAdd',
        domain: 'com.microsoft',
        name: 'qadd',
        inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'cs', 'cz'],
        outputs: ['c'],
      },
    ],
  }
}

/**
 * A QDQ network as onnxruntime's quantize_static writes it: float input → Q → DQ → Conv
 * (per-channel int8 weights, int32 bias) → Q → DQ → Relu → MaxPool → Q → DQ → Flatten →
 * Gemm → Q → DQ → float output. onnxruntime fuses the DQ/Q pairs into integer kernels.
 */
function qdqNet(seed: number): BuildModelParameters {
  const r = rng(seed)
  const act: QType = pick(r, ['uint8', 'int8'] as const)
  const C = int(r, 1, 2),
    M = int(r, 2, 3),
    H = int(r, 5, 6),
    N = int(r, 2, 5)
  const K1 = C * 9,
    P = Math.floor((H - 2) / 2) * Math.floor((H - 2) / 2),
    K2 = M * P
  const s0 = scaleIn(r, 0.005, 0.02),
    z0 = zeroPoint(r, act)
  const ws = Array.from({ length: M }, () => scaleIn(r, 0.002, 0.01))
  const s1 = outScale(r, s0, ws[0], K1),
    z1 = act === 'uint8' ? int(r, 0, 30) : zeroPoint(r, act)
  const ws2 = scaleIn(r, 0.002, 0.01)
  const s2 = outScale(r, s1, ws2, K2),
    z2 = zeroPoint(r, act)
  const perChannel = r() < 0.7
  const init: (TensorSpec & { name: string })[] = [
    scalar('s0', s0),
    zp('z0', act, z0),
    scalar('s1', s1),
    zp('z1', act, z1),
    scalar('s2', s2),
    zp('z2', act, z2),
    tensor('w1', 'int8', [M, C, 3, 3], weights(r, 'int8', M * K1)),
    tensor('w1s', 'float32', perChannel ? [M] : [], perChannel ? ws : [ws[0]]),
    tensor('w1z', 'int8', perChannel ? [M] : [], perChannel ? ws.map(() => 0) : [0]),
    tensor(
      'b1',
      'int32',
      [M],
      Array.from({ length: M }, () => int(r, -2000, 2000)),
    ),
    // The bias scale is float32(x_scale · w_scale), as onnxruntime's quantiser stores it.
    tensor(
      'b1s',
      'float32',
      perChannel ? [M] : [],
      (perChannel ? ws : [ws[0]]).map((w) => Math.fround(s0 * w)),
    ),
    tensor('b1z', 'int32', perChannel ? [M] : [], perChannel ? ws.map(() => 0) : [0]),
    tensor('w2', 'int8', [K2, N], weights(r, 'int8', K2 * N)),
    scalar('w2s', ws2),
    zp('w2z', 'int8', 0),
    tensor(
      'b2',
      'int32',
      [N],
      Array.from({ length: N }, () => int(r, -2000, 2000)),
    ),
    scalar('b2s', Math.fround(s1 * ws2)),
    tensor('b2z', 'int32', [], [0]),
  ]
  const nodes: NodeSpec[] = [
    { op: 'QuantizeLinear', name: 'q0', inputs: ['x', 's0', 'z0'], outputs: ['xq'] },
    { op: 'DequantizeLinear', name: 'dq0', inputs: ['xq', 's0', 'z0'], outputs: ['xd'] },
    // axis -4 is axis 0 of the [M, C, 3, 3] weight; the 1-D bias has only axis 0 (-1).
    {
      op: 'DequantizeLinear',
      name: 'dqw1',
      inputs: ['w1', 'w1s', 'w1z'],
      outputs: ['w1d'],
      ...(perChannel ? { attributes: { axis: { int: -4 } } } : {}),
    },
    {
      op: 'DequantizeLinear',
      name: 'dqb1',
      inputs: ['b1', 'b1s', 'b1z'],
      outputs: ['b1d'],
      ...(perChannel ? { attributes: { axis: { int: -1 } } } : {}),
    },
    {
      op: 'Conv',
      name: 'conv',
      inputs: ['xd', 'w1d', 'b1d'],
      outputs: ['c'],
      attributes: { kernel_shape: { ints: [3, 3] } },
    },
    { op: 'QuantizeLinear', name: 'q1', inputs: ['c', 's1', 'z1'], outputs: ['cq'] },
    { op: 'DequantizeLinear', name: 'dq1', inputs: ['cq', 's1', 'z1'], outputs: ['cd'] },
    { op: 'Relu', name: 'relu', inputs: ['cd'], outputs: ['rl'] },
    { op: 'QuantizeLinear', name: 'q1r', inputs: ['rl', 's1', 'z1'], outputs: ['rq'] },
    { op: 'DequantizeLinear', name: 'dq1r', inputs: ['rq', 's1', 'z1'], outputs: ['rd'] },
    {
      op: 'MaxPool',
      name: 'pool',
      inputs: ['rd'],
      outputs: ['p'],
      attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
    },
    { op: 'QuantizeLinear', name: 'q2', inputs: ['p', 's1', 'z1'], outputs: ['pq'] },
    { op: 'DequantizeLinear', name: 'dq2', inputs: ['pq', 's1', 'z1'], outputs: ['pd'] },
    { op: 'Flatten', name: 'flat', inputs: ['pd'], outputs: ['f'] },
    { op: 'DequantizeLinear', name: 'dqw2', inputs: ['w2', 'w2s', 'w2z'], outputs: ['w2d'] },
    { op: 'DequantizeLinear', name: 'dqb2', inputs: ['b2', 'b2s', 'b2z'], outputs: ['b2d'] },
    { op: 'Gemm', name: 'gemm', inputs: ['f', 'w2d', 'b2d'], outputs: ['g'] },
    { op: 'QuantizeLinear', name: 'q3', inputs: ['g', 's2', 'z2'], outputs: ['gq'] },
    { op: 'DequantizeLinear', name: 'dq3', inputs: ['gq', 's2', 'z2'], outputs: ['y'] },
  ]
  // Per-axis DequantizeLinear exists from opset 13; per-tensor QDQ from opset 10.
  return {
    name: 'qdq-net',
    opset: perChannel ? pick(r, [13, 21]) : pick(r, [10, 13, 21]),
    inputs: [{ name: 'x', shape: [1, C, H, H] }],
    outputs: [{ name: 'y', shape: [1, N] }],
    initializers: init,
    nodes,
  }
}

/** x → Q → DQ → Conv → Q → DQ → activation → Q → DQ: the activation becomes one table lookup. */
function qdqActivation(seed: number): BuildModelParameters {
  const r = rng(seed)
  const act: QType = pick(r, ['uint8', 'int8'] as const)
  const [op, attributes] = pick(r, [
    ['Sigmoid', {}],
    ['Tanh', {}],
    ['LeakyRelu', { alpha: { float: 0.1 } }],
    ['HardSigmoid', { alpha: { float: 0.25 }, beta: { float: 0.4 } }],
  ] as const)
  const C = int(r, 1, 3),
    M = int(r, 1, 3),
    H = int(r, 3, 5)
  const s0 = scaleIn(r, 0.005, 0.02),
    ws = scaleIn(r, 0.002, 0.01)
  const s1 = outScale(r, s0, ws, C),
    s2 = Math.fround(op === 'Tanh' ? 2 / 255 : op === 'LeakyRelu' ? s1 : 1 / 255)
  const z2 = op === 'Tanh' || op === 'LeakyRelu' ? (act === 'uint8' ? 128 : 0) : act === 'uint8' ? 0 : -128
  const nodes: NodeSpec[] = [
    { op: 'QuantizeLinear', name: 'q0', inputs: ['x', 's0', 'z0'], outputs: ['xq'] },
    { op: 'DequantizeLinear', name: 'dq0', inputs: ['xq', 's0', 'z0'], outputs: ['xd'] },
    { op: 'DequantizeLinear', name: 'dqw', inputs: ['w', 'ws', 'wz'], outputs: ['wd'] },
    { op: 'Conv', name: 'conv', inputs: ['xd', 'wd'], outputs: ['c'] },
    { op: 'QuantizeLinear', name: 'q1', inputs: ['c', 's1', 'z1'], outputs: ['cq'] },
    { op: 'DequantizeLinear', name: 'dq1', inputs: ['cq', 's1', 'z1'], outputs: ['cd'] },
    { op, name: 'act', inputs: ['cd'], outputs: ['a'], attributes },
    { op: 'QuantizeLinear', name: 'q2', inputs: ['a', 's2', 'z2'], outputs: ['aq'] },
    { op: 'DequantizeLinear', name: 'dq2', inputs: ['aq', 's2', 'z2'], outputs: ['y'] },
  ]
  return {
    name: `qdq-${op}`,
    opset: 13,
    inputs: [{ name: 'x', shape: [1, C, H, H] }],
    outputs: [{ name: 'y', shape: [1, M, H, H] }],
    nodes,
    initializers: [
      scalar('s0', s0),
      zp('z0', act, zeroPoint(r, act)),
      scalar('s1', s1),
      zp('z1', act, zeroPoint(r, act)),
      scalar('s2', s2),
      zp('z2', act, z2),
      tensor('w', 'int8', [M, C, 1, 1], weights(r, 'int8', M * C)),
      scalar('ws', ws),
      zp('wz', 'int8', 0),
    ],
  }
}

const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1)

describe('quantised ONNX against onnxruntime', () => {
  it.each(SEEDS)('QLinearMatMul, seed %i', (seed) => check('QLinearMatMul', qlinearMatMul(seed), seed))
  it.each(SEEDS.slice(0, 4))('QLinearMatMul with K up to 1000 (accumulators beyond 2^24), seed %i', (seed) =>
    check('wide QLinearMatMul', wideMatMul(seed), seed, 40),
  )
  it.each(SEEDS)('QLinearConv, seed %i', (seed) => check('QLinearConv', qlinearConv(seed), seed))
  it.each(SEEDS)('MatMulInteger, seed %i', (seed) => check('MatMulInteger', matMulInteger(seed), seed))
  it.each(SEEDS)('ConvInteger, seed %i', (seed) => check('ConvInteger', convInteger(seed), seed))
  it.each(SEEDS)('com.microsoft QLinearAdd, seed %i', (seed) => check('QLinearAdd', qlinearAdd(seed), seed))
  it.each(SEEDS)('QDQ Conv-Relu-MaxPool-Gemm network, seed %i', (seed) => check('QDQ network', qdqNet(seed), seed, 8))
  it.each(SEEDS)('QDQ Sigmoid / Tanh / LeakyRelu / HardSigmoid as a table, seed %i', (seed) =>
    check('QDQ activation', qdqActivation(seed), seed, 8),
  )
  it('reports the measured agreement', () => {
    for (const [kind, t] of Object.entries(total)) {
      console.log(
        `${kind}: ${t.elements} elements, ${t.exact} exact, ${t.offByOne} off by one LSB (${((100 * t.offByOne) / t.elements).toFixed(3)}%), max ${t.maxLsb.toFixed(4)} LSB`,
      )
      // Over all seeds of a kind: at most 1% of the elements one LSB off (every element is within one LSB, checked per seed).
      expect(t.offByOne, kind).toBeLessThanOrEqual(Math.floor(t.elements / 100))
    }
    expect(Object.keys(total).length).toBe(8)
  })
})
