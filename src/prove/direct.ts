/**
 * The direct backend at the edges: compile writes circuit/model.r1cs, .sym and the wire map
 * (circuit/model.wires) from the IR instead of running circom; prove computes the witness in
 * TypeScript instead of circom's wasm: a values-only pass over the same transcription, laid
 * out with the wire map (no constraint stored, no O1). The circom source is still written by
 * compile (the auditable artifact); the tests check that circom compiles it to the same system.
 */
import { readFile } from 'node:fs/promises'
import { relative } from 'node:path'
import { buildDirect } from '../circuit/direct/build.js'
import { loadPoseidonTables } from '../circuit/direct/gadgets/poseidon-constants.js'
import { hashesAnything } from '../circuit/direct/hash.js'
import { decodeWireMap, encodeWireMap } from '../circuit/direct/wires.js'
import { directWitnessOf } from './direct-witness.js'
import type { Visibility, WeightVisibility } from '../circuit/layout.js'
import type { IrModel, TensorBounds, TensorId } from '../ir/types.js'
import { FileError, fileError } from '../util/external.js'
import { writeFileAtomic } from '../util/fs.js'
import { InconsistentBuildError, checkArtifactBytes } from './build-folder.js'
import type { Manifest } from './manifest.js'
import type { ArtifactPaths } from './paths.js'
import { writeSystemFiles } from './r1cs-files.js'
import type { WitnessCalculator } from './witness.js'

/** Which compiler makes the R1CS: the direct backend (default) or circom (today's path, the cross-check). */
export type Compiler = 'circom' | 'direct'
export const COMPILERS = ['circom', 'direct'] as const

export interface CompileDirectParameters {
  paths: ArtifactPaths
  ir: IrModel
  bounds: Map<TensorId, TensorBounds>
  visibility: Visibility
  weights: WeightVisibility
}

/** Writes circuit/model.r1cs, model.sym and model.wires from the IR; what circom's compile would report. */
export async function compileDirect(
  p: CompileDirectParameters,
): Promise<{ constraintCount: number; compileMs: number }> {
  const started = performance.now()
  const poseidon = hashesAnything(p.visibility, p.weights) ? await loadPoseidonTables() : undefined
  const { system, wires, signalCount, stepChunks } = buildDirect({
    model: p.ir,
    bounds: p.bounds,
    visibility: p.visibility,
    weights: p.weights,
    poseidon,
  })
  await writeSystemFiles({ system, r1csPath: p.paths.r1cs, symPath: p.paths.sym })
  await writeFileAtomic(p.paths.wires, encodeWireMap({ signalCount, wires, stepChunks }))
  return { constraintCount: system.constraintCount, compileMs: performance.now() - started }
}

export interface DirectWitnessCalculatorParameters {
  dir: string
  paths: ArtifactPaths
  manifest: Manifest
  ir: IrModel
}

/**
 * The witness of a direct build as a .wtns in memory. Reads the wire map once, checked
 * against the manifest's hash: a missing, unrecorded, changed or malformed map is an
 * InconsistentBuildError naming the file, whose fix is a recompile.
 */
export async function directWitnessCalculator(p: DirectWitnessCalculatorParameters): Promise<WitnessCalculator> {
  const path = p.paths.wires
  const inconsistent = (problem: string, cause?: unknown) =>
    new InconsistentBuildError({ dir: p.dir, path, problem, fix: 'recompile', cause })
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (error) {
    const e = fileError(error, path)
    if (e instanceof FileError && e.code === 'ENOENT') throw inconsistent('is missing', error)
    throw e
  }
  // A direct build made before the wire map existed records none: it cannot be proven any more.
  if (p.manifest.artifacts[relative(p.dir, path)] === undefined)
    throw inconsistent('is not recorded in the manifest (a direct build from an older veriml)')
  checkArtifactBytes(p.dir, p.manifest, 'wires', bytes)
  const map = decodeWireMap(bytes)
  if (typeof map === 'string') throw inconsistent(map)
  const { visibility } = p.manifest.layout
  const poseidon = hashesAnything(visibility, p.manifest.layout.weights ? 'hashed' : 'constant')
    ? await loadPoseidonTables()
    : undefined
  return directWitnessOf({ manifest: p.manifest, ir: p.ir, map, poseidon })
}
