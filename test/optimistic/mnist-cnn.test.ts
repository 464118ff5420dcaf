import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import type { IrModel } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { parseInputs, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { deployGame, executeElement, executorOf, registerTestModel, startChain } from './chain.js'
import { rng } from './models.js'
import { lieLosesAt } from './scenario.js'

const ROOT = join(import.meta.dirname, '..', '..')

/**
 * The bundled QDQ MNIST CNN (conv → requant → MaxPool 2×2 → conv → requant → Gemm →
 * requant, half-even as onnxruntime rounds) played on the optimistic path: the one-step equals
 * the reference trace on sampled elements of every step, and a claim lying at the max pool loses.
 */
describe('optimistic game on models/mnist-cnn.int8.onnx', () => {
  let anvil: AnvilInstance
  let model: IrModel
  let inputs: bigint[][]
  beforeAll(async () => {
    anvil = await startChain()
    const onnx = parseOnnx(new Uint8Array(await readFile(join(ROOT, 'models', 'mnist-cnn.int8.onnx'))))
    const graph = lowerOnnx(onnx)
    model = quantize(graph, [])
    const digits = parseInputs(
      JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-cnn-calibration.json'), 'utf8')),
      graph.inputs,
      { many: true },
    )
    inputs = quantizeInputs(model.inputs, digits[3])
  })
  afterAll(async () => anvil?.stop())

  it('the one-step (valueAt, or foldRow + foldStep) equals the trace on sampled elements of every step; a lie at the max pool loses', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, model)
    const kinds = model.steps.map((s) =>
      s.op.op === 'requant' && s.op.rounding ? `requant ${s.op.rounding}` : s.op.op,
    )
    console.log(`mnist-cnn steps: ${kinds.join(', ')}`)
    expect(kinds).toContain('max')
    const trace = buildTrace(model, inputs)
    const ex = executorOf(f)
    const r = rng(1)
    for (let s = 0; s < model.steps.length; s++) {
      const pos = m.params.layout.inputCount + s
      const n = trace.states[pos].length
      for (const j of [0, n - 1, r.int(0, n - 1), r.int(0, n - 1)]) {
        expect(await executeElement(ex, model, m.params, trace, s, j), `step ${s} (${kinds[s]}) element ${j}`).toBe(
          trace.states[pos][j],
        )
      }
    }
    const maxState = m.params.layout.inputCount + kinds.indexOf('max')
    const { moves, gas } = await lieLosesAt(f, m, inputs, maxState, { element: 17 })
    const largest = moves.reduce((a, x) => (x.gasUsed > a.gasUsed ? x : a))
    console.log(
      `mnist-cnn: dispute over the max pool in ${moves.length} moves, ${gas} gas; largest ${largest.move} ${largest.gasUsed} gas`,
    )
    expect(moves.at(-1)!.move).toBe('foldStep')
  })
})
