import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { weightInputs } from '../circuit/weights.js'
import type { IrModel } from '../ir/types.js'
import { ToolError } from './errors.js'
import type { ArtifactPaths } from './paths.js'
import { witnessInput } from './witness-input.js'

const require = createRequire(import.meta.url)

interface CircomWitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array>
}

export type WitnessCalculator = (inputs: readonly (readonly bigint[])[]) => Promise<Uint8Array>

export interface LoadWitnessCalculatorParameters {
  paths: ArtifactPaths
  /** The build's IR: it supplies the private weight inputs of a hashed-weights circuit. */
  ir: IrModel
  /** The circuit takes the weights as private inputs (`--weights hashed`). */
  hashedWeights: boolean
}

/**
 * Loads the circuit's witness generator (circom's wasm and its JS driver, both build
 * artifacts) once; each call then computes a .wtns in memory. snarkjs's wtns.calculate
 * recompiles the wasm on every call, which dominates for many witnesses. A CompiledModel
 * keeps the result (`model.witness()`), so every prove on one loaded model reuses it.
 */
export async function loadWitnessCalculator(p: LoadWitnessCalculatorParameters): Promise<WitnessCalculator> {
  const { paths } = p
  // Resolved against the working directory: require() would take a relative path from this file.
  const builder = require(resolve(paths.witnessJs)) as (code: Uint8Array) => Promise<CircomWitnessCalculator>
  let calculator: CircomWitnessCalculator
  try {
    calculator = await builder(await readFile(paths.wasm))
  } catch (cause) {
    // V8 refuses a wasm function over 7,654,321 bytes, and circom compiles the whole main
    // template into one function: very large circuits cannot run their wasm witness generator.
    throw new ToolError({
      tool: 'witness',
      argv: [paths.wasm],
      problem: `the circuit's witness generator could not be loaded: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause,
      details: [
        'V8 limits one WebAssembly function to about 7.6 MB; a circuit this large needs a smaller model (fewer activations) for now.',
      ],
    })
  }
  // Hashed weights are private inputs of the circuit: the build's own IR supplies them.
  const weights = p.hashedWeights ? weightInputs(p.ir) : {}
  return async (inputs) => {
    try {
      return await calculator.calculateWTNSBin(witnessInput(inputs, weights), 0)
    } catch (cause) {
      // The generated code asserts the constraints while it computes: a failure here means
      // the input violates the circuit's domain checks.
      throw new ToolError({ tool: 'witness', argv: [paths.wasm], problem: 'witness generation failed', cause })
    }
  }
}
