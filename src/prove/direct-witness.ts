/**
 * The direct build's witness from what is already in memory (the manifest, the IR, the
 * decoded wire map, the Poseidon tables): no file read, so the Node prove (direct.ts, which
 * reads and checks the map) and the browser entry (src/browser, which fetches and checks it)
 * share it.
 */
import { directWitness } from '../circuit/direct/build.js'
import type { PoseidonTables } from '../circuit/direct/gadgets/poseidon-constants.js'
import type { WireMap } from '../circuit/direct/wires.js'
import { wtnsBytes } from '../circuit/r1cs/write-wtns.js'
import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel } from '../ir/types.js'
import type { Manifest } from './manifest.js'
import type { WitnessCalculator } from './witness.js'

export interface DirectWitnessOfParameters {
  manifest: Manifest
  ir: IrModel
  /** The build's wire map, already checked against the manifest's hash. */
  map: WireMap
  /** Required when the build hashes anything (directWitness refuses it missing). */
  poseidon: PoseidonTables | undefined
}

/** A witness calculator of a direct build: each call is a values-only pass, laid out with the wire map, as a .wtns. */
export function directWitnessOf(p: DirectWitnessOfParameters): WitnessCalculator {
  const bounds = analyzeBounds(p.ir)
  const { visibility } = p.manifest.layout
  const weights = p.manifest.layout.weights ? 'hashed' : 'constant'
  return async (inputs) =>
    wtnsBytes(directWitness({ model: p.ir, bounds, visibility, weights, inputs, poseidon: p.poseidon, ...p.map }))
}
