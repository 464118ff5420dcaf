/**
 * Phase-2 (circuit-specific) ceremony on a compiled model's Groth16 key: contributions,
 * a random beacon, and verification of the whole chain against the powers-of-tau file the
 * initial key was made from. Each step is snarkjs's own (`zKey.contribute`, `zKey.beacon`,
 * `zKey.verifyFromR1cs`); veriml keeps the manifest, the verification key and the hashes
 * in step with the key.
 *
 * A contribution adds a fresh secret factor to delta only. Dev keys stay INSECURE after any
 * number of contributions: their phase-1 tau (and alpha, beta) were known to the process
 * that made them, and knowing tau alone is enough to forge proofs.
 */
import { randomBytes } from 'node:crypto'
import { rename, rm, stat } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { writeJsonAtomic } from '../util/fs.js'
import { type ModelSource, type ZkModel, resolveModel, withManifest } from '../model.js'
import { type ContributionRecord, type Manifest, type SetupRecord, sha256File, writeManifest } from './manifest.js'

/** A ceremony step (contribute, beacon, verify) cannot run on this build or with these options. */
export class CeremonyError extends BaseError {
  override name = 'CeremonyError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

/** The key on disk is not the one the manifest records: refuse to build on it. */
export class ZkeyChangedError extends CeremonyError {
  override name = 'ZkeyChangedError'
  readonly zkeyPath: string
  readonly expectedSha256: string
  readonly actualSha256: string
  constructor(p: BaseErrorParameters & { zkeyPath: string; expectedSha256: string; actualSha256: string }) {
    super({
      problem: `${p.zkeyPath} differs from the key recorded in the manifest`,
      details: [
        `manifest sha256 ${p.expectedSha256}`,
        `file     sha256 ${p.actualSha256}`,
        'Run `veriml setup verify DIR` to see whether it is still valid, or redo the setup.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.zkeyPath = p.zkeyPath
    this.expectedSha256 = p.expectedSha256
    this.actualSha256 = p.actualSha256
  }
}

export interface CeremonyStepReturnType {
  record: SetupRecord
  contribution: ContributionRecord
  /** Dev keys stay insecure whatever is contributed (phase-1 tau was known). */
  insecure: boolean
  stepMs: number
  /** The model with the new key in its manifest (a model loaded before the step names the old key). */
  model: ZkModel
}

export type ContributeSetupReturnType = CeremonyStepReturnType
export type BeaconSetupReturnType = CeremonyStepReturnType

export interface ContributeSetupParameters {
  /** A set-up model or its build folder. */
  model: ModelSource
  /** Recorded in the key and the manifest; default "contribution #k". */
  name?: string
  /** Extra entropy; snarkjs mixes it with its own CSPRNG output. Default: 32 random bytes. */
  entropy?: string
}

export interface BeaconSetupParameters {
  /** A set-up model or its build folder. */
  model: ModelSource
  /** The beacon value, hex (e.g. a future block hash announced in advance). */
  beaconHashHex: string
  /** log2 of the number of SHA-256 iterations applied to the beacon (10 … 63). */
  iterationsExp?: number
  name?: string
}

async function loadSetup(source: ModelSource): Promise<{ model: ZkModel; setup: SetupRecord }> {
  const model = await resolveModel(source, { target: 'zk' })
  const { setup } = model.manifest
  if (!setup)
    throw new CeremonyError({
      problem: `${model.dir} has no Groth16 key yet`,
      details: [`Run \`veriml setup ${model.dir} --dev\` or \`--ptau FILE\` first.`],
    })
  return { model, setup }
}

/** Runs one snarkjs phase-2 step from the current key to a new one, then swaps it in. */
async function applyStep(
  source: ModelSource,
  kind: ContributionRecord['kind'],
  name: string | undefined,
  run: (zkeyIn: string, zkeyOut: string, name: string) => Promise<Uint8Array | false>,
): Promise<CeremonyStepReturnType> {
  const started = performance.now()
  const { model, setup } = await loadSetup(source)
  const { paths } = model
  const actual = await sha256File(paths.zkey)
  if (actual !== setup.zkeySha256)
    throw new ZkeyChangedError({ zkeyPath: paths.zkey, expectedSha256: setup.zkeySha256, actualSha256: actual })
  const contributionName = name ?? `${kind === 'beacon' ? 'beacon' : 'contribution'} #${setup.contributions.length + 1}`
  const tmp = `${paths.zkey}.${randomBytes(4).toString('hex')}.tmp`
  let hash: Uint8Array | false
  try {
    hash = await run(paths.zkey, tmp, contributionName)
    if (!hash || (await stat(tmp)).size === 0)
      throw new CeremonyError({ problem: `snarkjs ${kind} did not produce a key` })
  } catch (error) {
    await rm(tmp, { force: true })
    throw error instanceof CeremonyError
      ? error
      : new CeremonyError({ problem: `snarkjs ${kind} failed on ${paths.zkey}`, cause: error })
  }
  await rename(tmp, paths.zkey)
  await writeJsonAtomic(paths.verificationKey, await snarkjs.zKey.exportVerificationKey(paths.zkey))
  const contribution: ContributionRecord = {
    name: contributionName,
    kind,
    contributionHash: Buffer.from(hash).toString('hex'),
  }
  const record: SetupRecord = {
    ...setup,
    zkeySha256: await sha256File(paths.zkey),
    verificationKeySha256: await sha256File(paths.verificationKey),
    contributions: [...setup.contributions, contribution],
  }
  const manifest: Manifest = { ...model.manifest, setup: record }
  await writeManifest(model.dir, manifest)
  return {
    record,
    contribution,
    insecure: record.insecure,
    stepMs: Math.round(performance.now() - started),
    model: withManifest(model, manifest),
  }
}

export function contributeSetup({
  model,
  name,
  entropy,
}: ContributeSetupParameters): Promise<ContributeSetupReturnType> {
  const seed = entropy ?? randomBytes(32).toString('hex')
  return applyStep(model, 'contribute', name, (zkeyIn, zkeyOut, n) => snarkjs.zKey.contribute(zkeyIn, zkeyOut, n, seed))
}

export function beaconSetup({
  model,
  beaconHashHex,
  iterationsExp = 10,
  name,
}: BeaconSetupParameters): Promise<BeaconSetupReturnType> {
  const hex = beaconHashHex.replace(/^0x/, '')
  // INVARIANT: snarkjs parses the beacon as whole bytes and only logs (returns false) on bad input.
  if (!/^([0-9a-fA-F]{2})+$/.test(hex))
    throw new CeremonyError({ problem: `--hash must be hex bytes; got "${beaconHashHex}"` })
  if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) {
    throw new CeremonyError({
      problem: `--iterations must be an integer from 10 to 63 (log2 of the SHA-256 iterations); got ${iterationsExp}`,
    })
  }
  return applyStep(model, 'beacon', name, (zkeyIn, zkeyOut, n) =>
    snarkjs.zKey.beacon(zkeyIn, zkeyOut, n, hex, iterationsExp),
  )
}

export interface VerifySetupParameters {
  /** A set-up model or its build folder. */
  model: ModelSource
}

export interface VerifySetupReturnType {
  /** Every check passed. */
  valid: boolean
  /** snarkjs `zKey.verifyFromR1cs`: the key follows from the r1cs and the ptau through the recorded contributions. */
  chainValid: boolean
  /** Problems found, in words (empty when valid). */
  problems: string[]
  contributions: ContributionRecord[]
  insecure: boolean
  ptauPath: string
  verifyMs: number
}

/**
 * Re-derives the initial key from the r1cs and the recorded ptau and checks every
 * contribution's proof of knowledge and the final key (snarkjs verifyFromR1cs), and that the
 * r1cs, ptau and zkey are the files the manifest recorded.
 */
export async function verifySetup({ model: source }: VerifySetupParameters): Promise<VerifySetupReturnType> {
  const started = performance.now()
  const { model, setup } = await loadSetup(source)
  const { paths, dir } = model
  if (!setup.ptauPath) {
    throw new CeremonyError({
      problem: `the manifest in ${dir} does not record which ptau the key was made from`,
      details: [
        'It predates `setup verify`: redo the setup (`veriml setup DIR --dev --force` or `--ptau FILE --force`).',
      ],
    })
  }
  const ptauPath = isAbsolute(setup.ptauPath) ? setup.ptauPath : join(dir, setup.ptauPath)
  const problems: string[] = []
  const same = async (label: string, path: string, expected: string | undefined) => {
    const actual = await sha256File(path).catch(() => 'missing')
    if (expected !== undefined && actual !== expected)
      problems.push(`${label} ${path}: sha256 ${actual}, manifest has ${expected}`)
    return actual !== 'missing'
  }
  await same('r1cs', paths.r1cs, setup.r1csSha256)
  await same('zkey', paths.zkey, setup.zkeySha256)
  const ptauPresent = await same('ptau', ptauPath, setup.ptauSha256)
  const log: string[] = []
  const logger = {
    error: (m: string) => log.push(m),
    warn: (m: string) => log.push(m),
    info: () => {},
    debug: () => {},
  }
  let chainValid = false
  if (ptauPresent) {
    // snarkjs also console.logs some failures; they are captured through the logger where it allows.
    chainValid = await snarkjs.zKey.verifyFromR1cs(paths.r1cs, ptauPath, paths.zkey, logger).catch((cause: unknown) => {
      log.push(`snarkjs could not read the files: ${cause instanceof Error ? cause.message : String(cause)}`)
      return false
    })
    if (!chainValid) problems.push(`snarkjs zkey verify rejects the key${log.length ? `: ${log.join('; ')}` : ''}`)
  } else {
    problems.push(`the ptau ${ptauPath} the key was made from is missing`)
  }
  return {
    valid: problems.length === 0,
    chainValid,
    problems,
    contributions: setup.contributions,
    insecure: setup.insecure,
    ptauPath,
    verifyMs: Math.round(performance.now() - started),
  }
}
