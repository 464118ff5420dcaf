import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import type { PublicLayout } from '../circuit/emit.js'
import type { WeightVisibility } from '../circuit/weights.js'
import { BaseError } from '../errors.js'
import { fileError } from '../util/external.js'
import { writeJsonAtomic } from '../util/fs.js'
import { VERIML_VERSION } from '../util/versions.js'
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

export interface Manifest {
  generator: string
  modelId: `0x${string}`
  modelName: string
  /** Hash of everything compile depends on: artifacts are reused while it is unchanged. */
  compileKey: string
  /** `weights` absent means 'constant' (builds made before the option existed). */
  options: { visibility: PublicLayout['visibility']; activationBits: number; weightBits: number; calibration: string; weights?: WeightVisibility; dims?: Readonly<Record<string, number>> }
  layout: PublicLayout
  constraintCount: number
  tools: Record<string, string>
  /** SHA-256 of each artifact, by path relative to the build folder. */
  artifacts: Record<string, string>
  timings: Record<string, number>
  setup?: SetupRecord
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256')
    createReadStream(path).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')))
  })
}

const reviveLayout = (m: Manifest): Manifest => {
  for (const l of [...m.layout.inputs, ...m.layout.outputs]) l.lo = BigInt(l.lo)
  return m
}

/** manifest.json exists but is not one veriml wrote (truncated, edited, another tool's). */
export class ManifestError extends BaseError {
  override name = 'ManifestError'
}

/** The build's manifest, or null when the folder has none (or is no folder). */
export async function readManifest(dir: string): Promise<Manifest | null> {
  const path = artifactPaths(dir).manifest
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw fileError(error, path, 'manifest')
  }
  let m: Manifest
  try {
    m = JSON.parse(text) as Manifest
  } catch {
    throw new ManifestError(`${path} is not valid JSON`, { details: [`Recompile: veriml compile MODEL.onnx --out ${dir} --force.`] })
  }
  if (typeof m !== 'object' || m === null || typeof m.modelId !== 'string' || typeof m.layout !== 'object' || !Array.isArray(m.layout?.inputs) || !Array.isArray(m.layout?.outputs) || typeof m.artifacts !== 'object') {
    throw new ManifestError(`${path} is not a veriml manifest`, { details: [`Recompile: veriml compile MODEL.onnx --out ${dir} --force.`] })
  }
  try {
    return reviveLayout(m)
  } catch {
    throw new ManifestError(`${path}: its public-signal layout is malformed`, { details: [`Recompile: veriml compile MODEL.onnx --out ${dir} --force.`] })
  }
}

export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeJsonAtomic(artifactPaths(dir).manifest, manifest)
}
