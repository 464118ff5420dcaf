import type { AttributeSpec, BuildModelParameters, NodeSpec, TensorSpec } from '../../src/onnx/write.js'
import { f32 } from './ort-diff.js'

/** One ONNX RNN, GRU or LSTM node with seeded random weights, for the differential tests. */
export interface RecurrentCase {
  op: 'RNN' | 'GRU' | 'LSTM'
  seq: number
  batch: number
  input: number
  hidden: number
  direction?: 'forward' | 'reverse' | 'bidirectional'
  layout?: 0 | 1
  /** Input B (biases); default true. */
  bias?: boolean
  /** LSTM input P. */
  peephole?: boolean
  /** initial_h (and initial_c for LSTM) as constants or as graph inputs; omitted by default. */
  initial?: 'const' | 'input'
  /** sequence_lens as a constant int32 tensor. */
  sequenceLens?: number[]
  attributes?: Record<string, AttributeSpec>
  /** Which of Y, Y_h, Y_c the node writes (and the model outputs); default all it has. */
  outputs?: boolean[]
}

const GATES = { RNN: 1, GRU: 3, LSTM: 4 }

/**
 * The model of `c`. onnxruntime refuses layout 1 ("Batchwise recurrent operations are not
 * supported"), so `layout0` writes a layout-1 case as its reference: the same weights and
 * values (the same draws from `r`) in a layout-0 node between Transposes.
 */
export function recurrentModel(c: RecurrentCase, r: () => number, { layout0 = false } = {}): BuildModelParameters {
  const dirs = c.direction === 'bidirectional' ? 2 : 1
  const G = GATES[c.op]
  const layout = c.layout ?? 0
  const x = layout === 0 ? [c.seq, c.batch, c.input] : [c.batch, c.seq, c.input]
  const state = layout === 0 ? [dirs, c.batch, c.hidden] : [c.batch, dirs, c.hidden]
  // Weights in ±0.6: the gates see pre-activations of a few units, both saturated and linear.
  const inits: (TensorSpec & { name: string })[] = [
    f32(r, 'W', [dirs, G * c.hidden, c.input], 0.6),
    f32(r, 'R', [dirs, G * c.hidden, c.hidden], 0.6),
  ]
  const inputs = [{ name: 'x', shape: x }]
  const names = ['x', 'W', 'R', '', '', '', '', '']
  if (c.bias ?? true) {
    inits.push(f32(r, 'B', [dirs, 2 * G * c.hidden], 0.5))
    names[3] = 'B'
  }
  if (c.sequenceLens) {
    inits.push({ name: 'lens', dims: [c.batch], data: Int32Array.from(c.sequenceLens) })
    names[4] = 'lens'
  }
  const states = c.op === 'LSTM' ? ['h0', 'c0'] : ['h0']
  states.forEach((s, k) => {
    if (!c.initial) return
    if (c.initial === 'const') inits.push(f32(r, s, state, 0.8))
    else inputs.push({ name: s, shape: state })
    names[5 + k] = s
  })
  if (c.peephole) {
    inits.push(f32(r, 'P', [dirs, 3 * c.hidden], 0.5))
    names[7] = 'P'
  }
  while (names.at(-1) === '') names.pop()
  const all = c.op === 'LSTM' ? ['Y', 'Y_h', 'Y_c'] : ['Y', 'Y_h']
  const wanted = all.map((n, k) => ((c.outputs?.[k] ?? true) ? n : ''))
  while (wanted.at(-1) === '') wanted.pop()
  const attributes: Record<string, AttributeSpec> = { hidden_size: { int: c.hidden }, ...c.attributes }
  if (c.direction) attributes.direction = { string: c.direction }
  const nodes: NodeSpec[] = [{ op: c.op, name: c.op.toLowerCase(), inputs: names, outputs: wanted, attributes }]
  if (layout === 1 && layout0) {
    const transpose = (from: string, to: string, perm: number[]): NodeSpec => ({
      op: 'Transpose',
      name: `${to}-transpose`,
      inputs: [from],
      outputs: [to],
      attributes: { perm: { ints: perm } },
    })
    const node = nodes[0]
    node.inputs = names.map((n, k) => (n && (k === 0 || k >= 5) && k < 7 ? `${n}.0` : n))
    node.outputs = wanted.map((n) => (n ? `${n}.0` : n))
    nodes.unshift(
      ...node.inputs.flatMap((n, k) =>
        n.endsWith('.0') ? [transpose(names[k], n, k === 0 ? [1, 0, 2] : [1, 0, 2])] : [],
      ),
    )
    nodes.push(...wanted.flatMap((n) => (n ? [transpose(`${n}.0`, n, n === 'Y' ? [2, 0, 1, 3] : [1, 0, 2])] : [])))
  } else if (layout) attributes.layout = { int: layout }
  return {
    name: c.op.toLowerCase(),
    opset: 14,
    inputs,
    outputs: wanted
      .filter((n) => n !== '')
      .map((name) => ({ name, shape: Array.from({ length: name === 'Y' ? 4 : 3 }, (_, i) => `${name}${i}`) })),
    initializers: inits,
    nodes,
  }
}

/**
 * A small LSTM classifier: x [seq, 1, input] → LSTM (hidden) → Y_h → Gemm → y [1, classes],
 * seeded weights. The model of the recurrent end-to-end test (both paths).
 */
export function lstmClassifier(
  { seq = 8, input = 4, hidden = 8, classes = 3 } = {},
  r: () => number,
): BuildModelParameters {
  return {
    name: 'lstm-classifier',
    opset: 14,
    inputs: [{ name: 'x', shape: [seq, 1, input] }],
    outputs: [{ name: 'y', shape: [1, classes] }],
    initializers: [
      f32(r, 'W', [1, 4 * hidden, input], 0.6),
      f32(r, 'R', [1, 4 * hidden, hidden], 0.6),
      f32(r, 'B', [1, 8 * hidden], 0.5),
      f32(r, 'fc', [hidden, classes]),
      f32(r, 'fcb', [classes], 0.2),
      { name: 'flat', dims: [2], data: BigInt64Array.of(1n, BigInt(hidden)) },
    ],
    nodes: [
      {
        op: 'LSTM',
        name: 'lstm',
        inputs: ['x', 'W', 'R', 'B'],
        outputs: ['', 'h'],
        attributes: { hidden_size: { int: hidden } },
      },
      { op: 'Reshape', name: 'reshape', inputs: ['h', 'flat'], outputs: ['hf'] },
      { op: 'Gemm', name: 'fc', inputs: ['hf', 'fc', 'fcb'], outputs: ['y'] },
    ],
  }
}
