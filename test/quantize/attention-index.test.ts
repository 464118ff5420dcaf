import { describe, expect, it } from 'vitest'
import type { RequantOp } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildModel } from '../../src/onnx/write.js'
import { EXP_INDEX_BITS_DROPPED, attentionCentred } from '../../src/quantize/attention-index.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { f32, modelOf, node, samples } from '../onnx/ort-diff.js'

const [S, E] = [4, 8]

/** softmax(x·Wq · (x·Wk)ᵀ) · (x·Wv) (attention), or softmax(x·Wq) · Wv (a softmax over a Gemm's logits). */
function graphOf(attention: boolean) {
  const r = rng(4)
  const nodes = attention
    ? [
        node('MatMul', ['x', 'wq'], ['q']),
        node('MatMul', ['x', 'wk'], ['k']),
        node('MatMul', ['x', 'wv'], ['v']),
        node('Transpose', ['k'], ['kt']),
        node('MatMul', ['q', 'kt'], ['s']),
        node('Softmax', ['s'], ['p'], { axis: { int: -1 } }),
        node('MatMul', ['p', 'v'], ['y']),
      ]
    : [
        node('MatMul', ['x', 'wq'], ['s']),
        node('Softmax', ['s'], ['p'], { axis: { int: -1 } }),
        node('MatMul', ['p', 'wv'], ['y']),
      ]
  const m = modelOf(
    [{ name: 'x', shape: [S, E] }],
    nodes,
    2,
    ['wq', 'wk', 'wv'].map((n) => f32(r, n, [E, E])),
    { opset: 13, name: 'attention-index' },
  )
  const graph = lowerOnnx(parseOnnx(buildModel(m)))
  return { graph, ir: quantize(graph, samples(r, graph.inputs, 16, -1, 1)) }
}

describe('the exp index of an attention softmax', () => {
  it('reads the exact score sums: the row max and x − max take no requant, x − max is requantised once for the table', () => {
    const { graph, ir } = graphOf(true)
    expect(attentionCentred(graph).size).toBe(1)
    const producer = new Map(ir.steps.map((s) => [s.output.id, s.op]))
    const max = ir.steps.find((s) => s.op.op === 'max')!.op
    expect(max.inputs.map((t) => producer.get(t)?.op)).toEqual(['linear'])
    // x − max at the scores' (products') exp, requantised to EXP_INDEX_BITS_DROPPED coarser than
    // its calibrated activation: a wide shift, never a multiply.
    const centred = ir.steps.find((s) => s.op.op === 'requant' && s.op.hi === 0n)!.op as RequantOp
    expect(producer.get(centred.inputs[0])?.op).toBe('linear')
    expect(centred.mul).toBe(1n)
    expect(centred.shift).toBeGreaterThan(EXP_INDEX_BITS_DROPPED)
  })

  it('is left alone over a Gemm’s logits (a classifier’s softmax keeps the scores’ resolution)', () => {
    const { graph, ir } = graphOf(false)
    expect(attentionCentred(graph).size).toBe(0)
    // Its x − max is requantised at its calibrated exp, as before (here one bit coarser than the
    // scores: x − max spans up to twice their range).
    const centred = ir.steps.find((s) => s.op.op === 'requant' && s.op.hi === 0n)!.op as RequantOp
    expect([centred.mul, centred.shift]).toEqual([1n, 1])
  })
})
