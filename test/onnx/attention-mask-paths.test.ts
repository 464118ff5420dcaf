import { describe, expect, it } from 'vitest'
import { buildDirect } from '../../src/circuit/direct/build.js'
import { emitCircuit } from '../../src/circuit/emit.js'
import type { Visibility } from '../../src/circuit/layout.js'
import { checkWitness } from '../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { buildModel } from '../../src/onnx/write.js'
import { defaultCalibration } from '../../src/quantize/default-calibration.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { attention, maskAdded } from './attention-mask-models.js'
import { node } from './ort-diff.js'

/**
 * The masked attention (src/onnx/ops/input-mask.ts) in the direct circuit: the executor's
 * witness is accepted, a masked exp claimed nonzero is rejected, and so is a mask value of 2
 * (the binary input's range check). Its cost against the same attention without a mask.
 */
const VISIBILITY: Visibility = { input: 'public', output: 'public' }

describe('a masked attention in the direct circuit', () => {
  const graph = lowerOnnx(parseOnnx(buildModel(attention(maskAdded))))
  const model = quantize(graph, defaultCalibration(graph.inputs))
  const bounds = analyzeBounds(model)

  it('accepts the executor witness; rejects a masked exp made nonzero and a mask value of 2', () => {
    const mask = Float64Array.of(1, 1, 0, 1, 0)
    const x = quantizeInputs(model.inputs, [defaultCalibration(graph.inputs)[0][0], mask])
    const { system, witness } = buildDirect({ model, bounds, visibility: VISIBILITY, inputs: x })
    expect(checkWitness(system, witness!)).toBeNull()
    // The exp weighed by the mask: the mul step reading the exp lookup.
    const lookup = model.steps.findIndex((s) => s.op.op === 'lookup')
    const weighed = model.steps.findIndex((s, i) => i > lookup && s.op.op === 'mul')
    const names = new Map(Array.from({ length: system.wireCount }, (_, w) => [system.nameOf(w), w]))
    // Element 2 of the first query row is masked: its weighed exp is 0 in the honest witness.
    const wire = names.get(`main.s${model.steps[weighed].output.id}.o[2]`)
    expect(wire).toBeDefined()
    expect(witness![wire!]).toBe(0n)
    const t = [...witness!]
    t[wire!] = 1n
    expect(checkWitness(system, t)).not.toBeNull()
    // A mask of 2 is outside the input's domain: the range check fails (the executor would refuse it).
    const two = x.map((v, i) => (i === 1 ? v.map((m, j) => (j === 2 ? 2n : m)) : v))
    const forged = buildDirect({ model, bounds, visibility: VISIBILITY, inputs: two })
    expect(checkWitness(forged.system, forged.witness!)).not.toBeNull()
  })

  it('costs: the masked attention against the same attention unmasked', () => {
    const cost = (m: typeof model) => {
      const { cost: c } = emitCircuit({ model: m, bounds: analyzeBounds(m), visibility: VISIBILITY, source: false })
      return c.inputRangeChecks + c.requant + c.linear + c.max + c.lookup + c.mul + c.div + c.isqrt
    }
    const plain = lowerOnnx(parseOnnx(buildModel(attention([node('Identity', ['ss'], ['scores'])]))))
    const unmasked = cost(quantize(plain, defaultCalibration(plain.inputs)))
    const masked = cost(model)
    console.log(
      `masked attention (T 5, D 4): ${masked} constraints, unmasked ${unmasked}: ${((masked - unmasked) / 25).toFixed(1)} more per score`,
    )
    expect(masked).toBeGreaterThan(unmasked)
  })
})
