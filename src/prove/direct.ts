/**
 * `compile --compiler direct`: the circuit's R1CS written by the direct backend
 * (src/circuit/direct/) instead of circom, and its witness computed in TypeScript at prove time
 * instead of by circom's wasm. The circom source is still written by compile (the auditable
 * artifact); the tests check that circom compiles it to the same system.
 */
import { buildDirect } from '../circuit/direct/build.js'
import { loadPoseidonTables } from '../circuit/direct/gadgets/poseidon-constants.js'
import { hashesAnything } from '../circuit/direct/hash.js'
import type { Visibility, WeightVisibility } from '../circuit/layout.js'
import { wtnsBytes } from '../circuit/r1cs/write-wtns.js'
import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel, TensorBounds, TensorId } from '../ir/types.js'
import type { ArtifactPaths } from './paths.js'
import { writeSystemFiles } from './r1cs-files.js'
import type { WitnessCalculator } from './witness.js'

/** Which compiler makes the R1CS: circom (default, today's path) or the direct backend. */
export type Compiler = 'circom' | 'direct'
export const COMPILERS = ['circom', 'direct'] as const

export interface CompileDirectParameters {
  paths: ArtifactPaths
  ir: IrModel
  bounds: Map<TensorId, TensorBounds>
  visibility: Visibility
  weights: WeightVisibility
}

/** Writes circuit/model.r1cs and model.sym from the IR; what circom's compile would report. */
export async function compileDirect(
  p: CompileDirectParameters,
): Promise<{ constraintCount: number; compileMs: number }> {
  const started = performance.now()
  const poseidon = hashesAnything(p.visibility, p.weights) ? await loadPoseidonTables() : undefined
  const { system } = buildDirect({
    model: p.ir,
    bounds: p.bounds,
    visibility: p.visibility,
    weights: p.weights,
    poseidon,
  })
  await writeSystemFiles({ system, r1csPath: p.paths.r1cs, symPath: p.paths.sym })
  return { constraintCount: system.constraintCount, compileMs: performance.now() - started }
}

/** The witness of a direct build: the direct backend run with values, as a .wtns in memory. */
export function directWitnessCalculator(
  ir: IrModel,
  visibility: Visibility,
  weights: WeightVisibility = 'constant',
): WitnessCalculator {
  const bounds = analyzeBounds(ir)
  const hashed = hashesAnything(visibility, weights)
  return async (inputs) => {
    const poseidon = hashed ? await loadPoseidonTables() : undefined
    return wtnsBytes(buildDirect({ model: ir, bounds, visibility, weights, inputs, poseidon }).witness!)
  }
}
