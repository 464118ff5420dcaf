import { readFile } from 'node:fs/promises'
import * as snarkjs from 'snarkjs'
import { decodeOutputs } from '../circuit/public.js'
import { BaseError } from '../errors.js'
import { MissingArtifactError } from './errors.js'
import { artifactPaths, proofPaths } from './paths.js'
import { loadCompiled } from './setup.js'

export class ProofFormatError extends BaseError {
  override name = 'ProofFormatError'
}

export interface VerifyProofReturnType {
  valid: boolean
  /** Why it is invalid, when it is. */
  reason?: string
  modelId: string
  /** Decoded outputs when they are public. */
  outputs: bigint[][] | null
  verifyMs: number
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new MissingArtifactError(path, `expected ${what}`)
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ProofFormatError(`${path} is not valid JSON`, { cause })
  }
}

/** Off-chain Groth16 verification of a proof folder against a compiled model's verification key. */
export async function verifyProof(dir: string, proofDir: string): Promise<VerifyProofReturnType> {
  const manifest = await loadCompiled(dir)
  const vkey = await readJson(artifactPaths(dir).verificationKey, 'a verification key: run `veriml setup` first')
  const pp = proofPaths(proofDir)
  const proof = (await readJson(pp.proof, 'a snarkjs proof.json')) as snarkjs.Groth16Proof
  const signals = await readJson(pp.public, 'a snarkjs public.json')
  if (!Array.isArray(signals) || !signals.every((s) => typeof s === 'string' && /^\d+$/.test(s))) {
    throw new ProofFormatError(`${pp.public} must be a JSON array of decimal strings`)
  }
  const base = { modelId: manifest.modelId, outputs: null, verifyMs: 0 }
  if (signals.length !== manifest.layout.count) {
    return { ...base, valid: false, reason: `expected ${manifest.layout.count} public signals for this model, found ${signals.length}` }
  }
  const commitment = manifest.layout.weights?.commitment
  if (commitment !== undefined && signals.at(-1) !== commitment) {
    // The pairing check alone would accept a proof made with other weights: the commitment
    // is a public signal like any other, so it must equal this model's.
    return { ...base, valid: false, reason: `the proof's weight commitment ${signals.at(-1)} is not this model's (${commitment}): it was made with other weights` }
  }
  const started = performance.now()
  let valid: boolean
  try {
    valid = await snarkjs.groth16.verify(vkey, signals, proof)
  } catch (cause) {
    // snarkjs throws on points it cannot parse: a malformed proof is an invalid one.
    return { ...base, valid: false, reason: `malformed proof: ${(cause as Error).message}` }
  }
  const verifyMs = performance.now() - started
  return {
    ...base,
    valid,
    verifyMs,
    reason: valid ? undefined : 'the Groth16 pairing check failed: the proof does not match these public signals and this verification key',
    outputs: valid ? decodeOutputs(manifest.layout, signals.map(BigInt)) : null,
  }
}
