import { describe, expect, it } from 'vitest'
import { LoweringError, UnsupportedOpsError, lowerOnnx } from '../../src/onnx/lower.js'
import { DynamicQuantizationError } from '../../src/onnx/ops/quantized.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, type NodeSpec, buildModel } from '../../src/onnx/write.js'
import { FixedScaleError } from '../../src/quantize/fixed.js'
import { quantize } from '../../src/quantize/quantize.js'
import { tensor } from './quantized-models.js'

/** Quantised constructs veriml refuses, each with its own typed error naming the node or step. */

const lower = (m: BuildModelParameters) => lowerOnnx(parseOnnx(buildModel(m)))
const common = [tensor('s', 'float32', [], [0.05]), tensor('z', 'uint8', [], [128])]
const model = (
  nodes: NodeSpec[],
  extra: BuildModelParameters['initializers'] = [],
  opset = 13,
): BuildModelParameters => ({
  name: 'm',
  opset,
  inputs: [{ name: 'x', shape: [1, 4] }],
  outputs: [{ name: 'y', shape: [1, 4] }],
  initializers: [...common, ...extra],
  nodes,
})
const q = (input: string, output: string, name = `q_${output}`): NodeSpec => ({
  op: 'QuantizeLinear',
  name,
  inputs: [input, 's', 'z'],
  outputs: [output],
})
const dq = (input: string, output: string, name = `dq_${output}`): NodeSpec => ({
  op: 'DequantizeLinear',
  name,
  inputs: [input, 's', 'z'],
  outputs: [output],
})

describe('quantised ONNX refusals', () => {
  it('DynamicQuantizeLinear: its scale is computed from the data at run time', () => {
    const m: BuildModelParameters = {
      name: 'dyn',
      opset: 13,
      inputs: [{ name: 'x', shape: [1, 4] }],
      outputs: [{ name: 'y', shape: [1, 4], type: 'uint8' }],
      nodes: [{ op: 'DynamicQuantizeLinear', name: 'dql', inputs: ['x'], outputs: ['y', 'ys', 'yz'] }],
    }
    expect(() => lower(m)).toThrow(DynamicQuantizationError)
    expect(() => lower(m)).toThrow(/node "dql" \(DynamicQuantizeLinear\): dynamic quantisation/)
  })

  it('lists every unsupported node at once, com.microsoft ones included', () => {
    const m = model([
      q('x', 'xq'),
      {
        op: 'QLinearSoftmax',
        domain: 'com.microsoft',
        name: 'qsoft',
        inputs: ['xq', 's', 'z', 's', 'z'],
        outputs: ['sq'],
      },
      {
        op: 'QLinearAdd',
        domain: 'com.example',
        name: 'other',
        inputs: ['sq', 's', 'z', 'sq', 's', 'z', 's', 'z'],
        outputs: ['aq'],
      },
      dq('aq', 'y'),
    ])
    expect(() => lower(m)).toThrow(UnsupportedOpsError)
    expect(() => lower(m)).toThrow(
      /2 unsupported ONNX nodes: qsoft \(com\.microsoft\.QLinearSoftmax, opset 13\), other \(com\.example\.QLinearAdd, opset 13\)/,
    )
  })

  it('per-axis QuantizeLinear of an activation', () => {
    const m = model(
      [
        {
          op: 'QuantizeLinear',
          name: 'qa',
          inputs: ['x', 'sv', 'zv'],
          outputs: ['xq'],
          attributes: { axis: { int: 1 } },
        },
        dq('xq', 'y'),
      ],
      [tensor('sv', 'float32', [4], [0.1, 0.2, 0.3, 0.4]), tensor('zv', 'uint8', [4], [1, 2, 3, 4])],
    )
    expect(() => lower(m)).toThrow(LoweringError)
    expect(() => lower(m)).toThrow(/node "qa" \(QuantizeLinear\): per-axis quantisation of an input-dependent tensor/)
  })

  it('quantisation to a type other than int8/uint8', () => {
    const m = model(
      [
        { op: 'QuantizeLinear', name: 'q16', inputs: ['x', 's', 'z16'], outputs: ['xq'] },
        { op: 'DequantizeLinear', name: 'd16', inputs: ['xq', 's', 'z16'], outputs: ['y'] },
      ],
      [tensor('z16', 'int32', [], [0])],
      21,
    )
    expect(() => lower(m)).toThrow(LoweringError)
    expect(() => lower(m)).toThrow(/quantisation to int32 is not supported/)
  })

  it('a non-positive scale', () => {
    const m = model(
      [{ op: 'QuantizeLinear', name: 'qneg', inputs: ['x', 'neg', 'z'], outputs: ['xq'] }, dq('xq', 'y')],
      [tensor('neg', 'float32', [], [-0.1])],
    )
    expect(() => lower(m)).toThrow(/y scale -0\.1\d* is not a positive finite number/)
  })

  it('blocked quantisation (opset 21 block_size)', () => {
    const m = model(
      [
        {
          op: 'QuantizeLinear',
          name: 'qb',
          inputs: ['x', 's', 'z'],
          outputs: ['xq'],
          attributes: { block_size: { int: 2 } },
        },
        dq('xq', 'y'),
      ],
      [],
      21,
    )
    expect(() => lower(m)).toThrow(/block_size/)
  })

  it('a float function whose result is not quantised right away', () => {
    const graph = lower(
      model(
        [
          q('x', 'xq'),
          dq('xq', 'xd'),
          { op: 'Sigmoid', name: 'sig', inputs: ['xd'], outputs: ['sg'] },
          { op: 'Mul', name: 'half', inputs: ['sg', 'h'], outputs: ['m'] },
          q('m', 'sq'),
          dq('sq', 'y'),
        ],
        [tensor('h', 'float32', [], [0.5])],
      ),
    )
    expect(() => quantize(graph, [])).toThrow(FixedScaleError)
    expect(() => quantize(graph, [])).toThrow(/step "sig": its result must go straight into a QuantizeLinear/)
    const output = lower(
      model([q('x', 'xq'), dq('xq', 'xd'), { op: 'Sigmoid', name: 'sig', inputs: ['xd'], outputs: ['y'] }]),
    )
    expect(() => quantize(output, [])).toThrow(/a float function's result is a graph output without a QuantizeLinear/)
  })

  it('float arithmetic on a model input before its QuantizeLinear', () => {
    const graph = lower(
      model([{ op: 'Relu', name: 'pre', inputs: ['x'], outputs: ['r'] }, q('r', 'xq'), dq('xq', 'y')]),
    )
    expect(() => quantize(graph, [])).toThrow(FixedScaleError)
    expect(() => quantize(graph, [])).toThrow(
      /step "x": a float input of a quantised model must go straight into QuantizeLinear/,
    )
  })

  it('a Relu result feeding a linear op without a QuantizeLinear between', () => {
    const graph = lower(
      model(
        [
          q('x', 'xq'),
          dq('xq', 'xd'),
          { op: 'Relu', name: 'relu', inputs: ['xd'], outputs: ['r'] },
          { op: 'Mul', name: 'twice', inputs: ['r', 'two'], outputs: ['m'] },
          q('m', 'mq'),
          dq('mq', 'y'),
        ],
        [tensor('two', 'float32', [], [2])],
      ),
    )
    expect(() => quantize(graph, [])).toThrow(/a Relu\/Clip result feeds a linear op before being quantised/)
  })
})
