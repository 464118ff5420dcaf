import { BaseError, type BaseErrorParameters } from '../errors.js'
import { SCALAR_FIELD } from '../util/field.js'

/**
 * A snarkjs Groth16 proof as veriml reads it: its type, its one format error, and the field
 * parsing both the off-chain verifier (prove/verify.ts) and the calldata encoder
 * (chain/calldata.ts) need. It lives below chain so that verify never imports chain, and so
 * that both throw the same `ProofFormatError` (one class: `instanceof` on the exported one
 * catches what either throws).
 */

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

export type Uint2 = [bigint, bigint]
export type G2Point = [Uint2, Uint2]

/** The arguments of `verifyProof` / `verifyInference`, as snarkjs's exportSolidityCallData orders them. */
export interface Groth16Arguments {
  a: Uint2
  /** G2 coordinates swapped within each pair: the EVM precompile takes (x_im, x_re). */
  b: G2Point
  c: Uint2
  pubSignals: bigint[]
}

/**
 * Where a proof is malformed: one of its fields (`pi_a[0]`, `public[3]`, `curve`) and why, or
 * a whole file (not JSON, not an array of signals) and what is wrong with it.
 */
export type ProofFormatErrorParameters = BaseErrorParameters &
  ({ field: string; reason: string } | { path: string; problem: string })

/** A proof.json / public.json that is not a snarkjs Groth16 bn128 proof. */
export class ProofFormatError extends BaseError {
  override name = 'ProofFormatError'
  /** The malformed field, when one field is at fault. */
  readonly field: string | undefined
  /** The malformed file, when the whole file is at fault. */
  readonly path: string | undefined
  constructor(p: ProofFormatErrorParameters) {
    super('field' in p ? `malformed proof: ${p.field}: ${p.reason}` : `${p.path} ${p.problem}`, {
      details:
        'field' in p ? ['Expected snarkjs Groth16 proof.json / public.json (bn128).', ...(p.details ?? [])] : p.details,
      cause: p.cause,
    })
    this.field = 'field' in p ? p.field : undefined
    this.path = 'path' in p ? p.path : undefined
  }
}

/** BN254 base field order: proof coordinates lie below it. */
const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

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

/** snarkjs-style argument arrays for a proof and its public signals; a malformed field throws ProofFormatError. */
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
