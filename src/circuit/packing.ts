/** The packing of public signals, shared with the optimistic game: defined in the IR layer (src/ir/packing.ts). */
export * from '../ir/packing.js'
