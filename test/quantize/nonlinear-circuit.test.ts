import { afterAll, describe, expect, it } from 'vitest'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import type { RequantOp } from '../../src/ir/types.js'
import { executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, rng } from '../helpers/circuit.js'
import { violated } from '../helpers/r1cs.js'
import { f32, ortRun, samples, worstRelative } from '../onnx/ort-diff.js'

/** Conv → Relu → MaxPool → Gemm → Sigmoid, small enough for a quick circuit; the logits are a second output. */
function cnn(r: () => number): BuildModelParameters {
  return {
    name: 'cnn-sigmoid',
    inputs: [{ name: 'x', shape: [1, 1, 6, 6] }],
    outputs: [
      { name: 'logits', shape: [1, 3] },
      { name: 'y', shape: [1, 3] },
    ],
    initializers: [f32(r, 'w', [2, 1, 3, 3]), f32(r, 'b', [2], 0.2), f32(r, 'fw', [3, 8]), f32(r, 'fb', [3], 0.2)],
    nodes: [
      { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
      { op: 'Relu', name: 'relu', inputs: ['c'], outputs: ['a'] },
      {
        op: 'MaxPool',
        name: 'pool',
        inputs: ['a'],
        outputs: ['p'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      { op: 'Flatten', name: 'flat', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', name: 'fc', inputs: ['f', 'fw', 'fb'], outputs: ['logits'], attributes: { transB: { int: 1 } } },
      { op: 'Sigmoid', name: 'sigmoid', inputs: ['logits'], outputs: ['y'] },
    ],
  }
}

describe('Conv → Relu → MaxPool → Gemm → Sigmoid end to end', () => {
  afterAll(shutdown)

  it('float graph equals onnxruntime; quantised within the lookup bound; circuit witness equals the executor', async () => {
    const r = rng(700)
    const bytes = buildModel(cnn(r))
    const graph = lowerOnnx(parseOnnx(bytes))
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp', 'max', 'affine', 'unary'])

    const cal = samples(r, graph.inputs, 32)
    const xs = cal.slice(0, 4)
    const reference = await ortRun(bytes, graph.inputs, xs)
    xs.forEach((x, k) => {
      const values = executeFloat(graph, x)
      graph.outputs.forEach((o, j) => expect(worstRelative(values.get(o.id)!, reference[k][j].data)).toBeLessThan(1e-4))
    })

    const ir = quantize(graph, cal)
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'requant', 'max', 'linear', 'requant', 'lookup'])
    // Sigmoid is 1/4-Lipschitz: its error is a quarter of the lookup input's (the logits' error plus
    // the requant rounding) plus half an output step. Inputs are calibration samples: nothing saturates.
    const requant = ir.steps[4].op as RequantOp
    expect(ir.steps[5].op.inputs).toEqual([ir.steps[4].output.id])
    const inScale = (ir.outputs[0].quant.scale * 2 ** requant.shift) / Number(requant.mul)
    xs.forEach((x, k) => {
      const run = execute(ir, quantizeInputs(ir.inputs, x))
      const [logits, y] = run.outputs.map((o, j) => dequantize(o, ir.outputs[j].quant))
      const logitErr = Math.max(...logits.map((v, i) => Math.abs(v - reference[k][0].data[i])))
      const yErr = Math.max(...y.map((v, i) => Math.abs(v - reference[k][1].data[i])))
      expect(yErr).toBeLessThanOrEqual(0.25 * (logitErr + inScale / 2) + ir.outputs[1].quant.scale / 2 + 1e-5)
    })

    const circuit = await buildCircuit(ir)
    expect(circuit.emitted.cost.max).toBeGreaterThan(0)
    expect(circuit.emitted.cost.lookup).toBeGreaterThan(0)
    console.log(
      `cnn-sigmoid circuit: ${circuit.r1cs.nConstraints} constraints (max ${circuit.emitted.cost.max}, lookup ${circuit.emitted.cost.lookup})`,
    )
    for (const x of cal.slice(0, 4)) {
      const q = quantizeInputs(ir.inputs, x)
      const w = await circuit.witness(q)
      const expected = await publicSignals(circuit.emitted.layout, q, execute(ir, q).outputs)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })
})
