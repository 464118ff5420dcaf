import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURES, fixturePath } from '../../models/make-fixtures.js'
import { publicSignals } from '../../src/circuit/public.js'
import { execute } from '../../src/ir/execute.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { quantize } from '../../src/quantize/quantize.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, rng } from '../helpers/circuit.js'
import { violated } from '../helpers/r1cs.js'

const supported = FIXTURES.filter((f) => f.file !== 'unsupported.onnx')

describe('circuit = reference executor, on every fixture', () => {
  afterAll(shutdown)
  it.each(supported.map((f) => [f.file, f]))('%s', async (_, f) => {
    const graph = lowerOnnx(parseOnnx(readFileSync(fixturePath(f.file))))
    const r = rng(11)
    const sample = () =>
      graph.inputs.map((i) => Float64Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1))
    const ir = quantize(graph, Array.from({ length: 16 }, sample))
    for (const visibility of [
      { input: 'public', output: 'public' },
      { input: 'hashed', output: 'hashed' },
    ] as const) {
      const circuit = await buildCircuit(ir, visibility)
      for (let k = 0; k < 10; k++) {
        // Inputs within the calibrated range (scaled down so none falls outside the domain).
        const x = quantizeInputs(
          ir.inputs,
          sample().map((v) => v.map((e) => e * 0.9)),
        )
        const w = await circuit.witness(x)
        const expected = await publicSignals(circuit.emitted.layout, x, execute(ir, x).outputs)
        expect(w.slice(1, 1 + expected.length)).toEqual(expected)
        expect(violated(circuit.r1cs, w)).toEqual([])
      }
    }
  })
})
