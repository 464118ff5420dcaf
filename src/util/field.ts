/** Order of the BN254 scalar field: circuit signals, public signals and Groth16 scalars live below it. */
export const SCALAR_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
