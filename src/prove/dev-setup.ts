/**
 * INSECURE development Groth16 setup: draws the toxic waste (tau, alpha, beta, delta) from a
 * CSPRNG in-process and computes the proving key straight from those scalars, instead of
 * from a powers-of-tau file. The zkey is byte-compatible with snarkjs 0.7.6: its prover,
 * `exportVerificationKey` and (with the optional prepared ptau) `zkey verify` accept it.
 *
 * Never use these keys for anything an adversary can touch: whoever ran devSetup could have
 * kept the secrets and can forge proofs.
 */
import { readFile } from 'node:fs/promises'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { FR, loadCurve, loadFfjavascript } from './dev-setup-curve.js'
import { DEV_SETUP_CONTRIBUTION_NAME, FR_TWO_ADICITY, computeKeys } from './dev-setup-keys.js'
import { parseR1cs, R1csFormatError } from './r1cs.js'

export { DEV_SETUP_CONTRIBUTION_NAME, R1csFormatError }

export interface DevSetupParameters {
  r1csPath: string
  zkeyPath: string
  /** Also write a prepared powers-of-tau file from the same tau, for `snarkjs zkey verify`. */
  ptauPath?: string
  log?: (line: string) => void
}

export interface DevSetupReturnType {
  zkeyPath: string
  ptauPath: string | undefined
  /** Power of the written ptau file (undefined when no ptau was requested). */
  ptauPower: number | undefined
  /** snarkjs's circuit hash (blake2b-512), hex; identical to what `groth16 setup` reports. */
  circuitHashHex: string
  nConstraints: number
  /** Terms in all of the circuit's A, B and C linear combinations. */
  nCoefficients: number
  nVars: number
  nPublic: number
  domainSize: number
  setupMs: number
}

export type DevSetupErrorType = DevSetupError | R1csFormatError

export class DevSetupError extends BaseError {
  override name = 'DevSetupError'
  readonly r1csPath: string
  readonly reason: string
  constructor(p: BaseErrorParameters & { r1csPath: string; reason: string }) {
    super(`dev setup failed for ${p.r1csPath}: ${p.reason}`, { details: p.details, cause: p.cause })
    this.r1csPath = p.r1csPath
    this.reason = p.reason
  }
}

export async function devSetup({ r1csPath, zkeyPath, ptauPath, log }: DevSetupParameters): Promise<DevSetupReturnType> {
  const startMs = performance.now()
  let bytes: Uint8Array
  try {
    bytes = await readFile(r1csPath)
  } catch (cause) {
    throw new DevSetupError({ r1csPath, reason: 'cannot read the r1cs file', cause })
  }
  const r1cs = parseR1cs(bytes)
  if (r1cs.prime !== FR) {
    throw new DevSetupError({ r1csPath, reason: `circuit prime ${r1cs.prime} is not BN254's scalar field` })
  }
  // Same domain rule as snarkjs newZKey: room for every constraint plus one extra
  // constraint per public signal (and ONE).
  const nPublic = r1cs.nOutputs + r1cs.nPubInputs
  const cirPower = floorLog2(r1cs.nConstraints + nPublic) + 1
  if (cirPower + 1 > FR_TWO_ADICITY) {
    throw new DevSetupError({
      r1csPath,
      reason: `domain 2^${cirPower} too large for BN254 (max 2^${FR_TWO_ADICITY - 1})`,
    })
  }
  const [curve, ff] = await Promise.all([loadCurve(), loadFfjavascript()])
  log?.(`dev setup: ${r1cs.nConstraints} constraints, ${r1cs.nVars} wires, ${nPublic} public, domain 2^${cirPower}`)
  // Everything between here and the writes is synchronous, so concurrent devSetup calls
  // cannot interleave on the shared wasm arena.
  const keys = computeKeys(curve, ff, r1cs, cirPower, ptauPath !== undefined)
  log?.(`dev setup: keys computed in ${(performance.now() - startMs).toFixed(0)} ms`)
  await writeFileAtomic(zkeyPath, keys.zkey)
  if (ptauPath !== undefined && keys.ptau) await writeFileAtomic(ptauPath, keys.ptau.bytes)
  return {
    zkeyPath,
    ptauPath,
    ptauPower: keys.ptau?.power,
    circuitHashHex: Buffer.from(keys.circuitHash).toString('hex'),
    nConstraints: r1cs.nConstraints,
    nCoefficients: r1cs.constraints.reduce((sum, [lcA, lcB, lcC]) => sum + lcA.length + lcB.length + lcC.length, 0),
    nVars: r1cs.nVars,
    nPublic,
    domainSize: 2 ** cirPower,
    setupMs: performance.now() - startMs,
  }
}

function floorLog2(v: number): number {
  return 31 - Math.clz32(v)
}
