import { randomBytes } from 'node:crypto'
import { existsSync, rmSync } from 'node:fs'
import { access, constants, mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { FileError, fileError } from '../util/external.js'
import { type BuildManifest, sha256, sha256File } from './manifest.js'
import { artifactPaths } from './paths.js'

/**
 * Build folders are written whole or not at all: compile builds into a staging folder beside
 * `--out`, then moves the artifacts in with the manifest last (a recompile first removes the old
 * manifest, so an interrupted one leaves a folder every consumer refuses, never new IR beside an
 * old circuit). Consumers check the artifacts they use against the manifest's hashes.
 */

/** `--out` is something compile must not write into. */
export class BuildFolderError extends BaseError {
  override name = 'BuildFolderError'
  readonly path: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { path: string; problem: string }) {
    super(`--out ${p.path}: ${p.problem}`, { details: p.details, cause: p.cause })
    this.path = p.path
    this.problem = p.problem
  }
}

/** An artifact differs from what the manifest recorded: the folder is not one consistent build. */
export class InconsistentBuildError extends BaseError {
  override name = 'InconsistentBuildError'
  readonly dir: string
  readonly path: string
  readonly problem: string
  /** What makes the folder consistent again: a recompile, or a new setup. */
  readonly fix: 'recompile' | 'setup'
  constructor(p: BaseErrorParameters & { dir: string; path: string; problem: string; fix: 'recompile' | 'setup' }) {
    super(`${p.path} ${p.problem}: ${p.dir} is not one consistent build`, {
      details: [
        p.fix === 'recompile'
          ? `Recompile: veriml compile MODEL.onnx --out ${p.dir} --force (then setup again).`
          : `Redo the setup: veriml setup ${p.dir} --force (with --dev or --ptau FILE).`,
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.dir = p.dir
    this.path = p.path
    this.problem = p.problem
    this.fix = p.fix
  }
}

export type OutDirState = 'new' | 'empty' | 'build'

/**
 * What `--out` is: absent (its nearest existing parent must be a writable folder), an empty
 * folder, or a veriml build folder (it has manifest.json). Anything else is refused before
 * any work: a file, or a folder of other files compile would mix its artifacts into.
 */
export async function checkOutDir(outDir: string): Promise<OutDirState> {
  if (outDir.trim() === '') throw new BuildFolderError({ path: '""', problem: 'an empty path; give a folder name' })
  let s
  try {
    s = await stat(outDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(error, outDir, '--out')
    const parent = await nearestExisting(dirname(resolve(outDir)))
    if (!(await stat(parent)).isDirectory())
      throw new FileError({ path: parent, what: '--out: the parent', code: 'ENOTDIR' })
    await access(parent, constants.W_OK).catch((e: unknown) => {
      throw fileError(e, parent, '--out: cannot create a folder in')
    })
    return 'new'
  }
  if (!s.isDirectory()) throw new BuildFolderError({ path: outDir, problem: 'is a file, not a folder' })
  await access(outDir, constants.W_OK).catch((e: unknown) => {
    throw fileError(e, outDir, '--out')
  })
  const entries = await readdir(outDir)
  if (entries.length === 0) return 'empty'
  if (entries.includes('manifest.json')) return 'build'
  throw new BuildFolderError({
    path: outDir,
    problem: `a folder that is not a veriml build (no manifest.json; it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})`,
    details: ['Give a new or empty folder: compile does not write into a folder of other files.'],
  })
}

async function nearestExisting(path: string): Promise<string> {
  for (let p = path; ; p = dirname(p)) {
    try {
      await stat(p)
      return p
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw fileError(error, p, '--out')
    }
  }
}

/**
 * An interrupted build removes its staging folder until it has stayed absent for
 * SIGNAL_QUIET_CHECKS checks SIGNAL_SETTLE_MS apart (at most SIGNAL_MAX_ROUNDS removals): on a
 * loaded machine an fs call in flight can land well after a fixed few rounds (seen at load 9).
 */
const SIGNAL_QUIET_CHECKS = 3
const SIGNAL_MAX_ROUNDS = 50
const SIGNAL_SETTLE_MS = 30

/**
 * Runs `build` on a fresh staging folder beside `outDir` and returns its result; the staging
 * folder (and any parent folders it needed) is removed if `build` fails or the process is
 * interrupted (Ctrl-C, SIGTERM).
 */
export async function withStaging<T>(outDir: string, build: (staging: string) => Promise<T>): Promise<T> {
  const absolute = resolve(outDir)
  const parent = dirname(absolute)
  const firstCreated = await firstMissing(parent)
  const staging = join(parent, `.${basename(absolute)}.staging-${randomBytes(4).toString('hex')}`)
  const cleanup = () => {
    // Retried: a signal can land while a streamed write (the direct backend's r1cs) still has a
    // file being created in the staging folder, and the folder is then not empty once.
    rmSync(staging, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 })
    if (firstCreated) rmSync(firstCreated, { recursive: true, force: true })
  }
  const onSignal = (signal: NodeJS.Signals) => {
    // An fs call already in libuv's thread pool when the signal came (an artifact's recursive
    // mkdir, a stream's open) can recreate the staging folder after a removal. The main thread
    // is held here, so no new call can start: wait for those in flight to land, remove again.
    const pause = new Int32Array(new SharedArrayBuffer(4))
    for (let round = 0, quiet = 0; round < SIGNAL_MAX_ROUNDS && quiet < SIGNAL_QUIET_CHECKS; round++) {
      cleanup()
      Atomics.wait(pause, 0, 0, SIGNAL_SETTLE_MS)
      quiet = existsSync(staging) ? 0 : quiet + 1
    }
    cleanup()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    // One level at a time: Node's recursive mkdir loops forever under /proc.
    for (const dir of missingChain(firstCreated, staging))
      await mkdir(dir).catch((e: unknown) => {
        throw fileError(e, dirname(dir), '--out: cannot create a folder in')
      })
    return await build(staging)
  } catch (error) {
    cleanup()
    throw error
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** The folders from `first` (the first missing ancestor, or null) down to `leaf`, in creation order. */
function missingChain(first: string | null, leaf: string): string[] {
  const chain: string[] = []
  for (let p = leaf; p !== dirname(p); p = dirname(p)) {
    chain.unshift(p)
    if (p === first || (first === null && p === leaf)) break
  }
  return chain
}

async function firstMissing(path: string): Promise<string | null> {
  let missing: string | null = null
  for (let p = path; ; p = dirname(p)) {
    try {
      await stat(p)
      return missing
    } catch {
      missing = p
    }
    if (dirname(p) === p) return missing
  }
}

/** Setup outputs a new circuit invalidates. */
const SETUP_OUTPUTS = ['model.zkey', 'verification_key.json']

/**
 * Moves a complete staged build into `outDir`. A new or empty `outDir` is one rename. An
 * existing build loses its manifest first, then each staged entry replaces its old one and
 * the old keys are removed, and the manifest comes last: at every instant the folder is
 * either a consistent build or has no manifest (which every consumer refuses).
 */
export async function commitStaging(staging: string, outDir: string, state: OutDirState): Promise<void> {
  if (state !== 'build') {
    if (state === 'empty') await rm(outDir, { recursive: true })
    await rename(staging, outDir)
    return
  }
  const manifest = artifactPaths(outDir).manifest
  await rm(manifest, { force: true })
  for (const f of SETUP_OUTPUTS) await rm(join(outDir, f), { force: true })
  for (const entry of await readdir(staging)) {
    if (entry === 'manifest.json') continue
    await rm(join(outDir, entry), { recursive: true, force: true })
    await rename(join(staging, entry), join(outDir, entry))
  }
  await rename(join(staging, 'manifest.json'), manifest)
  await rm(staging, { recursive: true, force: true })
}

/** Artifacts a consumer may need checked, by their names in `artifactPaths`. */
export type ArtifactName =
  | 'onnx'
  | 'ir'
  | 'circuit'
  | 'r1cs'
  | 'wires'
  | 'wasm'
  | 'witnessJs'
  | 'zkey'
  | 'verificationKey'

/**
 * Checks the named artifacts of a build against the manifest's hashes: a missing or changed
 * file (a truncated key, another model's verification key, new IR beside an old circuit)
 * is an InconsistentBuildError that says what to redo. Artifacts a manifest from an older
 * veriml did not record are not checked.
 */
export async function checkArtifacts(
  dir: string,
  manifest: BuildManifest,
  names: readonly ArtifactName[],
): Promise<void> {
  for (const name of names) {
    const { path, recorded, isSetup } = recordedArtifact(dir, manifest, name)
    if (recorded === undefined) continue
    let actual: string
    try {
      actual = await sha256File(path)
    } catch (error) {
      const e = fileError(error, path)
      if (e instanceof FileError && e.code === 'ENOENT')
        throw new InconsistentBuildError({ dir, path, problem: 'is missing', fix: isSetup ? 'setup' : 'recompile' })
      throw e
    }
    compareArtifact(dir, path, isSetup, recorded, actual)
  }
}

/**
 * The same check on an artifact's bytes already read (the IR, which is parsed from the very
 * bytes that were hashed, so nothing can change between the check and the use).
 */
export function checkArtifactBytes(dir: string, manifest: BuildManifest, name: ArtifactName, bytes: Uint8Array): void {
  const { path, recorded, isSetup } = recordedArtifact(dir, manifest, name)
  if (recorded !== undefined) compareArtifact(dir, path, isSetup, recorded, sha256(bytes))
}

/** Where an artifact is and the hash the manifest records for it (undefined: not recorded by an older veriml). */
function recordedArtifact(
  dir: string,
  manifest: BuildManifest,
  name: ArtifactName,
): { path: string; recorded: string | undefined; isSetup: boolean } {
  const paths = artifactPaths(dir)
  // An optimistic build has no setup (and no circuit artifacts to ask for).
  const setup = 'setup' in manifest ? manifest.setup : undefined
  const path = paths[name]
  const isSetup = name === 'zkey' || name === 'verificationKey'
  const recorded =
    name === 'zkey'
      ? setup?.zkeySha256
      : name === 'verificationKey'
        ? setup?.verificationKeySha256
        : manifest.artifacts[relative(dir, path)]
  if (recorded === undefined && isSetup && !setup)
    throw new InconsistentBuildError({ dir, path, problem: 'belongs to no recorded setup', fix: 'setup' })
  return { path, recorded, isSetup }
}

function compareArtifact(dir: string, path: string, isSetup: boolean, recorded: string, actual: string): void {
  if (actual !== recorded)
    throw new InconsistentBuildError({
      dir,
      path,
      problem: `has changed since ${isSetup ? 'setup' : 'compile'} (sha256 ${actual.slice(0, 12)}…, the manifest records ${recorded.slice(0, 12)}…)`,
      fix: isSetup ? 'setup' : 'recompile',
    })
}
