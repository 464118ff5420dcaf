import { SCALAR_FIELD } from '../util/field.js'

/** The witness generator's input: one array of field elements per model input (negatives wrap mod p). */
export function witnessInput(inputs: readonly (readonly bigint[])[]): Record<string, string[]> {
  return Object.fromEntries(inputs.map((v, k) => [`in${k}`, v.map((x) => (((x % SCALAR_FIELD) + SCALAR_FIELD) % SCALAR_FIELD).toString())]))
}
