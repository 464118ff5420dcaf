/** BN254 scalar field modulus: witness inputs are field elements. */
export const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n

/** The witness generator's input: one array of field elements per model input (negatives wrap mod p). */
export function witnessInput(inputs: readonly (readonly bigint[])[]): Record<string, string[]> {
  return Object.fromEntries(inputs.map((v, k) => [`in${k}`, v.map((x) => (((x % FIELD) + FIELD) % FIELD).toString())]))
}
