/**
 * What a circuit reveals: the visibility of inputs, outputs and weights, and the public
 * layout (which public signals mean what). Shared by the emitter, the public-signal code,
 * the weight commitment and the manifest, so it imports no emitter code.
 */
import type { PackLayout } from './packing.js'

export type InputVisibility = 'public' | 'hashed' | 'private'
export type OutputVisibility = 'public' | 'hashed'
export type WeightVisibility = 'constant' | 'hashed'

export interface Visibility {
  input: InputVisibility
  output: OutputVisibility
}

/** What the public weight commitment covers (hashed weights only). */
export interface WeightsLayout {
  /** Weights and biases committed. */
  values: number
  /** Packed field elements hashed. */
  elements: number
  /** The Poseidon commitment, decimal; filled in by compile, which can await Poseidon. */
  commitment?: string
}

/** What the public signals are, in order: the input part, then the output part. */
export interface PublicLayout {
  visibility: Visibility
  /** One pack layout per model input / output; also used to hash (hash of the packed elements). */
  inputs: PackLayout[]
  outputs: PackLayout[]
  /** Number of public signals. */
  count: number
  /** Hashed weights only: the weight commitment, the last public signal (see weights.ts). */
  weights?: WeightsLayout
}
