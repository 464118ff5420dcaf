/**
 * circom's witness generator in the browser: its wasm and its JS driver (witness_calculator.js,
 * a CommonJS module) from bytes already checked against the manifest, as src/prove/witness.ts
 * loads them from disk in Node.
 */
import { weightInputs } from '../circuit/weights.js'
import type { IrModel } from '../ir/types.js'
import { ToolError } from '../prove/errors.js'
import { witnessInput } from '../prove/witness-input.js'
import type { WitnessCalculator } from '../prove/witness.js'

interface CircomWitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: number): Promise<Uint8Array>
}
type Builder = (code: Uint8Array) => Promise<CircomWitnessCalculator>

export interface CircomWitnessCalculatorParameters {
  wasm: Uint8Array
  /** witness_calculator.js's source. */
  js: Uint8Array
  ir: IrModel
  hashedWeights: boolean
}

export async function circomWitnessCalculator(p: CircomWitnessCalculatorParameters): Promise<WitnessCalculator> {
  // The driver is a CommonJS module (`module.exports = async function builder…`): evaluated
  // with its own module object. Its bytes were checked against the manifest's hash first.
  const module = { exports: {} as unknown }
  new Function('module', 'exports', new TextDecoder().decode(p.js))(module, module.exports)
  const calculator = await (module.exports as Builder)(p.wasm)
  const weights = p.hashedWeights ? weightInputs(p.ir) : {}
  return async (inputs) => {
    try {
      return await calculator.calculateWTNSBin(witnessInput(inputs, weights), 0)
    } catch (cause) {
      throw new ToolError({ tool: 'witness', argv: ['model.wasm'], problem: 'witness generation failed', cause })
    }
  }
}
