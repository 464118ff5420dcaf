import * as snarkjs from 'snarkjs'
import { decodeOutputs } from '../circuit/public.js'
import type { BaseError } from '../errors.js'
import { MissingArtifactError } from './errors.js'
import { InconsistentBuildError, checkArtifacts } from './build-folder.js'
import { FileError, readInputFile } from '../util/external.js'
import { ProofFormatError, type SnarkjsGroth16Proof, proofArguments } from './proof.js'
import { type ModelSource, resolveModel } from '../model.js'
import { proofPaths } from './paths.js'

export interface VerifyProofParameters {
  /** A loaded model or its build folder: its verification key is the one the proof must satisfy. */
  model: ModelSource
  /** A folder with proof.json and public.json (output.json, when present, is checked too). */
  proofDir: string
}

export interface VerifyProofReturnType {
  valid: boolean
  /** Why it is invalid, when it is. */
  reason?: string
  modelId: string
  /** Decoded outputs when they are public. */
  outputs: bigint[][] | null
  verifyMs: number
  /** What output.json was checked against, for the report: absent, matches, or not checkable (hashed outputs). */
  outputFile?: 'absent' | 'matches' | 'model id only (outputs are hashed)'
}

/** Proof files are small: anything larger is refused before it is read. */
const MAX_PROOF_FILE_BYTES = 64 * 2 ** 20

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = (await readInputFile(path, what, MAX_PROOF_FILE_BYTES)).toString('utf8')
  } catch (cause) {
    if (cause instanceof FileError && cause.code === 'ENOENT')
      throw new MissingArtifactError({ path, hint: `expected ${what}` })
    throw cause
  }
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new ProofFormatError({ path, problem: 'is not valid JSON', cause })
  }
}

/** Off-chain Groth16 verification of a proof folder against a compiled model's verification key. */
export async function verifyProof({ model: source, proofDir }: VerifyProofParameters): Promise<VerifyProofReturnType> {
  const { manifest, dir, paths } = await resolveModel(source, { target: 'zk' })
  const vkeyPath = paths.verificationKey
  if (!manifest.setup)
    throw new MissingArtifactError({
      path: vkeyPath,
      hint: `no verification key: run \`veriml setup ${dir} --dev\` (or --ptau FILE) first.`,
    })
  // Another model's key would verify that model's proofs "for" this one.
  await checkArtifacts(dir, manifest, ['verificationKey'])
  const vkey = await readJson(vkeyPath, 'a verification key: run `veriml setup` first')
  const nPublic = (vkey as { nPublic?: unknown } | null)?.nPublic
  if (nPublic !== manifest.layout.count) {
    throw new InconsistentBuildError({
      dir,
      path: vkeyPath,
      problem: `is for ${String(nPublic)} public signals, this model has ${manifest.layout.count}`,
      fix: 'setup',
    })
  }
  const pp = proofPaths(proofDir)
  const proof = (await readJson(pp.proof, 'a snarkjs proof.json')) as snarkjs.Groth16Proof
  const signals = await readJson(pp.public, 'a snarkjs public.json')
  if (!Array.isArray(signals) || !signals.every((s) => typeof s === 'string' && /^\d+$/.test(s))) {
    throw new ProofFormatError({ path: pp.public, problem: 'must be a JSON array of decimal strings' })
  }
  const base = { modelId: manifest.modelId, outputs: null, verifyMs: 0 }
  if (signals.length !== manifest.layout.count) {
    return {
      ...base,
      valid: false,
      reason: `expected ${manifest.layout.count} public signals for this model, found ${signals.length}`,
    }
  }
  const commitment = manifest.layout.weights?.commitment
  if (commitment !== undefined && signals.at(-1) !== commitment) {
    // The pairing check alone would accept a proof made with other weights: the commitment
    // is a public signal like any other, so it must equal this model's.
    return {
      ...base,
      valid: false,
      reason: `the proof's weight commitment ${signals.at(-1)} is not this model's (${commitment}): it was made with other weights`,
    }
  }
  try {
    // Shape and field ranges first: snarkjs reports a malformed proof as a TypeError.
    proofArguments(proof as SnarkjsGroth16Proof, signals)
  } catch (cause) {
    return {
      ...base,
      valid: false,
      reason:
        cause instanceof ProofFormatError
          ? cause.shortMessage
          : 'malformed proof: proof.json is not a snarkjs Groth16 proof',
    }
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
  if (!valid)
    return {
      ...base,
      valid,
      verifyMs,
      reason:
        'the Groth16 pairing check failed: the proof does not match these public signals and this verification key',
    }
  const outputs = decodeOutputs(manifest.layout, signals.map(BigInt))
  const file = await checkOutputFile(pp.output, manifest.modelId, outputs)
  if (typeof file === 'object') return { ...base, valid: false, verifyMs, reason: file.problem }
  return { ...base, valid, verifyMs, outputs, outputFile: file }
}

/**
 * output.json is a convenience copy, outside the proof: a valid proof beside an edited
 * output.json (other outputs, another model id) is reported invalid rather than vouching
 * for numbers the proof does not prove. Hashed outputs can only be checked for the model id.
 */
async function checkOutputFile(
  path: string,
  modelId: string,
  outputs: bigint[][] | null,
): Promise<VerifyProofReturnType['outputFile'] | { problem: string }> {
  let json: unknown
  try {
    json = await readJson(path, 'output.json')
  } catch (error) {
    if (error instanceof MissingArtifactError) return 'absent'
    return { problem: `${path}: ${(error as BaseError).shortMessage ?? 'unreadable'}` }
  }
  const o = json as { model_id?: unknown; output_ints?: unknown; output_data?: unknown; output_scales?: unknown } | null
  if (typeof o !== 'object' || o === null) return { problem: `${path} is not an output.json object` }
  if (o.model_id !== modelId)
    return { problem: `${path} names model ${String(o.model_id)}, but the proof is for model ${modelId}` }
  if (!outputs) return 'model id only (outputs are hashed)'
  const ints = o.output_ints
  const same =
    Array.isArray(ints) &&
    ints.length === outputs.length &&
    outputs.every(
      (out, k) =>
        Array.isArray(ints[k]) &&
        ints[k].length === out.length &&
        out.every((v, i) => String(ints[k][i]) === v.toString()),
    )
  if (!same)
    return {
      problem: `${path}: output_ints differ from the outputs the proof proves (${JSON.stringify(outputs.map((x) => x.map(String)))})`,
    }
  // Real values are checked where the file records the zero points (written since veriml 0.1 hostile-input fixes).
  const {
    output_scales: scales,
    output_data: data,
    output_zero_points: zps,
  } = o as { output_scales?: unknown; output_data?: unknown; output_zero_points?: unknown }
  if (Array.isArray(zps)) {
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b))
    const real =
      Array.isArray(scales) &&
      Array.isArray(data) &&
      data.length === outputs.length &&
      outputs.every(
        (out, k) =>
          Array.isArray(data[k]) &&
          typeof scales[k] === 'number' &&
          typeof zps[k] === 'number' &&
          data[k].length === out.length &&
          out.every((v, i) => close(Number(data[k][i]), (Number(v) - (zps[k] as number)) * (scales[k] as number))),
      )
    if (!real) return { problem: `${path}: output_data is not (output_ints − output_zero_points) × output_scales` }
  }
  return 'matches'
}
