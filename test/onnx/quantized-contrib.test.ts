import { describe, expect, it } from 'vitest'
import { type BuildModelParameters, type NodeSpec, buildModel } from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import {
  type Agreement,
  type QType,
  agreement,
  int,
  pick,
  scaleIn,
  tensor,
  weights,
  zeroPoint,
} from './quantized-models.js'

/**
 * onnxruntime's com.microsoft QOperator ops (quantize_static's QOperator format) against
 * onnxruntime itself, as in quantized.test.ts: exact, or one LSB off on at most 1% of the
 * elements over each kind's seeds.
 */

const total: Record<string, Agreement> = {}
async function check(kind: string, model: BuildModelParameters, seed: number, count = 6): Promise<void> {
  const { stats } = await agreement(buildModel(model), rng(seed * 104729 + 3), count)
  const t = (total[kind] ??= { elements: 0, exact: 0, offByOne: 0, maxLsb: 0 })
  t.elements += stats.elements
  t.exact += stats.exact
  t.offByOne += stats.offByOne
  t.maxLsb = Math.max(t.maxLsb, stats.maxLsb)
  expect(stats.exact + stats.offByOne, `${kind} seed ${seed}: ${JSON.stringify(stats)}`).toBe(stats.elements)
}

const scalar = (name: string, v: number) => tensor(name, 'float32', [], [v])
const zp = (name: string, type: QType, v: number) => tensor(name, type, [], [v])
const ms = (node: Omit<NodeSpec, 'domain'>): NodeSpec => ({ ...node, domain: 'com.microsoft' })

function qgemm(seed: number): BuildModelParameters {
  const r = rng(seed)
  const M = int(r, 1, 3),
    K = int(r, 4, 30),
    N = int(r, 1, 6)
  const transB = r() < 0.5,
    perColumn = r() < 0.5,
    quantised = r() < 0.6
  const alpha = pick(r, [1, 1, 0.5, 1.75])
  const as = scaleIn(r, 0.003, 0.03)
  const bs = Array.from({ length: perColumn ? N : 1 }, () => scaleIn(r, 0.002, 0.02))
  const vec = perColumn ? [N] : []
  return {
    name: 'qgemm',
    opset: 13,
    inputs: [{ name: 'a', shape: [M, K], type: 'uint8' }],
    outputs: [{ name: 'y', shape: [M, N], ...(quantised ? { type: 'uint8' as const } : {}) }],
    initializers: [
      scalar('as', as),
      zp('az', 'uint8', zeroPoint(r, 'uint8')),
      tensor('b', 'int8', transB ? [N, K] : [K, N], weights(r, 'int8', K * N)),
      tensor('bs', 'float32', vec, bs),
      tensor(
        'bz',
        'int8',
        vec,
        bs.map(() => 0),
      ),
      tensor(
        'c',
        'int32',
        [N],
        Array.from({ length: N }, () => int(r, -4000, 4000)),
      ),
      ...(quantised
        ? [
            scalar('ys', Math.fround(((as * bs[0] * Math.sqrt(K) * 2400) / 127) * alpha)),
            zp('yz', 'uint8', zeroPoint(r, 'uint8')),
          ]
        : []),
    ],
    nodes: [
      ms({
        op: 'QGemm',
        name: 'qgemm',
        inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'c', ...(quantised ? ['ys', 'yz'] : [])],
        outputs: ['y'],
        attributes: { transB: { int: transB ? 1 : 0 }, ...(alpha !== 1 ? { alpha: { float: alpha } } : {}) },
      }),
    ],
  }
}

function pool(seed: number): BuildModelParameters {
  const r = rng(seed)
  const type: QType = pick(r, ['uint8', 'int8'] as const)
  const C = int(r, 1, 3),
    H = int(r, 4, 7)
  const global = r() < 0.4
  const k = int(r, 2, 3),
    stride = int(r, 1, 2),
    pad = int(r, 0, k - 1),
    include = r() < 0.5
  const out = global ? 1 : Math.floor((H + 2 * pad - k) / stride) + 1
  const xs = scaleIn(r, 0.005, 0.05)
  return {
    name: 'qpool',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, C, H, H], type }],
    outputs: [{ name: 'y', shape: [1, C, out, out], type }],
    initializers: [
      scalar('xs', xs),
      zp('xz', type, zeroPoint(r, type)),
      scalar('ys', Math.fround(xs * (0.5 + r()))),
      zp('yz', type, zeroPoint(r, type)),
    ],
    nodes: [
      ms(
        global
          ? { op: 'QLinearGlobalAveragePool', name: 'gap', inputs: ['x', 'xs', 'xz', 'ys', 'yz'], outputs: ['y'] }
          : {
              op: 'QLinearAveragePool',
              name: 'ap',
              inputs: ['x', 'xs', 'xz', 'ys', 'yz'],
              outputs: ['y'],
              attributes: {
                kernel_shape: { ints: [k, k] },
                strides: { ints: [stride, stride] },
                pads: { ints: [pad, pad, pad, pad] },
                count_include_pad: { int: include ? 1 : 0 },
              },
            },
      ),
    ],
  }
}

function concat(seed: number): BuildModelParameters {
  const r = rng(seed)
  const type: QType = pick(r, ['uint8', 'int8'] as const)
  const C1 = int(r, 1, 3),
    C2 = int(r, 1, 3),
    H = int(r, 1, 4)
  return {
    name: 'qconcat',
    opset: 13,
    inputs: [
      { name: 'a', shape: [1, C1, H], type },
      { name: 'b', shape: [1, C2, H], type },
    ],
    outputs: [{ name: 'y', shape: [1, C1 + C2, H], type }],
    initializers: [
      scalar('as', scaleIn(r, 0.005, 0.05)),
      zp('az', type, zeroPoint(r, type)),
      scalar('bs', scaleIn(r, 0.005, 0.05)),
      zp('bz', type, zeroPoint(r, type)),
      scalar('ys', scaleIn(r, 0.01, 0.05)),
      zp('yz', type, zeroPoint(r, type)),
    ],
    nodes: [
      ms({
        op: 'QLinearConcat',
        name: 'cat',
        inputs: ['ys', 'yz', 'a', 'as', 'az', 'b', 'bs', 'bz'],
        outputs: ['y'],
        attributes: { axis: { int: 1 } },
      }),
    ],
  }
}

function activation(seed: number): BuildModelParameters {
  const r = rng(seed)
  const type: QType = pick(r, ['uint8', 'int8'] as const)
  const leaky = r() < 0.5
  const xs = scaleIn(r, 0.01, 0.06)
  return {
    name: leaky ? 'qleakyrelu' : 'qsigmoid',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, 64], type }],
    outputs: [{ name: 'y', shape: [1, 64], type }],
    initializers: [
      scalar('xs', xs),
      zp('xz', type, zeroPoint(r, type)),
      scalar('ys', leaky ? Math.fround(xs * 0.9) : Math.fround(1 / 256)),
      zp('yz', type, leaky ? zeroPoint(r, type) : type === 'uint8' ? 0 : -128),
    ],
    nodes: [
      ms({
        op: leaky ? 'QLinearLeakyRelu' : 'QLinearSigmoid',
        name: 'act',
        inputs: ['x', 'xs', 'xz', 'ys', 'yz'],
        outputs: ['y'],
        ...(leaky ? { attributes: { alpha: { float: 0.13 } } } : {}),
      }),
    ],
  }
}

/**
 * A QOperator CNN as quantize_static(quant_format=QOperator) writes it: uint8 input → QLinearConv
 * → MaxPool on uint8 → QLinearConv → QLinearGlobalAveragePool → Flatten → QGemm with a float output.
 */
function qoperatorNet(seed: number): BuildModelParameters {
  const r = rng(seed)
  const C = int(r, 1, 2),
    M1 = int(r, 2, 3),
    M2 = int(r, 2, 3),
    H = int(r, 6, 8),
    N = int(r, 2, 4)
  const s0 = scaleIn(r, 0.004, 0.02),
    w1s = scaleIn(r, 0.002, 0.01),
    w2s = scaleIn(r, 0.002, 0.01),
    w3s = scaleIn(r, 0.002, 0.01)
  const s1 = Math.fround((s0 * w1s * Math.sqrt(C * 9) * 2400) / 127),
    s2 = Math.fround((s1 * w2s * Math.sqrt(M1 * 9) * 2400) / 127),
    s3 = Math.fround(s2 * (0.5 + r()))
  return {
    name: 'qoperator-net',
    opset: 13,
    inputs: [{ name: 'x', shape: [1, C, H, H], type: 'uint8' }],
    outputs: [{ name: 'y', shape: [1, N] }],
    initializers: [
      scalar('s0', s0),
      zp('z0', 'uint8', zeroPoint(r, 'uint8')),
      scalar('s1', s1),
      zp('z1', 'uint8', int(r, 0, 20)),
      scalar('s2', s2),
      zp('z2', 'uint8', int(r, 0, 20)),
      scalar('s3', s3),
      zp('z3', 'uint8', int(r, 0, 20)),
      tensor('w1', 'int8', [M1, C, 3, 3], weights(r, 'int8', M1 * C * 9)),
      scalar('w1s', w1s),
      zp('w1z', 'int8', 0),
      tensor(
        'b1',
        'int32',
        [M1],
        Array.from({ length: M1 }, () => int(r, -500, 500)),
      ),
      tensor('w2', 'int8', [M2, M1, 3, 3], weights(r, 'int8', M2 * M1 * 9)),
      scalar('w2s', w2s),
      zp('w2z', 'int8', 0),
      tensor('w3', 'int8', [N, M2], weights(r, 'int8', N * M2)),
      scalar('w3s', w3s),
      zp('w3z', 'int8', 0),
      tensor(
        'b3',
        'int32',
        [N],
        Array.from({ length: N }, () => int(r, -500, 500)),
      ),
    ],
    nodes: [
      {
        op: 'QLinearConv',
        name: 'conv1',
        inputs: ['x', 's0', 'z0', 'w1', 'w1s', 'w1z', 's1', 'z1', 'b1'],
        outputs: ['c1'],
        attributes: { pads: { ints: [1, 1, 1, 1] } },
      },
      {
        op: 'MaxPool',
        name: 'pool',
        inputs: ['c1'],
        outputs: ['p'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'QLinearConv', name: 'conv2', inputs: ['p', 's1', 'z1', 'w2', 'w2s', 'w2z', 's2', 'z2'], outputs: ['c2'] },
      ms({ op: 'QLinearGlobalAveragePool', name: 'gap', inputs: ['c2', 's2', 'z2', 's3', 'z3'], outputs: ['g'] }),
      { op: 'Flatten', name: 'flat', inputs: ['g'], outputs: ['f'] },
      ms({
        op: 'QGemm',
        name: 'fc',
        inputs: ['f', 's3', 'z3', 'w3', 'w3s', 'w3z', 'b3'],
        outputs: ['y'],
        attributes: { transB: { int: 1 } },
      }),
    ],
  }
}

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1)

describe('com.microsoft QOperator ops against onnxruntime', () => {
  it.each(SEEDS)('QGemm, seed %i', (seed) => check('QGemm', qgemm(seed), seed))
  it.each(SEEDS)('QLinearAveragePool / QLinearGlobalAveragePool, seed %i', (seed) =>
    check('QLinear pools', pool(seed), seed),
  )
  it.each(SEEDS)('QLinearConcat, seed %i', (seed) => check('QLinearConcat', concat(seed), seed))
  it.each(SEEDS)('QLinearSigmoid / QLinearLeakyRelu, seed %i', (seed) =>
    check('QLinear activations', activation(seed), seed),
  )
  it.each(SEEDS)('QOperator CNN (QLinearConv, uint8 MaxPool, QLinearGlobalAveragePool, QGemm), seed %i', (seed) =>
    check('QOperator network', qoperatorNet(seed), seed),
  )
  it('reports the measured agreement', () => {
    for (const [kind, t] of Object.entries(total)) {
      console.log(
        `${kind}: ${t.elements} elements, ${t.exact} exact, ${t.offByOne} off by one LSB (${((100 * t.offByOne) / t.elements).toFixed(3)}%), max ${t.maxLsb.toFixed(4)} LSB`,
      )
      expect(t.offByOne, kind).toBeLessThanOrEqual(Math.floor(t.elements / 100))
    }
    expect(Object.keys(total).length).toBe(5)
  })
})
