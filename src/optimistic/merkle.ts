import { createKeccak } from 'hash-wasm'
import { type Hex, hexOf, writeHex } from '../util/hex.js'

/**
 * Fixed-depth keccak Merkle trees, equal to `verifier-contracts/optimistic/MerkleLib.sol`:
 * n leaves → depth ceil(log2 n), padded with zero leaves, inner node = keccak256(left ‖ right),
 * leaves are raw 32-byte words (an integer is its int256 two's complement).
 */

/** The all-zero word: a padding leaf. */
export const ZERO_WORD: Hex = `0x${'00'.repeat(32)}`
const INT256_MIN = -(1n << 255n)
const INT256_MAX = (1n << 255n) - 1n
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER)
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER)

// keccak in WebAssembly: ~0.7 µs a hash against ethers' ~12 µs, which is what lets the
// parameters of a 10M-weight model commit in seconds. Created once (the only async step), so
// every function here stays synchronous; `init/update/digest` never yield.
const hasher = await createKeccak(256)

/** keccak256 of raw bytes, as 32 bytes. */
export function keccakBytes(data: Uint8Array): Uint8Array {
  hasher.init()
  hasher.update(data)
  return hasher.digest('binary')
}

/** keccak256 of raw bytes, as hex. */
export function keccakHex(data: Uint8Array): Hex {
  return hexOf(keccakBytes(data))
}

/**
 * Writes `value` as an int256 word (two's complement, big-endian) at `offset`; throws
 * RangeError beyond int256. Safe integers (every weight in practice) take a fast path.
 */
export function writeInt256(value: bigint, out: Uint8Array, offset = 0): void {
  if (value >= SAFE_MIN && value <= SAFE_MAX) {
    // Two's complement of a safe integer: hi·2^32 + lo with lo in [0, 2^32).
    const n = Number(value)
    const hi = Math.floor(n / 4294967296)
    const lo = n - hi * 4294967296
    out.fill(n < 0 ? 0xff : 0, offset, offset + 24)
    const h = hi >>> 0
    out[offset + 24] = h >>> 24
    out[offset + 25] = (h >>> 16) & 0xff
    out[offset + 26] = (h >>> 8) & 0xff
    out[offset + 27] = h & 0xff
    out[offset + 28] = lo >>> 24
    out[offset + 29] = (lo >>> 16) & 0xff
    out[offset + 30] = (lo >>> 8) & 0xff
    out[offset + 31] = lo & 0xff
    return
  }
  if (value < INT256_MIN || value > INT256_MAX) throw new RangeError(`${value} does not fit in int256`)
  const view = new DataView(out.buffer, out.byteOffset + offset, 32)
  let v = BigInt.asUintN(256, value)
  for (let i = 3; i >= 0; i--, v >>= 64n) view.setBigUint64(8 * i, BigInt.asUintN(64, v))
}

/** The int256 word of an integer; throws RangeError beyond int256. */
export function wordOf(value: bigint): Hex {
  const out = new Uint8Array(32)
  writeInt256(value, out)
  return hexOf(out)
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

const pair = new Uint8Array(64)
export function hashPair(left: Hex, right: Hex): Hex {
  writeHex(left, pair, 0)
  writeHex(right, pair, 32)
  return keccakHex(pair)
}

/** All layers of a tree, leaves first; the last layer is [root]. */
export interface MerkleTree {
  depth: number
  layers: Hex[][]
  root: Hex
}

export function merkleTree(leaves: readonly Hex[], depth = depthFor(leaves.length)): MerkleTree {
  if (leaves.length > 2 ** depth) throw new RangeError(`${leaves.length} leaves do not fit a tree of depth ${depth}`)
  const words = new Uint8Array(32 * leaves.length)
  leaves.forEach((leaf, i) => writeHex(leaf, words, 32 * i))
  return wordTree(words, depth)
}

/** ZERO_HASHES[d]: root of a tree of depth d holding only zero leaves (the padding of every tree). */
const ZERO_HASHES: Uint8Array[] = [new Uint8Array(32)]
for (let d = 1; d <= 64; d++) {
  const both = new Uint8Array(64)
  both.set(ZERO_HASHES[d - 1], 0)
  both.set(ZERO_HASHES[d - 1], 32)
  ZERO_HASHES.push(keccakBytes(both))
}
const ZERO_HEX = ZERO_HASHES.map(hexOf)

const padded = new Uint8Array(64)
/**
 * One level up, in place: the first `n` nodes of `nodes` (a level `level` of a tree) become
 * their ceil(n/2) parents; a last node without a right sibling pairs with the zero subtree, so
 * padding is never hashed (n + depth hashes for n leaves).
 */
function levelUp(nodes: Uint8Array, n: number, level: number): number {
  const parents = Math.ceil(n / 2)
  for (let i = 0; i < parents; i++) {
    if (2 * i + 1 < n) nodes.set(keccakBytes(nodes.subarray(64 * i, 64 * i + 64)), 32 * i)
    else {
      padded.set(nodes.subarray(64 * i, 64 * i + 32), 0)
      padded.set(ZERO_HASHES[level], 32)
      nodes.set(keccakBytes(padded), 32 * i)
    }
  }
  return parents
}

/**
 * The tree over the 32-byte words of `words` (its length a multiple of 32, zero words after
 * them up to 2^depth), hashed on bytes, with hex layers for proofs.
 */
export function wordTree(words: Uint8Array, depth = depthFor(words.length / 32)): MerkleTree {
  let n = words.length / 32
  if (n > 2 ** depth) throw new RangeError(`${n} leaves do not fit a tree of depth ${depth}`)
  const nodes = words.slice()
  const layers: Hex[][] = []
  for (let level = 0; ; level++) {
    const width = 2 ** (depth - level)
    layers.push(
      Array.from({ length: width }, (_, i) => (i < n ? hexOf(nodes.subarray(32 * i, 32 * i + 32)) : ZERO_HEX[level])),
    )
    if (level === depth) break
    n = levelUp(nodes, n, level)
  }
  return { depth, layers, root: layers[depth][0] }
}

/**
 * Root only, hashing in place (as MerkleLib.tensorRoot): `words` holds the leaves and is
 * overwritten.
 */
export function wordRootInPlace(words: Uint8Array, leafCount: number, depth = depthFor(leafCount)): Uint8Array {
  if (leafCount > 2 ** depth) throw new RangeError(`${leafCount} leaves do not fit a tree of depth ${depth}`)
  if (leafCount === 0) return ZERO_HASHES[depth].slice()
  for (let level = 0, n = leafCount; level < depth; level++) n = levelUp(words, n, level)
  return words.slice(0, 32)
}

/** Siblings of leaf `index`, bottom-up. */
export function merkleProof(tree: MerkleTree, index: number): Hex[] {
  if (index < 0 || index >= 2 ** tree.depth) throw new RangeError(`leaf ${index} outside a tree of depth ${tree.depth}`)
  return tree.layers.slice(0, tree.depth).map((layer, level) => layer[(index >> level) ^ 1])
}

/** Root of the tree holding `leaf` at `index`, given its siblings bottom-up. */
export function rootFrom(leaf: Hex, index: number, path: readonly Hex[]): Hex {
  return path.reduce(
    (node, sibling, level) => ((index >> level) & 1 ? hashPair(sibling, node) : hashPair(node, sibling)),
    leaf,
  )
}

/** The tensor tree of integer values. */
export function tensorTree(values: readonly bigint[]): MerkleTree {
  const words = new Uint8Array(32 * values.length)
  values.forEach((v, i) => writeInt256(v, words, 32 * i))
  return wordTree(words)
}
