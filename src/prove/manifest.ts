import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { PublicLayout, WeightVisibility } from '../circuit/layout.js'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { fileError } from '../util/external.js'
import { writeJsonAtomic } from '../util/fs.js'
import { VERIML_VERSION } from '../util/versions.js'
import { MissingArtifactError } from './errors.js'
import { artifactPaths } from './paths.js'

export const GENERATOR = `veriml ${VERIML_VERSION}`

export interface ContributionRecord {
  name: string
  kind: 'contribute' | 'beacon'
  /** snarkjs's contribution hash (blake2b-512, hex), as `zkey verify` prints it. */
  contributionHash: string
}

export interface SetupRecord {
  kind: 'dev' | 'ptau'
  /** Dev keys: the toxic waste existed in this process. Never for real value. */
  insecure: boolean
  r1csSha256: string
  zkeySha256: string
  /** SHA-256 of verification_key.json (absent in builds set up before it was recorded). */
  verificationKeySha256?: string
  ptauSha256?: string
  /** The prepared ptau the initial key was made from, so `setup verify` can re-check the chain: absolute, or relative to the build folder. */
  ptauPath?: string
  /** blake2b-512 of the ptau when it was checked against a pinned hash. */
  ptauBlake2b?: string
  contributions: ContributionRecord[]
  setupMs: number
}

/** What a build folder holds: 'zk' (circuit, r1cs, witness generator; the default) or 'optimistic' (the integer IR only). */
export type BuildTarget = 'zk' | 'optimistic'
export const BUILD_TARGETS: readonly BuildTarget[] = ['zk', 'optimistic']

/** A zk build: the circuit and what setup, prove and verify need. `target` absent: a build made before the option existed. */
export interface Manifest {
  target?: 'zk'
  generator: string
  modelId: `0x${string}`
  modelName: string
  /** Hash of everything compile depends on: artifacts are reused while it is unchanged. */
  compileKey: string
  /** `weights` absent means 'constant' (builds made before the option existed). */
  options: {
    visibility: PublicLayout['visibility']
    activationBits: number
    weightBits: number
    calibration: string
    weights?: WeightVisibility
    dims?: Readonly<Record<string, number>>
  }
  layout: PublicLayout
  /** Absent: circom made the R1CS and the wasm witness generator. 'direct': the direct backend (src/prove/direct.ts), no wasm. */
  compiler?: 'direct'
  constraintCount: number
  tools: Record<string, string>
  /** SHA-256 of each artifact, by path relative to the build folder. */
  artifacts: Record<string, string>
  timings: Record<string, number>
  setup?: SetupRecord
}

/**
 * An optimistic build (`compile --target optimistic`): model.onnx, ir.json and report.json,
 * no circuit. The model id is the same as a zk build's of the same model and options (the
 * SHA-256 of the same IR).
 */
export interface OptimisticManifest {
  target: 'optimistic'
  generator: string
  modelId: `0x${string}`
  modelName: string
  compileKey: string
  options: { activationBits: number; weightBits: number; calibration: string; dims?: Readonly<Record<string, number>> }
  tools: Record<string, string>
  artifacts: Record<string, string>
  timings: Record<string, number>
}

export type BuildManifest = Manifest | OptimisticManifest

/** A zk verb (setup, prove, verify, deploy...) on a build that has no circuit. */
export class BuildTargetError extends BaseError {
  override name = 'BuildTargetError'
  readonly dir: string
  readonly target: BuildTarget
  constructor(p: BaseErrorParameters & { dir: string; target: BuildTarget }) {
    super(`"${p.dir}" was compiled with --target ${p.target}: recompile with --target zk`, {
      details: [
        `The build has no circuit, so it cannot be set up, proven or verified with Groth16. \`veriml op\` commands use it as it is.`,
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.dir = p.dir
    this.target = p.target
  }
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')))
  })
}

const reviveLayout = (m: BuildManifest): BuildManifest => {
  if (m.target !== 'optimistic') for (const l of [...m.layout.inputs, ...m.layout.outputs]) l.lo = BigInt(l.lo)
  return m
}

/** manifest.json exists but is not one veriml wrote (truncated, edited, another tool's). */
export class ManifestError extends BaseError {
  override name = 'ManifestError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

/** The manifest of a build of any target; null when the folder has none (or is no folder). */
export async function readBuildManifest(dir: string): Promise<BuildManifest | null> {
  const path = artifactPaths(dir).manifest
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw fileError(error, path, 'manifest')
  }
  const recompile = [`Recompile: veriml compile MODEL.onnx --out ${dir} --force.`]
  let m: BuildManifest
  try {
    m = JSON.parse(text) as BuildManifest
  } catch {
    throw new ManifestError({ problem: `${path} is not valid JSON`, details: recompile })
  }
  const zkLayoutOk = (x: Manifest) =>
    typeof x.layout === 'object' && Array.isArray(x.layout?.inputs) && Array.isArray(x.layout?.outputs)
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.modelId !== 'string' ||
    typeof m.artifacts !== 'object' ||
    (m.target !== 'optimistic' && !zkLayoutOk(m))
  ) {
    throw new ManifestError({ problem: `${path} is not a veriml manifest`, details: recompile })
  }
  try {
    return reviveLayout(m)
  } catch {
    throw new ManifestError({ problem: `${path}: its public-signal layout is malformed`, details: recompile })
  }
}

/**
 * The manifest of a zk build; null when the folder has none. Every zk verb reads the build
 * through here (via `loadModel`), so an optimistic build is refused once, with the fix.
 */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const manifest = await readBuildManifest(dir)
  if (manifest?.target === 'optimistic') throw new BuildTargetError({ dir, target: manifest.target })
  return manifest
}

/** The manifest of a compiled folder of any target (the optimistic path reads both). */
export async function loadBuild(dir: string): Promise<BuildManifest> {
  const manifest = await readBuildManifest(dir)
  if (!manifest)
    throw new MissingArtifactError({
      path: artifactPaths(dir).manifest,
      hint: `"${dir}" is not a compiled model: run \`veriml compile model.onnx --out ${dir} --target optimistic\` first.`,
    })
  return manifest
}

export async function writeManifest(dir: string, manifest: BuildManifest): Promise<void> {
  await writeJsonAtomic(artifactPaths(dir).manifest, manifest)
}
