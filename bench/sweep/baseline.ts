/**
 * The in-run baseline: the same model compiled with private, Poseidon-committed weights
 * (`--weights hashed`, src/circuit/weights.ts) through the same zk measurements, so the
 * effect of veriml's default weights-as-circuit-constants is measured rather than asserted.
 */
import { readFile } from 'node:fs/promises'
import { emitCircuit } from '../../src/circuit/emit.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { irFromJson } from '../../src/ir/serialize.js'
import { artifactPaths } from '../../src/prove/paths.js'
import type { Progress } from '../../src/util/progress.js'
import { type ChainContext, type Skipped, type ZkResult, measureZk, VISIBILITY } from './measure.js'
import type { SweepModel } from './models.js'

/**
 * Above this many (estimated) constraints the baseline is skipped: hashed weights cost about
 * one multiplication, B + 1 range-check constraints and ~1.5 of hashing per CSR entry (a
 * convolution's weight counts once per output position), so it grows with the parameter
 * count, and setup and proving beyond 2^17 would dominate the sweep's time.
 */
export const HASHED_CONSTRAINT_LIMIT = 2 ** 17

/**
 * circom's O1 keeps linear constraints the emitter's cost model leaves out (Poseidon's
 * mixing layers, the range checks' input assignments): the 2026-12-01 quick sweep measured
 * 1.30–1.33× the model's sum on the four hashed-weights circuits it compiled (17,630 /
 * 13,523; 71,963 / 54,703; 140,398 / 106,887; 156,800 / 117,697).
 */
const O1_FACTOR = 1.33

/** Constraint estimate for the hashed-weights circuit of an already compiled build (emitter's cost model × O1_FACTOR). */
export async function hashedConstraintEstimate(constantDir: string): Promise<number> {
  const ir = irFromJson(await readFile(artifactPaths(constantDir).ir, 'utf8'))
  const { cost } = emitCircuit({ model: ir, bounds: analyzeBounds(ir), visibility: VISIBILITY, weights: 'hashed' })
  // `activations` counts gadgets, not constraints.
  return Math.round(O1_FACTOR * Object.entries(cost).reduce((s, [k, v]) => (k === 'activations' ? s : s + v), 0))
}

export async function measureHashedBaseline(
  m: SweepModel,
  constantDir: string,
  chain: ChainContext,
  progress: Progress,
): Promise<ZkResult | Skipped> {
  const estimate = await hashedConstraintEstimate(constantDir)
  if (estimate > HASHED_CONSTRAINT_LIMIT) {
    return { skipped: `~${estimate.toLocaleString('en-US')} constraints estimated (> 2^17)` }
  }
  return measureZk(m, `${constantDir}-hashed-weights`, chain, progress, 'hashed')
}
