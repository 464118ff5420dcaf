import { describe, expect, it } from 'vitest'
import type { PublicLayout } from '../../src/circuit/layout.js'
import { packLayout } from '../../src/circuit/packing.js'
import { MissingWeightCommitmentError, publicSignals } from '../../src/circuit/public.js'
import { NoWeightsError } from '../../src/circuit/weights.js'
import { CircuitSourceTooLargeError, emitCircuit } from '../../src/circuit/emit.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { normModel } from '../helpers/op-models.js'

// One constructor shape (issue 14): fields kept, a caller's details after the class's own.
describe('circuit errors', () => {
  it('NoWeightsError names the model', () => {
    const e = new NoWeightsError({ model: 'm', details: ['extra'] })
    expect(e.model).toBe('m')
    expect(e.message).toBe(
      'model "m" has no linear op, so it has no weights to commit to\n  Compile it with --weights constant.\n  extra',
    )
  })

  it('MissingWeightCommitmentError takes { problem } like every error without fields', () => {
    const cause = new Error('underlying')
    const e = new MissingWeightCommitmentError({ problem: 'no commitment', cause })
    expect(e.problem).toBe('no commitment')
    expect(e.shortMessage).toBe('no commitment')
    expect(e.details).toHaveLength(1)
    expect(e.cause).toBe(cause)
  })

  it('publicSignals still says what it said before the object shape when the commitment is missing', async () => {
    const layout: PublicLayout = {
      visibility: { input: 'public', output: 'public' },
      inputs: [packLayout(1, 0n, 1n)],
      outputs: [packLayout(1, 0n, 1n)],
      count: 3,
      weights: { values: 1, elements: 1 },
    }
    await expect(publicSignals(layout, [[0n]], [[1n]])).rejects.toThrow(
      'the public layout has hashed weights but no weight commitment\n  Compute it with weightCommitment(model) and set layout.weights.commitment (compileModel does this).',
    )
  })

  it('a circom source past the largest string is a typed error; the plan and its cost need no source', () => {
    const model = normModel()
    const p = { model, bounds: analyzeBounds(model), visibility: { input: 'public', output: 'public' } } as const
    const whole = emitCircuit(p)
    expect(() => emitCircuit({ ...p, maxSourceChars: whole.source.length - 1000 })).toThrow(CircuitSourceTooLargeError)
    expect(() => emitCircuit({ ...p, maxSourceChars: 100 })).toThrow(/circom source would be 0 MB, beyond the 511 MB/)
    const plan = emitCircuit({ ...p, source: false })
    expect(plan.source).toBe('')
    expect(plan.cost).toEqual(whole.cost)
  })
})
