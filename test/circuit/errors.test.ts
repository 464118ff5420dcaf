import { describe, expect, it } from 'vitest'
import type { PublicLayout } from '../../src/circuit/layout.js'
import { packLayout } from '../../src/circuit/packing.js'
import { MissingWeightCommitmentError, publicSignals } from '../../src/circuit/public.js'
import { NoWeightsError } from '../../src/circuit/weights.js'

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
})
