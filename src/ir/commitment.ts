import { keccak256, toBeHex } from 'ethers'
import { analyzeBounds } from './bounds.js'
import { type PackLayout, pack, publicLayouts } from './packing.js'
import type { IrModel } from './types.js'
import type { Hex } from '../util/hex.js'

/**
 * What every path commits to for one statement, computed off chain: the inputs and outputs
 * packed in the model's public layouts (`publicLayouts`: the zk circuit's public signals, the
 * optimistic claim's words, OnchainModel.commitmentsOf) and their keccak256. The hub's statement
 * is (modelId, inputCommitment) and its record holds outputsHash.
 */
export interface StatementCommitments {
  inputPacked: Hex
  inputCommitment: Hex
  outputsPacked: Hex
  outputsHash: Hex
}

/** Packed words as one byte string, each word 32 bytes big-endian (abi.encodePacked(uint256[])). */
export const wordsHex = (words: readonly bigint[]): Hex => `0x${words.map((w) => toBeHex(w, 32).slice(2)).join('')}`

function packAll(layouts: readonly PackLayout[], tensors: readonly (readonly bigint[])[]): Hex {
  if (tensors.length !== layouts.length)
    throw new RangeError(`expected ${layouts.length} tensors, got ${tensors.length}`)
  return wordsHex(layouts.flatMap((l, k) => pack(tensors[k], l)))
}

/** The input's words packed in its domain's layouts: needs only the declared domains. */
export function packedInputOf(model: IrModel, inputs: readonly (readonly bigint[])[]): Hex {
  return packAll(publicLayouts({ ...model, outputs: [] }, new Map()).inputs, inputs)
}

/** keccak256 of the packed input words: the statement's input commitment (with the model id, the hub's statement). */
export function inputCommitment(model: IrModel, inputs: readonly (readonly bigint[])[]): Hex {
  return keccak256(packedInputOf(model, inputs))
}

/**
 * The packed input and outputs of `model` on `inputs` (outputs as the reference executor gives
 * them) and their hashes. Throws RangeError for a value outside its layout (an input outside
 * its domain: the contract refuses it too).
 */
export function statementCommitments(
  model: IrModel,
  inputs: readonly (readonly bigint[])[],
  outputs: readonly (readonly bigint[])[],
): StatementCommitments {
  const inputPacked = packedInputOf(model, inputs)
  const outputsPacked = packAll(publicLayouts(model, analyzeBounds(model)).outputs, outputs)
  return { inputPacked, inputCommitment: keccak256(inputPacked), outputsPacked, outputsHash: keccak256(outputsPacked) }
}
