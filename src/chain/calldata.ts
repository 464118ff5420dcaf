import { Interface, concat, keccak256, toBeHex, zeroPadValue } from 'ethers'
import { type Groth16Arguments, type SnarkjsGroth16Proof, proofArguments } from '../prove/proof.js'
import { groth16VerifierAbi, verimlRegistryInterface } from './contracts.js'

// calldata()'s parameter type and field: callers of the encoder find them here too.
export type { SnarkjsGroth16Proof } from '../prove/proof.js'
export { SCALAR_FIELD } from '../util/field.js'

export interface CalldataReturnType extends Groth16Arguments {
  /** ABI-encoded `VerimlRegistry.verifyInference(modelId, a, b, c, pubSignals)`. */
  data: string
  /** ABI-encoded `verifyProof(a, b, c, pubSignals)` of the model's own verifier. */
  verifierData: string
  /** The statement id the registry records the proof under; only when the input signal count was given. */
  inferenceId?: string
}

const words = (signals: readonly bigint[]) => concat(signals.map((s) => toBeHex(s, 32)))

/**
 * The statement's input commitment: keccak256 of the input part of the signals (its packed
 * words, the optimistic claim's inputHash). A private input has no input part: the statement of
 * such a proof is its whole signal vector. As VerimlRegistry.statementIdOf.
 */
export function inputCommitmentOf(pubSignals: readonly bigint[], inputSignalCount: number): string {
  return keccak256(words(inputSignalCount === 0 ? pubSignals : pubSignals.slice(0, inputSignalCount)))
}

/** keccak256(modelId ‖ inputCommitment): the key of the statement's one result record in the registry. */
export function statementIdFor(modelId: string, inputCommitment: string): string {
  return keccak256(concat([zeroPadValue(modelId, 32), zeroPadValue(inputCommitment, 32)]))
}

/** The id verifyInference records a proof under (its statement id), as VerimlRegistry.statementIdOf. */
export function inferenceId(modelId: string, pubSignals: readonly bigint[], inputSignalCount: number): string {
  return statementIdFor(modelId, inputCommitmentOf(pubSignals, inputSignalCount))
}

/** ABI-encoded registry call (and verifier call) for a snarkjs proof of model `modelId`; a malformed proof throws ProofFormatError. */
export function calldata(
  proof: SnarkjsGroth16Proof,
  publicSignals: readonly (string | bigint)[],
  modelId: string,
  /** The model's input signal count (0: private input); without it the id is not computed. */
  inputSignalCount?: number,
): CalldataReturnType {
  const args = proofArguments(proof, publicSignals)
  const data = verimlRegistryInterface.encodeFunctionData('verifyInference', [
    modelId,
    args.a,
    args.b,
    args.c,
    args.pubSignals,
  ])
  const verifierData = new Interface(groth16VerifierAbi(args.pubSignals.length)).encodeFunctionData('verifyProof', [
    args.a,
    args.b,
    args.c,
    args.pubSignals,
  ])
  const id = inputSignalCount === undefined ? undefined : inferenceId(modelId, args.pubSignals, inputSignalCount)
  return { ...args, data, verifierData, ...(id === undefined ? {} : { inferenceId: id }) }
}
