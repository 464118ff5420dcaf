import { describe, expect, it } from 'vitest'
import { execute } from '../../src/ir/execute.js'
import { executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { LoweringError } from '../../src/onnx/ops/common.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildModel } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { f32, i64, modelOf, node, ortRun, samples, worstRelative } from './ort-diff.js'
import { type RecurrentCase, recurrentModel } from './recurrent-models.js'

// RNN, GRU and LSTM unrolled into affine, unary and mul steps (src/onnx/ops/recurrent.ts):
// the float graph against onnxruntime, then the quantised executor against the float graph.

const CASES: [string, RecurrentCase][] = [
  ['RNN forward', { op: 'RNN', seq: 5, batch: 2, input: 3, hidden: 4 }],
  [
    'RNN reverse, layout 1, constant initial_h, no B',
    {
      op: 'RNN',
      seq: 4,
      batch: 2,
      input: 3,
      hidden: 4,
      direction: 'reverse',
      layout: 1,
      initial: 'const',
      bias: false,
    },
  ],
  [
    'RNN bidirectional Relu with clip',
    {
      op: 'RNN',
      seq: 4,
      batch: 1,
      input: 3,
      hidden: 5,
      direction: 'bidirectional',
      attributes: { activations: { strings: ['Relu', 'Tanh'] }, clip: { float: 0.7 } },
    },
  ],
  [
    'RNN LeakyRelu and ScaledTanh with alphas and betas',
    {
      op: 'RNN',
      seq: 3,
      batch: 2,
      input: 2,
      hidden: 3,
      direction: 'bidirectional',
      attributes: {
        activations: { strings: ['LeakyRelu', 'ScaledTanh'] },
        activation_alpha: { floats: [0.2, 1.5] },
        activation_beta: { floats: [0.7] },
      },
    },
  ],
  ['GRU forward', { op: 'GRU', seq: 5, batch: 2, input: 3, hidden: 4 }],
  [
    'GRU linear_before_reset, bidirectional, constant initial_h',
    {
      op: 'GRU',
      seq: 4,
      batch: 2,
      input: 3,
      hidden: 4,
      direction: 'bidirectional',
      initial: 'const',
      attributes: { linear_before_reset: { int: 1 } },
    },
  ],
  [
    'GRU reverse, layout 1, initial_h a graph input, full sequence_lens',
    {
      op: 'GRU',
      seq: 4,
      batch: 2,
      input: 3,
      hidden: 3,
      direction: 'reverse',
      layout: 1,
      initial: 'input',
      sequenceLens: [4, 4],
    },
  ],
  [
    'GRU HardSigmoid and Softsign, clip',
    {
      op: 'GRU',
      seq: 3,
      batch: 1,
      input: 3,
      hidden: 4,
      attributes: {
        activations: { strings: ['HardSigmoid', 'Softsign'] },
        activation_alpha: { floats: [0.3] },
        activation_beta: { floats: [0.45] },
        clip: { float: 1.5 },
      },
    },
  ],
  ['LSTM forward', { op: 'LSTM', seq: 5, batch: 2, input: 3, hidden: 4 }],
  [
    'LSTM peepholes, constant initial states',
    { op: 'LSTM', seq: 4, batch: 2, input: 3, hidden: 4, peephole: true, initial: 'const' },
  ],
  [
    'LSTM bidirectional, layout 1, peepholes, initial states graph inputs',
    {
      op: 'LSTM',
      seq: 3,
      batch: 2,
      input: 2,
      hidden: 3,
      direction: 'bidirectional',
      layout: 1,
      peephole: true,
      initial: 'input',
    },
  ],
  [
    'LSTM reverse with clip, Y_h only',
    {
      op: 'LSTM',
      seq: 4,
      batch: 1,
      input: 3,
      hidden: 4,
      direction: 'reverse',
      attributes: { clip: { float: 0.8 } },
      outputs: [false, true, false],
    },
  ],
  [
    // The initial cell state is beyond the clip (its largest |C| is logged): the clip bounds
    // only the gates' inputs, never h's (as onnxruntime computes: the cell is not clipped).
    'LSTM with the cell beyond the clip',
    {
      op: 'LSTM',
      seq: 3,
      batch: 2,
      input: 3,
      hidden: 4,
      initial: 'const',
      attributes: { clip: { float: 0.3 } },
    },
  ],
  [
    'LSTM input_forget with peepholes, Y and Y_c',
    {
      op: 'LSTM',
      seq: 4,
      batch: 2,
      input: 3,
      hidden: 3,
      peephole: true,
      attributes: { input_forget: { int: 1 } },
      outputs: [true, false, true],
    },
  ],
  // Constant sequence_lens shorter than the sequence (padding): onnxruntime leaves a finished
  // sequence's state as it was, writes zeros to its Y, and runs a reverse direction from the
  // sequence's own last step. A sequence of length 0 ends in zeros (Y_h, Y_c), not its initial state.
  [
    'RNN bidirectional, sequence_lens [3, 1, 4]',
    { op: 'RNN', seq: 4, batch: 3, input: 3, hidden: 4, direction: 'bidirectional', sequenceLens: [3, 1, 4] },
  ],
  [
    'GRU reverse, layout 1, initial_h a graph input, sequence_lens [2, 4, 0]',
    {
      op: 'GRU',
      seq: 4,
      batch: 3,
      input: 3,
      hidden: 3,
      direction: 'reverse',
      layout: 1,
      initial: 'input',
      sequenceLens: [2, 4, 0],
    },
  ],
  [
    'LSTM bidirectional, peepholes, constant initial states, sequence_lens [1, 0, 3]',
    {
      op: 'LSTM',
      seq: 3,
      batch: 3,
      input: 2,
      hidden: 3,
      direction: 'bidirectional',
      peephole: true,
      initial: 'const',
      sequenceLens: [1, 0, 3],
    },
  ],
]

describe('RNN, GRU and LSTM against onnxruntime, then quantised', () => {
  it.each(CASES.map(([name, c], i) => [name, c, i] as const))('%s', async (name, c, seed) => {
    const bytes = buildModel(recurrentModel(c, rng(1600 + seed)))
    const graph = lowerOnnx(parseOnnx(bytes))
    const r = rng(1700 + seed)
    const xs = samples(r, graph.inputs, 3)
    const reference = await ortRun(buildModel(recurrentModel(c, rng(1600 + seed), { layout0: true })), graph.inputs, xs)
    let floatWorst = 0,
      largest = 0
    xs.forEach((x, k) => {
      const values = executeFloat(graph, x)
      graph.outputs.forEach((o, j) => {
        const got = values.get(o.id)!
        const want = reference[k][j].data
        expect(got.length).toBe(want.length)
        for (let i = 0; i < want.length; i++) {
          floatWorst = Math.max(floatWorst, Math.abs(got[i] - want[i]))
          largest = Math.max(largest, Math.abs(want[i]))
        }
      })
    })
    expect(floatWorst).toBeLessThan(1e-5)
    // Quantised: every output of the executor against the float graph on held-out samples.
    const ir = quantize(graph, samples(r, graph.inputs, 32))
    let worst = 0,
      signs = 0,
      count = 0
    for (const x of samples(r, graph.inputs, 8)) {
      const values = executeFloat(graph, x)
      const run = execute(ir, quantizeInputs(ir.inputs, x))
      graph.outputs.forEach((o, j) => {
        const got = dequantize(run.outputs[j], ir.outputs[j].quant)
        const want = values.get(o.id)!
        for (let i = 0; i < want.length; i++) {
          worst = Math.max(worst, Math.abs(got[i] - want[i]))
          // Sign agreement where the sign means something (not within a quantisation step of 0).
          if (Math.abs(want[i]) > 0.05) {
            count++
            if (Math.sign(got[i]) === Math.sign(want[i])) signs++
          }
        }
      })
    }
    const steps = graph.steps.map((s) => s.op.kind)
    console.log(
      `${name}: largest |output| ${largest.toFixed(4)}, float ${floatWorst.toExponential(1)}, quantised max |error| ${worst.toFixed(4)}, sign agreement ${signs}/${count}, ${steps.length} steps (${['affine', 'unary', 'mul', 'clamp', 'gather'].map((k) => `${k} ${steps.filter((s) => s === k).length}`).join(', ')})`,
    )
    // States are in [-1, 1] (Relu/LeakyRelu/ScaledTanh: a few units). Measured at most 0.049
    // (the bidirectional LSTM); a mul step whose right operands came from two tensors of
    // different scales (read at one of them) gave 0.14 and 0.28 on the LSTMs.
    expect(worst).toBeLessThan(0.08)
    expect(signs / count).toBeGreaterThan(0.97)
  })
})

describe('recurrent layers inside a model', () => {
  it('two stacked GRU layers as PyTorch exports them (batch-first input, Squeeze of Y, a MatMul head)', async () => {
    const r = rng(1650)
    const [S, N, I, H] = [5, 2, 3, 4]
    const gru = (x: string, y: string) =>
      node('GRU', [x, `W${y}`, `R${y}`, `B${y}`], [y], { hidden_size: { int: H }, linear_before_reset: { int: 1 } })
    const bytes = buildModel(
      modelOf(
        [{ name: 'x', shape: [N, S, I] }],
        [
          node('Transpose', ['x'], ['xt'], { perm: { ints: [1, 0, 2] } }),
          gru('xt', 'y1'),
          node('Squeeze', ['y1', 'axis1'], ['s1']),
          gru('s1', 'y2'),
          node('Squeeze', ['y2', 'axis1'], ['s2']),
          node('MatMul', ['s2', 'head'], ['y']),
        ],
        3,
        [
          i64('axis1', [1]),
          ...['y1', 'y2'].flatMap((y, k) => [
            f32(r, `W${y}`, [1, 3 * H, k === 0 ? I : H], 0.6),
            f32(r, `R${y}`, [1, 3 * H, H], 0.6),
            f32(r, `B${y}`, [1, 6 * H], 0.5),
          ]),
          f32(r, 'head', [H, 2]),
        ],
      ),
    )
    const graph = lowerOnnx(parseOnnx(bytes))
    const xs = samples(r, graph.inputs, 3)
    const reference = await ortRun(bytes, graph.inputs, xs)
    xs.forEach((x, k) => {
      const got = executeFloat(graph, x).get(graph.outputs[0].id)!
      expect(got.length).toBe(S * N * 2)
      expect(worstRelative(got, reference[k][0].data)).toBeLessThan(1e-5)
    })
  })
})

describe('what the lowering refuses', () => {
  const base: RecurrentCase = { op: 'GRU', seq: 3, batch: 2, input: 2, hidden: 3 }
  const lower = (c: RecurrentCase) => () => lowerOnnx(parseOnnx(buildModel(recurrentModel(c, rng(7)))))

  it('sequence_lens beyond the sequence, or one per batch entry missing: names the lengths', () => {
    expect(lower({ ...base, sequenceLens: [3, 4] })).toThrow(LoweringError)
    expect(lower({ ...base, sequenceLens: [3, 4] })).toThrow(
      /sequence_lens \[3,4\] must give each of the 2 sequences a length in \[0, 3\]: entry 1 is 4/,
    )
  })

  it('sequence_lens given as a model input: refused, saying why', () => {
    const r = rng(8)
    const gru = modelOf(
      [{ name: 'x', shape: [3, 2, 2] }],
      [node('GRU', ['x', 'W', 'R', '', 'lens'], ['', 'y'], { hidden_size: { int: 3 } })],
      3,
      [f32(r, 'W', [1, 9, 2]), f32(r, 'R', [1, 9, 3])],
    )
    const bytes = buildModel({ ...gru, inputs: [...gru.inputs, { name: 'lens', shape: [2], type: 'int32' }] })
    const lowering = () => lowerOnnx(parseOnnx(bytes))
    expect(lowering).toThrow(LoweringError)
    expect(lowering).toThrow(/node "\w*" \(GRU\): sequence_lens depends on the model input; only a constant/)
  })

  it('an activation ONNX does not list: names it', () => {
    const c = { ...base, attributes: { activations: { strings: ['Sigmoid', 'Gelu'] } } }
    expect(lower(c)).toThrow(LoweringError)
    expect(lower(c)).toThrow(/activation "Gelu" is not supported/)
  })

  it('a direction ONNX does not define, and an initial state of the wrong shape', () => {
    expect(lower({ ...base, attributes: { direction: { string: 'backward' } } })).toThrow(
      /direction "backward" is not one of forward, reverse, bidirectional/,
    )
    const params = recurrentModel({ ...base, initial: 'input' }, rng(7))
    params.inputs[1].shape = [1, 3, 2]
    expect(() => lowerOnnx(parseOnnx(buildModel(params)))).toThrow(/initial_h has shape \[1,3,2\], expected \[1,2,3\]/)
  })

  it('a wrong number of activations, and weights that do not match hidden_size', () => {
    expect(lower({ ...base, attributes: { activations: { strings: ['Sigmoid'] } } })).toThrow(
      /lists 1 functions; GRU takes 2 per direction/,
    )
    expect(lower({ ...base, attributes: { hidden_size: { int: 4 } } })).toThrow(
      /W has shape \[1,9,2\], expected \[1,12,2\]/,
    )
  })
})
