import { getBytes, hexlify, keccak256 } from 'ethers'
import { InputEncodingError } from './errors.js'
import type { Hex } from './merkle.js'

/**
 * How a claim posts its input values (`ModelConfig.inputLaneBytes` / `inputSigned` of
 * GameTypes.sol): each value one big-endian lane of `bytes` bytes, two's complement when
 * `signed`. An unsigned lane is at most 31 bytes, so every lane is an int256 on chain too.
 */
export interface InputLane {
  bytes: number
  signed: boolean
}

/** The full int256 lane: holds any trace value. */
export const WORD_LANE: InputLane = { bytes: 32, signed: true }

/** The narrowest lane holding every value in [lo, hi] of every input (unsigned when none is negative). */
export function inputLaneFor(domains: readonly { lo: bigint; hi: bigint }[]): InputLane {
  if (domains.length === 0) return WORD_LANE
  const lo = domains.reduce((a, d) => (d.lo < a ? d.lo : a), domains[0].lo)
  const hi = domains.reduce((a, d) => (d.hi > a ? d.hi : a), domains[0].hi)
  for (let bytes = 1; bytes <= 32; bytes++) {
    const bits = BigInt(8 * bytes)
    if (lo >= 0n && bytes <= 31 && hi < 1n << bits) return { bytes, signed: false }
    if (lo >= -(1n << (bits - 1n)) && hi < 1n << (bits - 1n)) return { bytes, signed: true }
  }
  return WORD_LANE
}

/** The values a lane holds. */
export function laneRange(lane: InputLane): { min: bigint; max: bigint } {
  const bits = BigInt(8 * lane.bytes)
  return lane.signed ? { min: -(1n << (bits - 1n)), max: (1n << (bits - 1n)) - 1n } : { min: 0n, max: (1n << bits) - 1n }
}

/** The values, one lane each, as `OptimisticGame.claim` takes them; throws InputEncodingError when one does not fit. */
export function packInput(lane: InputLane, values: readonly bigint[]): Hex {
  const { min, max } = laneRange(lane)
  const bits = 8 * lane.bytes
  const width = 2 * lane.bytes
  let hex = '0x'
  values.forEach((v, index) => {
    if (v < min || v > max) throw new InputEncodingError({ index, value: v, lane })
    hex += BigInt.asUintN(bits, v).toString(16).padStart(width, '0')
  })
  return hex
}

/** Inverse of `packInput`, as `OptimisticGame._unpack`: a signed lane is sign-extended. */
export function unpackInput(lane: InputLane, packed: Hex | Uint8Array): bigint[] {
  const bytes = typeof packed === 'string' ? getBytes(packed) : packed
  if (bytes.length % lane.bytes !== 0) throw new InputEncodingError({ index: Math.floor(bytes.length / lane.bytes), value: null, lane })
  const values: bigint[] = []
  for (let at = 0; at < bytes.length; at += lane.bytes) {
    const raw = BigInt(hexlify(bytes.subarray(at, at + lane.bytes)))
    values.push(lane.signed ? BigInt.asIntN(8 * lane.bytes, raw) : raw)
  }
  return values
}

/** `ClaimKey.inputHash` of a packed input. */
export function inputHashOf(packed: Hex): Hex {
  return keccak256(packed)
}
