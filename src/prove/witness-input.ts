import { SCALAR_FIELD } from '../util/field.js'

const field = (x: bigint) => (((x % SCALAR_FIELD) + SCALAR_FIELD) % SCALAR_FIELD).toString()

/**
 * The witness generator's input: one array of field elements per model input `in<k>`
 * (negatives wrap mod p) and, for hashed weights, the private weights by signal name
 * (`w<id>`, `b<id>`: see src/circuit/weights.ts `weightInputs`).
 */
export function witnessInput(
  inputs: readonly (readonly bigint[])[],
  weights: Readonly<Record<string, readonly bigint[]>> = {},
): Record<string, string[]> {
  return {
    ...Object.fromEntries(inputs.map((v, k) => [`in${k}`, v.map(field)])),
    ...Object.fromEntries(Object.entries(weights).map(([name, v]) => [name, v.map(field)])),
  }
}
