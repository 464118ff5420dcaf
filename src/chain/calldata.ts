import { Interface, concat, keccak256, toBeHex, zeroPadValue } from 'ethers'
import { ProofFormatError } from './errors.js'
import { type G2Point, type Uint2, groth16VerifierAbi, verimlRegistryInterface } from './contracts.js'

/**
 * snarkjs's `proof.json` (Groth16). Declared here, not re-exported from 'snarkjs': snarkjs ships no types
 * (src/types/vendor.d.ts is ours and stays out of dist), so the published .d.ts must not import it.
 */
export interface SnarkjsGroth16Proof {
  pi_a: string[]
  pi_b: string[][]
  pi_c: string[]
  protocol: string
  curve: string
}

/** BN254 base field order: proof coordinates lie below it. */
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n
export { SCALAR_FIELD } from '../util/field.js'
import { SCALAR_FIELD } from '../util/field.js'

/** The arguments of `verifyProof` / `verifyInference`, as snarkjs's exportSolidityCallData orders them. */
export interface Groth16Arguments {
  a: Uint2
  /** G2 coordinates swapped within each pair: the EVM precompile takes (x_im, x_re). */
  b: G2Point
  c: Uint2
  pubSignals: bigint[]
}

export interface CalldataReturnType extends Groth16Arguments {
  /** ABI-encoded `VerimlRegistry.verifyInference(modelId, a, b, c, pubSignals)`. */
  data: string
  /** ABI-encoded `verifyProof(a, b, c, pubSignals)` of the model's own verifier. */
  verifierData: string
  inferenceId: string
}

function toInteger(value: unknown, field: string, bound: bigint): bigint {
  if (typeof value !== 'string' && typeof value !== 'bigint' && typeof value !== 'number') {
    throw new ProofFormatError({ field, reason: `expected a decimal string, got ${typeof value}` })
  }
  let n: bigint
  try {
    n = BigInt(value)
  } catch (error) {
    throw new ProofFormatError({ field, reason: `not an integer: ${String(value)}`, cause: error })
  }
  if (n < 0n || n >= bound) throw new ProofFormatError({ field, reason: `${n} is outside the field` })
  return n
}

/** snarkjs-style argument arrays for a proof and its public signals. */
export function proofArguments(
  proof: SnarkjsGroth16Proof,
  publicSignals: readonly (string | bigint)[],
): Groth16Arguments {
  if (proof.protocol !== undefined && proof.protocol !== 'groth16') {
    throw new ProofFormatError({ field: 'protocol', reason: `expected groth16, got ${proof.protocol}` })
  }
  if (proof.curve !== undefined && proof.curve !== 'bn128') {
    throw new ProofFormatError({ field: 'curve', reason: `expected bn128, got ${proof.curve}` })
  }
  if (!Array.isArray(proof.pi_a) || !Array.isArray(proof.pi_b) || !Array.isArray(proof.pi_c) || proof.pi_b.length < 2) {
    throw new ProofFormatError({ field: 'pi_a/pi_b/pi_c', reason: 'missing' })
  }
  const q = (v: unknown, field: string) => toInteger(v, field, BASE_FIELD)
  return {
    a: [q(proof.pi_a[0], 'pi_a[0]'), q(proof.pi_a[1], 'pi_a[1]')],
    b: [
      [q(proof.pi_b[0][1], 'pi_b[0][1]'), q(proof.pi_b[0][0], 'pi_b[0][0]')],
      [q(proof.pi_b[1][1], 'pi_b[1][1]'), q(proof.pi_b[1][0], 'pi_b[1][0]')],
    ],
    c: [q(proof.pi_c[0], 'pi_c[0]'), q(proof.pi_c[1], 'pi_c[1]')],
    pubSignals: publicSignals.map((s, i) => toInteger(s, `public[${i}]`, SCALAR_FIELD)),
  }
}

/** The id the registry records: keccak256(modelId ‖ signal words), as `abi.encodePacked`. */
export function inferenceId(modelId: string, pubSignals: readonly bigint[]): string {
  return keccak256(concat([zeroPadValue(modelId, 32), ...pubSignals.map((s) => toBeHex(s, 32))]))
}

/** ABI-encoded registry call (and verifier call) for a snarkjs proof of model `modelId`. */
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
