/**
 * A compiled model, loaded once and passed to every stage: its folder, artifact paths,
 * manifest and integer IR, and its witness generator compiled on first use. Plain data (the
 * one function memoises the wasm), so a stage never reloads from disk what its caller holds:
 * one `prove` reads the manifest once and parses ir.json once.
 */
import { readFile } from 'node:fs/promises'
import { irFromJson } from './ir/serialize.js'
import type { IrModel } from './ir/types.js'
import { FileError, fileError } from './util/external.js'
import { type ArtifactName, InconsistentBuildError, checkArtifactBytes, checkArtifacts } from './prove/build-folder.js'
import { MissingArtifactError } from './prove/errors.js'
import {
  type BuildManifest,
  BuildTargetError,
  type Manifest,
  type OptimisticManifest,
  readBuildManifest,
  readManifest,
} from './prove/manifest.js'
import { type ArtifactPaths, artifactPaths } from './prove/paths.js'
import { directWitnessCalculator } from './prove/direct.js'
import { type WitnessCalculator, loadWitnessCalculator } from './prove/witness.js'

export interface CompiledModel<M extends BuildManifest = BuildManifest> {
  /** The build folder. */
  readonly dir: string
  readonly paths: ArtifactPaths
  readonly manifest: M
  /** The IR's SHA-256 (`manifest.modelId`): the id the registry, claims and proofs name. */
  readonly modelId: `0x${string}`
  /** The integer IR, parsed from the very bytes whose hash the manifest records. */
  readonly ir: IrModel
  /**
   * The circuit's witness generator, compiled on the first call and kept: every prove on this
   * model reuses it. An optimistic build has none (BuildTargetError).
   */
  witness(): Promise<WitnessCalculator>
}

/** A zk build: circuit, r1cs, witness generator (and keys once set up). */
export type ZkModel = CompiledModel<Manifest>
export type OptimisticModelBuild = CompiledModel<OptimisticManifest>

/** What every stage takes as `model`: a loaded model, or its build folder (loaded then). */
export type ModelSource<M extends BuildManifest = BuildManifest> = CompiledModel<M> | string

export interface LoadModelOptions {
  /** Artifacts to check against the manifest's hashes now (ir.json always is). */
  check?: readonly ArtifactName[]
  /** 'zk': refuse a build of another target (BuildTargetError), as every Groth16 stage does. Default: any target. */
  target?: 'zk' | 'any'
}

/** Reads a build folder once: the manifest, the named artifacts checked, ir.json checked and parsed. */
export async function loadModel(dir: string, options: LoadModelOptions & { target: 'zk' }): Promise<ZkModel>
export async function loadModel(dir: string, options?: LoadModelOptions): Promise<CompiledModel>
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<CompiledModel> {
  const zk = options.target === 'zk'
  // A zk stage refuses an optimistic build first, with the fix, whatever else is wrong.
  const manifest = zk ? await readManifest(dir) : await readBuildManifest(dir)
  if (!manifest)
    throw new MissingArtifactError({
      path: artifactPaths(dir).manifest,
      hint: zk
        ? `"${dir}" is not a compiled model (or an interrupted compile left it without a manifest): run \`veriml compile model.onnx --out ${dir}\`.`
        : `"${dir}" is not a compiled model: run \`veriml compile model.onnx --out ${dir} --target optimistic\` first.`,
    })
  await checkArtifacts(dir, manifest, options.check ?? [])
  return compiledModel(dir, manifest, await readIr(dir, manifest))
}

/**
 * The model a stage works on: `source` loaded when it is a folder; a loaded model is checked
 * for the target and the named artifacts (a key replaced since it was loaded is refused as
 * it would be on a fresh load).
 */
export async function resolveModel(source: ModelSource, options: LoadModelOptions & { target: 'zk' }): Promise<ZkModel>
export async function resolveModel(source: ModelSource, options?: LoadModelOptions): Promise<CompiledModel>
export async function resolveModel(source: ModelSource, options: LoadModelOptions = {}): Promise<CompiledModel> {
  if (typeof source === 'string') return loadModel(source, options)
  if (options.target === 'zk') requireZk(source)
  await checkArtifacts(source.dir, source.manifest, options.check ?? [])
  return source
}

/** The model as a zk build, or BuildTargetError (the build has no circuit). */
export function requireZk(model: CompiledModel): ZkModel {
  const { manifest } = model
  if (manifest.target === 'optimistic') throw new BuildTargetError({ dir: model.dir, target: manifest.target })
  return model as ZkModel
}

/** The folder a model source names, without loading it. */
export const modelDir = (source: ModelSource): string => (typeof source === 'string' ? source : source.dir)

/**
 * A CompiledModel from what compile (or a load) holds. The witness generator is compiled on
 * the first `witness()` and kept; a copy with a newer manifest (`withManifest`) shares it.
 */
export function compiledModel<M extends BuildManifest>(dir: string, manifest: M, ir: IrModel): CompiledModel<M> {
  const paths = artifactPaths(dir)
  let witness: Promise<WitnessCalculator> | undefined
  const model: CompiledModel<M> = {
    dir,
    paths,
    manifest,
    modelId: manifest.modelId,
    ir,
    witness() {
      if (manifest.target === 'optimistic') return Promise.reject(new BuildTargetError({ dir, target: 'optimistic' }))
      const hashedWeights = manifest.layout.weights !== undefined
      const load = () =>
        manifest.compiler === 'direct'
          ? directWitnessCalculator({ dir, paths, manifest, ir })
          : loadWitnessCalculator({ paths, ir, hashedWeights })
      witness ??= load().catch((error: unknown) => {
        // A failed load (a missing wasm or wire map) is not kept: the next call tries again.
        witness = undefined
        throw error
      })
      return witness
    },
  }
  return model
}

/** The same model with the manifest a later stage wrote (setup, a ceremony step); the witness generator is shared. */
export function withManifest<M extends BuildManifest>(model: CompiledModel<M>, manifest: M): CompiledModel<M> {
  return { ...model, manifest }
}

/** ir.json, hashed and parsed from the same bytes. */
async function readIr(dir: string, manifest: BuildManifest): Promise<IrModel> {
  const path = artifactPaths(dir).ir
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    const e = fileError(error, path)
    if (e instanceof FileError && e.code === 'ENOENT')
      throw new InconsistentBuildError({ dir, path, problem: 'is missing', fix: 'recompile' })
    throw e
  }
  checkArtifactBytes(dir, manifest, 'ir', bytes)
  return irFromJson(bytes.toString('utf8'))
}
