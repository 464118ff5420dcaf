/** Direct R1CS backend's foundation: the constraint system, its file writers and its witness check. */
export { ChunkWriter, concatChunks } from './chunks.js'
export { CoefficientTable, reduce } from './coefficients.js'
export { SignalOrderError, UnknownWireError, WitnessAssignmentError } from './errors.js'
export {
  ConstraintSystem,
  type Lc,
  SIGNAL_ROLES,
  type SignalBlock,
  type SignalRole,
  type TermRange,
  type Wire,
} from './system.js'
export { type ConstraintViolation, checkWitness, fillWitness } from './witness.js'
export { constraintSectionBytes, r1csByteLength, r1csBytes, r1csChunks } from './write-r1cs.js'
export { symChunks, symText } from './write-sym.js'
export { wtnsBytes, wtnsChunks } from './write-wtns.js'
