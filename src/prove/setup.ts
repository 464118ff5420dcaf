import { rename, rm, stat } from 'node:fs/promises'
import { relative, resolve } from 'node:path'
import * as snarkjs from 'snarkjs'
import { writeJsonAtomic } from '../util/fs.js'
import { type Progress, silentProgress } from '../util/progress.js'
import { devSetup } from './dev-setup.js'
import { cachePtau, findCachedPtau, ptauCacheDir } from './ptau-cache.js'
import { type ModelSource, type ZkModel, resolveModel, withManifest } from '../model.js'
import { ToolError } from './errors.js'
import { type Manifest, type SetupRecord, sha256File, writeManifest } from './manifest.js'
import { PtauError, checkPtau, inspectPtau } from './ptau-check.js'

export { PtauError }

/** One phase-2 step after the initial key, as recorded in the manifest. */
export type { ContributionRecord } from './manifest.js'
export interface SetupModelParameters {
  /** A loaded model (`loadModel`, `compileModel`) or its build folder. */
  model: ModelSource
  /** Fast local keys: INSECURE, the toxic waste exists in this process while they are made. */
  dev?: boolean
  /** A ceremony powers-of-tau file (prepared for phase 2), e.g. a Perpetual Powers of Tau file. */
  ptauPath?: string
  /** Pinned blake2b-512 of the ptau file (hex): setup refuses a file that differs. */
  ptauBlake2b?: string
  force?: boolean
  progress?: Progress
}

export interface SetupModelReturnType extends SetupRecord {
  /** The model with this setup in its manifest: a model loaded before setup has no keys. */
  model: ZkModel
}

/** snarkjs failed on a file: its first line and the file, never its stack. */
function snarkjsError(command: string, path: string, cause: unknown): ToolError {
  return new ToolError({
    tool: 'snarkjs',
    argv: [command, path],
    problem: `${command} failed on ${path}: ${String((cause as Error)?.message ?? cause)
      .split('\n')[0]
      .slice(0, 200)}`,
  })
}

/** Power of two of the Groth16 evaluation domain snarkjs uses for this circuit. */
export async function requiredPower(r1csPath: string): Promise<number> {
  const info = await snarkjs.r1cs.info(r1csPath).catch((cause: unknown) => {
    throw snarkjsError('r1cs info', r1csPath, cause)
  })
  // snarkjs adds one constraint per public input (and the constant one) to the domain.
  const n = info.nConstraints + info.nPubInputs + info.nOutputs + 1
  return Math.max(1, Math.ceil(Math.log2(n)))
}

/** Power and phase-2 readiness of a .ptau file (structure checked, see `inspectPtau`). */
export async function ptauInfo(path: string): Promise<{ power: number; prepared: boolean }> {
  const { power, prepared } = await inspectPtau(path)
  return { power, prepared }
}

/**
 * Groth16 setup: proving key (model.zkey) and verification_key.json (snarkjs formats).
 * Reused while the r1cs is unchanged. The zkey is written under a temporary name and renamed,
 * and checked to be non-empty: snarkjs exits 0 and leaves a 0-byte zkey when the ptau is too small.
 */
export async function setupModel(p: SetupModelParameters): Promise<SetupModelReturnType> {
  const progress = p.progress ?? silentProgress
  const model = await resolveModel(p.model, { target: 'zk', check: ['r1cs'] })
  const { paths, manifest, dir } = model
  const r1csSha256 = await sha256File(paths.r1cs)
  if (
    !p.force &&
    manifest.setup?.r1csSha256 === r1csSha256 &&
    manifest.setup.kind === (p.dev ? 'dev' : 'ptau') &&
    (await exists(paths.zkey))
  ) {
    return { ...manifest.setup, model }
  }
  const power = await requiredPower(paths.r1cs)
  let ptauPath = p.ptauPath
  if (!p.dev && !ptauPath) {
    // No key source given: a ceremony file cached by an earlier `setup --ptau`, if one is large enough.
    const cached = await findCachedPtau(power)
    if (!cached) {
      throw new PtauError({
        problem: `choose a setup: --dev (fast, insecure) or --ptau FILE (a ceremony file of power ≥ ${power})`,
        details: [
          `No cached ceremony file of power ≥ ${power} in ${ptauCacheDir()}: a file given once with --ptau is cached there for later models.`,
        ],
      })
    }
    progress.info(`using the cached ceremony powers of tau ${cached.path} (power ${cached.power})`)
    ptauPath = cached.path
  }
  const tmp = `${paths.zkey}.tmp`
  const started = performance.now()
  let record: SetupRecord
  if (ptauPath) {
    const file = resolve(ptauPath)
    const checked = await checkPtau({ path: file, requiredPower: power, blake2bHex: p.ptauBlake2b })
    await progress.step(`groth16 setup from ${ptauPath} (2^${power})`, () =>
      snarkjs.zKey.newZKey(paths.r1cs, file, tmp).catch(async (cause: unknown) => {
        await rm(tmp, { force: true })
        throw snarkjsError('zkey new', file, cause)
      }),
    )
    const ptauSha256 = await sha256File(file)
    record = {
      kind: 'ptau',
      insecure: false,
      r1csSha256,
      zkeySha256: '',
      ptauPath: file,
      ptauSha256,
      contributions: [],
      setupMs: 0,
    }
    if (checked.blake2bHex) record.ptauBlake2b = checked.blake2bHex
    if (p.ptauPath) await cachePtau(file, checked.power, ptauSha256)
  } else {
    await progress.step(`dev setup (2^${power}, INSECURE keys)`, () =>
      devSetup({ r1csPath: paths.r1cs, zkeyPath: tmp, ptauPath: paths.ptau }),
    )
    record = {
      kind: 'dev',
      insecure: true,
      r1csSha256,
      zkeySha256: '',
      ptauPath: relative(dir, paths.ptau),
      ptauSha256: await sha256File(paths.ptau),
      contributions: [],
      setupMs: 0,
    }
  }
  if (!(await exists(tmp)) || (await stat(tmp)).size === 0) {
    await rm(tmp, { force: true })
    throw new PtauError({
      problem: 'groth16 setup produced an empty proving key',
      details: ['The powers-of-tau file is probably too small or not prepared.'],
    })
  }
  await rename(tmp, paths.zkey)
  await writeJsonAtomic(paths.verificationKey, await snarkjs.zKey.exportVerificationKey(paths.zkey))
  record.zkeySha256 = await sha256File(paths.zkey)
  record.verificationKeySha256 = await sha256File(paths.verificationKey)
  record.setupMs = Math.round(performance.now() - started)
  const updated: Manifest = { ...manifest, setup: record }
  await writeManifest(dir, updated)
  return { ...record, model: withManifest(model, updated) }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
