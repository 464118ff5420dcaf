import type { BuildModelParameters, NodeSpec } from '../../src/onnx/write.js'
import { rng } from '../helpers/circuit.js'
import { f32, i64, node } from './ort-diff.js'

/** A one-head attention over x [1, T, D] with an int64 attention_mask [1, T], as exporters write it. */
export const T = 5,
  D = 4
export const FLOAT32_MIN = -3.4028234663852886e38

export function attention(maskNodes: NodeSpec[] = maskAdded, fill = FLOAT32_MIN): BuildModelParameters {
  const r = rng(1810)
  return {
    name: 'masked-attention',
    opset: 13,
    inputs: [
      { name: 'x', shape: [1, T, D] },
      { name: 'attention_mask', shape: [1, T], type: 'int64' },
    ],
    outputs: [{ name: 'y', shape: [1, T, D] }],
    initializers: [
      f32(r, 'Wq', [D, D]),
      f32(r, 'Wk', [D, D]),
      f32(r, 'Wv', [D, D]),
      f32(r, 'relbias', [T, T], 0.5),
      { name: 'scale', dims: [], data: Float32Array.of(1 / Math.sqrt(D)) },
      { name: 'one', dims: [], data: Float32Array.of(1) },
      { name: 'fill', dims: [], data: Float32Array.of(fill) },
      i64('axis1', [1]),
      i64('zero', [0], []),
      { name: 'zerof', dims: [], data: Float32Array.of(0) },
    ],
    nodes: [
      node('MatMul', ['x', 'Wq'], ['q']),
      node('MatMul', ['x', 'Wk'], ['k']),
      node('MatMul', ['x', 'Wv'], ['v']),
      node('Transpose', ['k'], ['kt'], { perm: { ints: [0, 2, 1] } }),
      node('MatMul', ['q', 'kt'], ['s']),
      node('Mul', ['s', 'scale'], ['s0']),
      // A relative position bias (T5, ALiBi): the scores' own offset, which the mask must not swallow.
      node('Add', ['s0', 'relbias'], ['ss']),
      ...maskNodes,
      node('Softmax', ['scores'], ['p'], { axis: { int: -1 } }),
      node('MatMul', ['p', 'v'], ['y']),
    ],
  }
}

export const maskAdded: NodeSpec[] = [
  node('Unsqueeze', ['attention_mask', 'axis1'], ['mu']),
  node('Cast', ['mu'], ['mf'], { to: { int: 1 } }),
  node('Sub', ['one', 'mf'], ['inv']),
  node('Mul', ['inv', 'fill'], ['ext']),
  node('Add', ['ss', 'ext'], ['scores']),
]

/** transformers' _expand_mask: inverted = 1 − m, then inverted.masked_fill(inverted.bool(), min). */
export const maskFilled: NodeSpec[] = [
  node('Unsqueeze', ['attention_mask', 'axis1'], ['mu']),
  node('Cast', ['mu'], ['mf'], { to: { int: 1 } }),
  node('Sub', ['one', 'mf'], ['inv']),
  node('Cast', ['inv'], ['invb'], { to: { int: 9 } }),
  node('Where', ['invb', 'fill', 'inv'], ['ext']),
  node('Add', ['ss', 'ext'], ['scores']),
]

/** torch.where(attention_mask == 0, −inf, 0) added to the scores. */
export const maskWhereEqual: NodeSpec[] = [
  node('Unsqueeze', ['attention_mask', 'axis1'], ['mu']),
  node('Equal', ['mu', 'zero'], ['eq']),
  node('Where', ['eq', 'fill', 'zerof'], ['ext']),
  node('Add', ['ss', 'ext'], ['scores']),
]

export const EXPORTS: [string, NodeSpec[], number][] = [
  ['(1 − m)·float32 min', maskAdded, FLOAT32_MIN],
  ['masked_fill((1 − m).bool(), float32 min)', maskFilled, FLOAT32_MIN],
  ['Where(m == 0, −inf, 0)', maskWhereEqual, -Infinity],
]
