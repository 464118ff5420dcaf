/**
 * A compiled model loaded from URLs: the browser's CompiledModel (src/model.ts). The
 * manifest is fetched first and is the root of trust; ir.json and, on first use, the witness
 * generator and the keys are fetched and checked against its hashes (fetch.ts). Each artifact
 * is fetched once and kept, so proving again reuses the compiled witness generator.
 */
import type { RawPoseidonConstants } from '../circuit/direct/gadgets/poseidon-constants.js'
import { poseidonTablesOf } from '../circuit/direct/gadgets/poseidon-constants.js'
import { hashesAnything } from '../circuit/direct/hash.js'
import { decodeWireMap } from '../circuit/direct/wires.js'
import { irFromJson } from '../ir/from-json.js'
import type { IrModel } from '../ir/types.js'
import { directWitnessOf } from '../prove/direct-witness.js'
import type { BuildManifest, Manifest } from '../prove/manifest.js'
import type { WitnessCalculator } from '../prove/witness.js'
import { circomWitnessCalculator } from './circom-witness.js'
import { ArtifactIntegrityError, BrowserModelError } from './errors.js'
import { type Fetch, fetchBytes, fetchChecked } from './fetch.js'

/** Artifact paths inside a build folder (src/prove/paths.ts artifactPaths, as URLs relative to the folder). */
export const ARTIFACT_FILES = {
  manifest: 'manifest.json',
  ir: 'ir.json',
  wires: 'circuit/model.wires',
  wasm: 'circuit/model_js/model.wasm',
  witnessJs: 'circuit/model_js/witness_calculator.js',
  zkey: 'model.zkey',
  verificationKey: 'verification_key.json',
} as const

/** Not a build artifact: circomlibjs's Poseidon table, which `veriml web` and `veriml bundle` serve beside the build. */
export const POSEIDON_FILE = 'poseidon-constants.json'

export interface BrowserModel {
  /** The build folder's URL (ends with '/'). */
  readonly url: string
  readonly manifest: Manifest
  readonly modelId: `0x${string}`
  readonly ir: IrModel
  /** The witness generator, fetched, checked and compiled on the first call and kept. */
  witness(): Promise<WitnessCalculator>
  /** model.zkey, checked against the setup's hash. */
  zkey(): Promise<Uint8Array>
  /** verification_key.json, checked against the setup's hash. */
  verificationKey(): Promise<unknown>
}

export interface LoadModelOptions {
  /** Default: globalThis.fetch. */
  fetch?: Fetch
  /**
   * circomlibjs's Poseidon constants, for a direct build that hashes its input, output or
   * weights. Default: `poseidon-constants.json` beside the manifest (served by veriml).
   */
  poseidon?: () => Promise<RawPoseidonConstants>
}

/** Loads a compiled zk model from its build folder's URL: the manifest, then ir.json checked against it. */
export async function loadModel(url: string | URL, options: LoadModelOptions = {}): Promise<BrowserModel> {
  const base = folderUrl(url)
  const fetchFn: Fetch = options.fetch ?? ((u) => globalThis.fetch(u))
  const manifest = parseManifest(base, await fetchBytes(fetchFn, base, ARTIFACT_FILES.manifest))
  const irBytes = await fetchChecked(fetchFn, base, ARTIFACT_FILES.ir, manifest.artifacts[ARTIFACT_FILES.ir])
  const ir = irFromJson(new TextDecoder().decode(irBytes))
  const poseidon =
    options.poseidon ??
    (async () => JSON.parse(new TextDecoder().decode(await fetchBytes(fetchFn, base, POSEIDON_FILE))))
  const once = <T>(load: () => Promise<T>): (() => Promise<T>) => {
    let kept: Promise<T> | undefined
    return () => {
      // A failed load (a network error) is not kept: the next call tries again.
      kept ??= load().catch((error: unknown) => {
        kept = undefined
        throw error
      })
      return kept
    }
  }
  const setup = requireSetup(base, manifest)
  return {
    url: base,
    manifest,
    modelId: manifest.modelId,
    ir,
    witness: once(() => loadWitness(fetchFn, base, manifest, ir, poseidon)),
    zkey: once(() => fetchChecked(fetchFn, base, ARTIFACT_FILES.zkey, setup.zkeySha256)),
    verificationKey: once(async () => {
      const bytes = await fetchChecked(fetchFn, base, ARTIFACT_FILES.verificationKey, setup.verificationKeySha256)
      return JSON.parse(new TextDecoder().decode(bytes)) as unknown
    }),
  }
}

/** `url` as a folder URL (a trailing '/'), resolved against the page. */
function folderUrl(url: string | URL): string {
  const href = new URL(url, globalThis.location?.href).href
  return href.endsWith('/') ? href : `${href}/`
}

/** The manifest's JSON, checked as readBuildManifest checks it (src/prove/manifest.ts); a zk build only. */
function parseManifest(base: string, bytes: Uint8Array): Manifest {
  const url = new URL(ARTIFACT_FILES.manifest, base).href
  let m: BuildManifest
  try {
    m = JSON.parse(new TextDecoder().decode(bytes)) as BuildManifest
  } catch (cause) {
    throw new BrowserModelError({ url, problem: 'is not valid JSON', cause })
  }
  if (typeof m !== 'object' || m === null || typeof m.modelId !== 'string' || typeof m.artifacts !== 'object')
    throw new BrowserModelError({ url, problem: 'is not a veriml manifest' })
  if (m.target === 'optimistic')
    throw new BrowserModelError({
      url,
      problem: 'is an optimistic build (no circuit): it cannot be proven with Groth16',
      details: ['Recompile with --target zk.'],
    })
  if (!Array.isArray(m.layout?.inputs) || !Array.isArray(m.layout?.outputs))
    throw new BrowserModelError({ url, problem: 'has no public-signal layout' })
  for (const l of [...m.layout.inputs, ...m.layout.outputs]) l.lo = BigInt(l.lo)
  return m
}

function requireSetup(base: string, manifest: Manifest) {
  if (!manifest.setup?.zkeySha256 || !manifest.setup.verificationKeySha256)
    throw new BrowserModelError({
      url: new URL(ARTIFACT_FILES.manifest, base).href,
      problem: 'records no setup (no proving key): the model cannot be proven',
      details: ['Run `veriml setup DIR --dev` (or --ptau FILE) on the build first.'],
    })
  return manifest.setup
}

/** The build's witness generator: the direct backend's TypeScript pass, or circom's wasm. */
async function loadWitness(
  fetchFn: Fetch,
  base: string,
  manifest: Manifest,
  ir: IrModel,
  poseidon: () => Promise<RawPoseidonConstants>,
): Promise<WitnessCalculator> {
  const { artifacts } = manifest
  if (manifest.compiler !== 'direct') {
    const wasm = await fetchChecked(fetchFn, base, ARTIFACT_FILES.wasm, artifacts[ARTIFACT_FILES.wasm])
    const js = await fetchChecked(fetchFn, base, ARTIFACT_FILES.witnessJs, artifacts[ARTIFACT_FILES.witnessJs])
    return circomWitnessCalculator({ wasm, js, ir, hashedWeights: manifest.layout.weights !== undefined })
  }
  const bytes = await fetchChecked(fetchFn, base, ARTIFACT_FILES.wires, artifacts[ARTIFACT_FILES.wires])
  const map = decodeWireMap(bytes)
  if (typeof map === 'string')
    throw new ArtifactIntegrityError({
      file: ARTIFACT_FILES.wires,
      url: new URL(ARTIFACT_FILES.wires, base).href,
      problem: map,
    })
  const { visibility, weights } = manifest.layout
  const tables = hashesAnything(visibility, weights ? 'hashed' : 'constant')
    ? poseidonTablesOf(await poseidon())
    : undefined
  return directWitnessOf({ manifest, ir, map, poseidon: tables })
}
