import { describe, expect, it } from 'vitest'
import { SCALAR_FIELD } from '../../src/chain/calldata.js'
import { ProofFormatError, type SnarkjsGroth16Proof, calldata, proofArguments } from '../../src/index.js'

/** Coordinates in range; no curve check happens before the pairing, so any small numbers encode. */
const proof: SnarkjsGroth16Proof = {
  pi_a: ['1', '2', '1'],
  pi_b: [
    ['3', '4'],
    ['5', '6'],
    ['1', '0'],
  ],
  pi_c: ['7', '8', '1'],
  protocol: 'groth16',
  curve: 'bn128',
}
const modelId = `0x${'11'.repeat(32)}`

describe('one ProofFormatError for the calldata encoder and the verifier', () => {
  it('a well-formed proof encodes, G2 pairs swapped for the precompile', () => {
    const c = calldata(proof, ['9'], modelId)
    expect(c.b).toEqual([
      [4n, 3n],
      [6n, 5n],
    ])
    expect(c.pubSignals).toEqual([9n])
  })

  it.each<[string, SnarkjsGroth16Proof, string[], string, string]>([
    ['a coordinate that is no integer', { ...proof, pi_a: ['x', '2', '1'] }, ['9'], 'pi_a[0]', 'not an integer: x'],
    ['another curve', { ...proof, curve: 'bls12381' }, ['9'], 'curve', 'expected bn128, got bls12381'],
    ['no pi_b', { ...proof, pi_b: undefined as never }, ['9'], 'pi_a/pi_b/pi_c', 'missing'],
    [
      'a signal outside the field',
      proof,
      [SCALAR_FIELD.toString()],
      'public[0]',
      `${SCALAR_FIELD} is outside the field`,
    ],
  ])('calldata() refuses %s with the exported ProofFormatError', (_, bad, signals, field, reason) => {
    expect(() => calldata(bad, signals, modelId)).toThrow(ProofFormatError)
    expect(() => proofArguments(bad, signals)).toThrow(ProofFormatError)
    expect(() => calldata(bad, signals, modelId)).toThrow(
      expect.objectContaining({
        field,
        path: undefined,
        shortMessage: `malformed proof: ${field}: ${reason}`,
        details: ['Expected snarkjs Groth16 proof.json / public.json (bn128).'],
      }),
    )
  })

  it("a whole file at fault keeps verifyProof's message: the path, then the problem, no details", () => {
    const e = new ProofFormatError({ path: '/p/public.json', problem: 'must be a JSON array of decimal strings' })
    expect(e).toMatchObject({
      path: '/p/public.json',
      field: undefined,
      shortMessage: '/p/public.json must be a JSON array of decimal strings',
      details: [],
    })
  })
})
