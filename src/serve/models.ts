/**
 * The models a prover serves, each loaded once. The API node only validates inputs, so it
 * reads manifests and IRs; a worker also keeps what every proof needs in memory: the proving
 * key's bytes (checked against the manifest once, at load) and the compiled witness generator.
 */
import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { type ZkModel, loadModel } from '../model.js'
import { checkArtifactBytes, checkArtifacts } from '../prove/build-folder.js'
import { MissingArtifactError } from '../prove/errors.js'
import { fileError } from '../util/external.js'
import { UnknownModelError } from './errors.js'

export interface ServedModel {
  /** The manifest's modelId (the IR's SHA-256): what the API's paths and the registry name. */
  id: string
  /** The build folder's name: a shorter alias in paths. */
  name: string
  model: ZkModel
  /** Loaded only on a worker (`loadModels(dirs, { prover: true })`). */
  zkey?: Uint8Array
}

export interface ModelPool {
  models: readonly ServedModel[]
  /** By modelId or folder name; UnknownModelError otherwise. */
  get(idOrName: string): ServedModel
}

/**
 * Loads each build folder once. `prover`: also read the proving key into memory, check it and
 * the witness generator's artifacts against the manifest, and compile the witness generator,
 * so a worker that starts is ready and a broken build is refused before any job is taken.
 */
export async function loadModels(dirs: readonly string[], { prover = false } = {}): Promise<ModelPool> {
  const models: ServedModel[] = []
  for (const dir of dirs) {
    const model = await loadModel(resolve(dir), { target: 'zk' })
    const served: ServedModel = { id: model.modelId, name: basename(resolve(dir)), model }
    if (prover) served.zkey = await loadProvingKey(model)
    models.push(served)
  }
  return modelPool(models)
}

export function modelPool(models: readonly ServedModel[]): ModelPool {
  const byKey = new Map<string, ServedModel>()
  // A folder name shared by two models is no alias for either; ids are unique by construction.
  const names = new Map<string, number>()
  for (const m of models) names.set(m.name, (names.get(m.name) ?? 0) + 1)
  for (const m of models) {
    byKey.set(m.id.toLowerCase(), m)
    if (names.get(m.name) === 1 && !byKey.has(m.name)) byKey.set(m.name, m)
  }
  return {
    models,
    get(idOrName) {
      const m = byKey.get(idOrName) ?? byKey.get(idOrName.toLowerCase())
      if (!m) throw new UnknownModelError({ model: idOrName, known: models.map((x) => `${x.id} (${x.name})`) })
      return m
    },
  }
}

async function loadProvingKey(model: ZkModel): Promise<Uint8Array> {
  const { dir, manifest, paths } = model
  if (!manifest.setup)
    throw new MissingArtifactError({
      path: paths.zkey,
      hint: `no proving key: run \`veriml setup ${dir} --dev\` (or --ptau FILE) before serving it.`,
    })
  await checkArtifacts(dir, manifest, ['wasm', 'witnessJs', 'wires'])
  const zkey = await readFile(paths.zkey).catch((e: unknown) => {
    throw fileError(e, paths.zkey)
  })
  checkArtifactBytes(dir, manifest, 'zkey', zkey)
  await model.witness()
  return new Uint8Array(zkey.buffer, zkey.byteOffset, zkey.byteLength)
}
