import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ToolError } from './errors.js'
import { artifactPaths } from './paths.js'
import { witnessInput } from './witness-input.js'

const require = createRequire(import.meta.url)

interface CircomWitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array>
}

export type WitnessCalculator = (inputs: readonly (readonly bigint[])[]) => Promise<Uint8Array>

/**
 * Loads the circuit's witness generator (circom's wasm and its JS driver, both build
 * artifacts) once; each call then computes a .wtns in memory. snarkjs's wtns.calculate
 * recompiles the wasm on every call, which dominates for many witnesses.
 */
export async function loadWitnessCalculator(dir: string): Promise<WitnessCalculator> {
  const paths = artifactPaths(dir)
  const builder = require(join(paths.circuitDir, 'model_js', 'witness_calculator.js')) as (code: Uint8Array) => Promise<CircomWitnessCalculator>
  const calculator = await builder(await readFile(paths.wasm))
  return async (inputs) => {
    try {
      return await calculator.calculateWTNSBin(witnessInput(inputs), 0)
    } catch (cause) {
      // The generated code asserts the constraints while it computes: a failure here means
      // the input violates the circuit's domain checks.
      throw new ToolError({ tool: 'witness', argv: [paths.wasm], problem: 'witness generation failed', cause })
    }
  }
}
