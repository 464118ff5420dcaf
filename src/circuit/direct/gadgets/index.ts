/**
 * The direct backend's gadgets: each declares the signals circom keeps after O1 under a
 * component path, adds circom's constraints, and returns a witness step that fills its wires
 * from its operands' values. Parity with circom: test/circuit/direct/gadgets/.
 */
export { GadgetParameterError, GadgetWitnessError, MissingWireValueError } from './errors.js'
export { type LookupGadget, type LookupParams, lookup, lookupElement } from './lookup.js'
export { type GadgetOutputOptions, type Max2Gadget, type MaxOperand, max2, pairMax } from './max2.js'
export { type MulGadget, mul } from './mul.js'
export { type PoseidonGadget, type PoseidonOptions, poseidon, poseidonHash } from './poseidon.js'
export { chainWidths, type PoseidonChain, poseidonChain } from './poseidon-chain.js'
export { loadPoseidonTables, type PoseidonConstants, type PoseidonTables } from './poseidon-constants.js'
export { type AffineWire, affineTerms, affineValue, signed, type WireValues, type WitnessStep } from './values.js'
