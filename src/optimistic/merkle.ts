import { concat, keccak256, toBeHex, zeroPadValue } from 'ethers'

/**
 * Fixed-depth keccak Merkle trees, equal to `verifier-contracts/optimistic/MerkleLib.sol`:
 * n leaves → depth ceil(log2 n), padded with zero leaves, inner node = keccak256(left ‖ right),
 * leaves are raw 32-byte words (an integer is its int256 two's complement).
 */
export type Hex = string

export const ZERO_WORD: Hex = `0x${'00'.repeat(32)}`
const INT256_MIN = -(1n << 255n)
const INT256_MAX = (1n << 255n) - 1n

/** The int256 word of an integer; throws RangeError beyond int256. */
export function wordOf(value: bigint): Hex {
  if (value < INT256_MIN || value > INT256_MAX) throw new RangeError(`${value} does not fit in int256`)
  return zeroPadValue(toBeHex(BigInt.asUintN(256, value)), 32)
}

/** Inverse of `wordOf`. */
export function valueOfWord(word: Hex): bigint {
  return BigInt.asIntN(256, BigInt(word))
}

/** ceil(log2 n); 0 for n ≤ 1. */
export function depthFor(n: number): number {
  let d = 0
  while (2 ** d < n) d++
  return d
}

export function hashPair(left: Hex, right: Hex): Hex {
  return keccak256(concat([left, right]))
}

/** All layers of a tree, leaves first; the last layer is [root]. */
export interface MerkleTree {
  depth: number
  layers: Hex[][]
  root: Hex
}

export function merkleTree(leaves: readonly Hex[], depth = depthFor(leaves.length)): MerkleTree {
  if (leaves.length > 2 ** depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${depth}`)
  let layer: Hex[] = Array.from({ length: 2 ** depth }, (_, i) => leaves[i] ?? ZERO_WORD)
  const layers = [layer]
  while (layer.length > 1) {
    const next: Hex[] = []
    for (let i = 0; i < layer.length; i += 2) next.push(hashPair(layer[i], layer[i + 1]))
    layers.push((layer = next))
  }
  return { depth, layers, root: layer[0] }
}

/** Siblings of leaf `index`, bottom-up. */
export function merkleProof(tree: MerkleTree, index: number): Hex[] {
  if (index < 0 || index >= 2 ** tree.depth) throw new RangeError(`leaf ${index} outside a tree of depth ${tree.depth}`)
  return tree.layers.slice(0, tree.depth).map((layer, level) => layer[(index >> level) ^ 1])
}

/** Root of the tree holding `leaf` at `index`, given its siblings bottom-up. */
export function rootFrom(leaf: Hex, index: number, path: readonly Hex[]): Hex {
  return path.reduce((node, sibling, level) => ((index >> level) & 1 ? hashPair(sibling, node) : hashPair(node, sibling)), leaf)
}

/** The tensor tree of integer values. */
export function tensorTree(values: readonly bigint[]): MerkleTree {
  return merkleTree(values.map(wordOf))
}
