import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { type FloatDiv, type FloatGraph, executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type NodeSpec, buildModel } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { f32, modelOf, node, ortRun, samples } from '../onnx/ort-diff.js'

/**
 * Attention normalised after the value product (src/onnx/softmax-values.ts): softmax(s)·V as
 * (Σ e·v) / Σ e, one division per context element instead of one per score, against
 * onnxruntime; and the softmaxes it must leave alone.
 */

const [S, E] = [6, 4]

/** x → Q, K, V; softmax(Q·Kᵀ) read by `tail` (the MatMul with V, or more). */
function attention(tail: readonly NodeSpec[], seed: number): Uint8Array {
  const r = rng(seed)
  return buildModel(
    modelOf(
      [{ name: 'x', shape: [S, E] }],
      [
        node('MatMul', ['x', 'wq'], ['q']),
        node('MatMul', ['x', 'wk'], ['k']),
        node('MatMul', ['x', 'wv'], ['v']),
        node('Transpose', ['k'], ['kt']),
        node('MatMul', ['q', 'kt'], ['s']),
        node('Softmax', ['s'], ['p'], { axis: { int: -1 } }),
        ...tail,
      ],
      2,
      [...['wq', 'wk', 'wv'].map((n) => f32(r, n, [E, E])), f32(r, 'b', [E])],
    ),
  )
}

const divisions = (g: FloatGraph) => g.steps.filter((s) => s.op.kind === 'div').map((s) => s.op as FloatDiv)

describe('attention normalised after the value product', () => {
  it('softmax(Q·Kᵀ)·V: one division per context element, equal to onnxruntime in float and close quantised', async () => {
    const bytes = attention([node('MatMul', ['p', 'v'], ['y'])], 40)
    const graph = lowerOnnx(parseOnnx(bytes))
    // One division, after the sum over the keys: S·E quotients (not S·S), each by its query's row sum.
    const [div] = divisions(graph)
    expect(divisions(graph)).toHaveLength(1)
    expect(div.num.length).toBe(S * E)
    expect(div.denLo).toBe(1)
    const sum = graph.steps.find((s) => s.id === div.inputs[0])!
    expect(sum.op.kind).toBe('affine')
    expect(graph.outputs[0].id).toBe(graph.steps.at(-1)!.id)
    const calib = samples(rng(41), graph.inputs, 16, -1, 1)
    const reference = await ortRun(bytes, graph.inputs, calib.slice(0, 4))
    const ir = quantize(graph, calib)
    // The IR passes the bounds analysis (no operand out of range) and divides S rows once each.
    analyzeBounds(ir)
    expect(ir.steps.filter((s) => s.op.op === 'div').map((s) => s.output.shape)).toEqual([[S, 1]])
    let floatWorst = 0
    let worst = 0
    calib.slice(0, 4).forEach((s, k) => {
      const want = reference[k][0].data
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, s)).outputs[0], ir.outputs[0].quant)
      const float = executeFloat(graph, s).get(graph.outputs[0].id)!
      for (let i = 0; i < want.length; i++) {
        floatWorst = Math.max(floatWorst, Math.abs(float[i] - want[i]))
        worst = Math.max(worst, Math.abs(got[i] - want[i]))
      }
    })
    expect(floatWorst).toBeLessThan(1e-5)
    // Measured 0.055 (outputs up to 1.4: int8 scores, 12-bit exp, int8 context); the per-score
    // division gave 0.058 on this model (on all 16 samples, against the float graph).
    console.log(`softmax(Q·Kᵀ)·V normalised after V: max |error| ${worst.toPrecision(3)}`)
    expect(worst).toBeLessThan(0.1)
  })

  it.each([
    [
      'the probabilities are read twice (by two MatMuls)',
      [node('MatMul', ['p', 'v'], ['o1']), node('MatMul', ['p', 'v'], ['o2']), node('Add', ['o1', 'o2'], ['y'])],
    ],
    ['the probabilities are the output', [node('Identity', ['p'], ['y'])]],
    ['the product with V adds a bias (Gemm)', [node('Gemm', ['p', 'v', 'b'], ['y'])]],
  ] as const)('keeps one division per score when %s', (_, tail) => {
    const graph = lowerOnnx(parseOnnx(attention(tail, 42)))
    expect(divisions(graph).map((d) => d.num.length)).toEqual([S * S])
  })
})
