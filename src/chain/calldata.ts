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
  inferenceId: string
}

/** The id the registry records: keccak256(modelId ‖ signal words), as `abi.encodePacked`. */
export function inferenceId(modelId: string, pubSignals: readonly bigint[]): string {
  return keccak256(concat([zeroPadValue(modelId, 32), ...pubSignals.map((s) => toBeHex(s, 32))]))
}

/** ABI-encoded registry call (and verifier call) for a snarkjs proof of model `modelId`; a malformed proof throws ProofFormatError. */
export function calldata(
  proof: SnarkjsGroth16Proof,
  publicSignals: readonly (string | bigint)[],
  modelId: string,
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
  return { ...args, data, verifierData, inferenceId: inferenceId(modelId, args.pubSignals) }
}
