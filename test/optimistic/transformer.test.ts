import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gptOnnx } from '../../models/gpt.js'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import type { IrModel, OpKind } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng as seeded } from '../helpers/circuit.js'
import { samples } from '../onnx/ort-diff.js'
import { deployGame, executeElement, executorOf, registerTestModel, startChain } from './chain.js'
import { rng } from './models.js'
import { lieLosesAt } from './scenario.js'

/**
 * A nanoGPT-shaped decoder (models/gpt.ts: causal multi-head attention with the Where mask,
 * LayerNorm, erf-GELU MLP, seeded weights; one layer, block 8, embd 16, 2 heads) on the
 * optimistic path: the one-step equals the reference trace on sampled elements of every step,
 * and a claim lying inside the attention scores (a product of two activations), the softmax
 * (its per-row reciprocal) or the normalisation (σ's integer square root) loses, each at the
 * lying step.
 */
describe('optimistic game on a GPT block', () => {
  let anvil: AnvilInstance
  let model: IrModel
  let inputs: bigint[][]
  beforeAll(async () => {
    anvil = await startChain()
    const bytes = gptOnnx({ block: 8, vocab: 16, layers: 1, heads: 2, embd: 16, seed: 3, input: 'embeddings' })
    const graph = lowerOnnx(parseOnnx(bytes))
    const calibration = samples(seeded(61), graph.inputs, 8)
    model = quantize(graph, calibration)
    inputs = quantizeInputs(model.inputs, calibration[0])
  })
  afterAll(async () => anvil?.stop())

  it('every step kind re-executes on chain as the trace says; lies in attention, softmax and normalisation lose', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, model)
    const kinds = model.steps.map((s) => s.op.op)
    for (const k of ['mul', 'div', 'isqrt', 'lookup', 'max', 'requant', 'linear', 'gather'] as OpKind[])
      expect(kinds, `a ${k} step`).toContain(k)
    const trace = buildTrace(model, inputs)
    const ex = executorOf(f)
    const r = rng(2)
    // Two sampled elements of every step (first and one at random): the executor's value, or the fold's.
    for (let s = 0; s < model.steps.length; s++) {
      const pos = m.params.layout.inputCount + s
      const n = trace.states[pos].length
      for (const j of [0, r.int(0, n - 1)])
        expect(await executeElement(ex, model, m.params, trace, s, j), `step ${s} (${kinds[s]}) element ${j}`).toBe(
          trace.states[pos][j],
        )
    }
    // The attention scores' products, the softmax's reciprocal, the normalisation's root.
    const at = (kind: OpKind, origin: RegExp) =>
      m.params.layout.inputCount + model.steps.findIndex((s) => s.op.op === kind && origin.test(s.origin))
    const lies: [string, number][] = [
      ['attention score product', at('mul', /attn/)],
      ['softmax reciprocal', at('div', /softmax|attn/)],
      ['LayerNorm square root', at('isqrt', /ln|norm/)],
    ]
    for (const [what, state] of lies) {
      expect(state, what).toBeGreaterThanOrEqual(m.params.layout.inputCount)
      const { moves, gas } = await lieLosesAt(f, m, inputs, state, { what })
      const largest = moves.reduce((a, x) => (x.gasUsed > a.gasUsed ? x : a))
      console.log(
        `GPT block, lie at the ${what}: ${moves.length} moves, ${gas} gas in all, largest ${largest.move} ${largest.gasUsed}`,
      )
    }
  })
})
