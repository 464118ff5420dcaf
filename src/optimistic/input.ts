import { getBytes, keccak256 } from 'ethers'
import { InputEncodingError } from './errors.js'
import { hexOf, type Hex } from '../util/hex.js'
import { type MerkleTree, wordTree } from './merkle.js'

/**
 * How a claim posts its input values (`ModelConfig.inputLaneBytes` / `inputSigned` of
 * GameTypes.sol): each value one big-endian lane of `bytes` bytes, two's complement when
 * `signed`. Lanes are 1, 2, 4, 8, 16 or 32 bytes, so a lane never straddles a 32-byte word
 * (the one-step reads one word per operand element); an unsigned lane is at most 16 bytes, so
 * every lane is an int256 on chain too.
 */
export interface InputLane {
  bytes: number
  signed: boolean
}

/** The lane widths the game accepts. */
export const LANE_BYTES = [1, 2, 4, 8, 16, 32] as const

/** The full int256 lane: holds any trace value. */
export const WORD_LANE: InputLane = { bytes: 32, signed: true }

/** The narrowest lane holding every value in [lo, hi] of every input (unsigned when none is negative). */
export function inputLaneFor(domains: readonly { lo: bigint; hi: bigint }[]): InputLane {
  if (domains.length === 0) return WORD_LANE
  const lo = domains.reduce((a, d) => (d.lo < a ? d.lo : a), domains[0].lo)
  const hi = domains.reduce((a, d) => (d.hi > a ? d.hi : a), domains[0].hi)
  for (const bytes of LANE_BYTES) {
    const bits = BigInt(8 * bytes)
    if (lo >= 0n && bytes <= 16 && hi < 1n << bits) return { bytes, signed: false }
    if (lo >= -(1n << (bits - 1n)) && hi < 1n << (bits - 1n)) return { bytes, signed: true }
  }
  return WORD_LANE
}

/** The values a lane holds. */
export function laneRange(lane: InputLane): { min: bigint; max: bigint } {
  const bits = BigInt(8 * lane.bytes)
  return lane.signed
    ? { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n }
    : { min: 0n, max: (1n << bits) - 1n }
}

/** Words (32 bytes each) an input state of `size` values takes in `lane`. */
export function inputWordCount(lane: InputLane, size: number): number {
  return Math.ceil((size * lane.bytes) / 32)
}

/** Bytes of the packed input of states of `sizes`: each state zero-padded to whole words. */
export function packedInputBytes(lane: InputLane, sizes: readonly number[]): number {
  return sizes.reduce((a, n) => a + 32 * inputWordCount(lane, n), 0)
}

/** Writes `values` one lane each at `offset`; throws InputEncodingError when one does not fit. */
function writeLanes(lane: InputLane, values: readonly bigint[], out: Uint8Array, offset: number, first = 0): void {
  const { min, max } = laneRange(lane)
  const bits = 8 * lane.bytes
  values.forEach((v, i) => {
    if (v < min || v > max) throw new InputEncodingError({ index: first + i, value: v, lane })
    let u = BigInt.asUintN(bits, v)
    for (let b = lane.bytes - 1; b >= 0; b--, u >>= 8n) out[offset + i * lane.bytes + b] = Number(u & 0xffn)
  })
}

/** The values, one lane each, with no padding (one state's lanes, or a test's). */
export function packInput(lane: InputLane, values: readonly bigint[]): Hex {
  const out = new Uint8Array(values.length * lane.bytes)
  writeLanes(lane, values, out, 0)
  return hexOf(out)
}

/** Inverse of `packInput`: a signed lane is sign-extended. */
export function unpackInput(lane: InputLane, packed: Hex | Uint8Array): bigint[] {
  const bytes = typeof packed === 'string' ? getBytes(packed) : packed
  if (bytes.length % lane.bytes !== 0)
    throw new InputEncodingError({ index: Math.floor(bytes.length / lane.bytes), value: null, lane })
  return decodeLanes(lane, bytes, bytes.length / lane.bytes)
}

function decodeLanes(lane: InputLane, bytes: Uint8Array, count: number): bigint[] {
  const values: bigint[] = []
  for (let i = 0; i < count; i++) {
    let raw = 0n
    for (let b = 0; b < lane.bytes; b++) raw = (raw << 8n) | BigInt(bytes[i * lane.bytes + b])
    values.push(lane.signed ? BigInt.asIntN(8 * lane.bytes, raw) : raw)
  }
  return values
}

/** One input state's bytes as the claim posts them: its lanes, zero-padded to whole words. */
export function inputStateBytes(lane: InputLane, values: readonly bigint[], first = 0): Uint8Array {
  const out = new Uint8Array(32 * inputWordCount(lane, values.length))
  writeLanes(lane, values, out, 0, first)
  return out
}

/**
 * The packed input `OptimisticGame.claim` takes: for each input state in order, its values one
 * lane each, zero-padded to a multiple of 32 bytes.
 */
export function packInputStates(lane: InputLane, states: readonly (readonly bigint[])[]): Hex {
  const parts: Uint8Array[] = []
  let first = 0
  for (const s of states) {
    parts.push(inputStateBytes(lane, s, first))
    first += s.length
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return hexOf(out)
}

/** Where the input states are in a layout (`TraceLayout` has these fields). */
export interface InputShape {
  inputCount: number
  stateSizes: readonly number[]
  inputLane: InputLane
}

/** Bytes of the packed input of a layout's input states (what a claim on the model must post). */
export function packedInputSize(layout: InputShape): number {
  return packedInputBytes(layout.inputLane, layout.stateSizes.slice(0, layout.inputCount))
}

/**
 * The packed input cut into its input states, each slice the state's whole words (padding
 * included); throws InputEncodingError on a wrong length (the claim reverts on it).
 */
export function inputStateWords(layout: InputShape, packed: Hex | Uint8Array): Uint8Array[] {
  const bytes = typeof packed === 'string' ? getBytes(packed) : packed
  const { inputLane: lane } = layout
  const expected = packedInputSize(layout)
  if (bytes.length !== expected) {
    throw new InputEncodingError({
      index: Math.floor(bytes.length / lane.bytes),
      value: null,
      lane,
      reason: `packed input is ${bytes.length} bytes; the model's input states take ${expected}`,
    })
  }
  const parts: Uint8Array[] = []
  let at = 0
  for (const size of layout.stateSizes.slice(0, layout.inputCount)) {
    const n = 32 * inputWordCount(lane, size)
    parts.push(bytes.subarray(at, at + n))
    at += n
  }
  return parts
}

/**
 * Inverse of `packInputStates` for the model's input states; throws InputEncodingError on a
 * wrong length or a padding byte that is not zero (the claim reverts on both).
 */
export function unpackInputStates(layout: InputShape, packed: Hex | Uint8Array): bigint[][] {
  const { inputLane: lane } = layout
  let first = 0
  return inputStateWords(layout, packed).map((part, state) => {
    const size = layout.stateSizes[state]
    const padding = part.subarray(size * lane.bytes).findIndex((b) => b !== 0)
    if (padding >= 0) {
      throw new InputEncodingError({
        index: first + size,
        value: null,
        lane,
        reason: `input state ${state}: padding byte ${size * lane.bytes + padding} of its words is not zero`,
      })
    }
    first += size
    return decodeLanes(lane, part, size)
  })
}

/**
 * The commitment of an input state (its trace-tree leaf): the tree over its packed 32-byte
 * words, so the claim computes it from calldata with one hash per word pair.
 */
export function inputWordTree(lane: InputLane, values: readonly bigint[]): MerkleTree {
  return wordTree(inputStateBytes(lane, values))
}

/** Word of element `index` of an input state, and the lane's byte offset in it. */
export function laneWordOf(lane: InputLane, index: number): { word: number; offset: number } {
  return { word: Math.floor((index * lane.bytes) / 32), offset: (index * lane.bytes) % 32 }
}

/** `ClaimKey.inputHash` of a packed input. */
export function inputHashOf(packed: Hex): Hex {
  return keccak256(packed)
}
