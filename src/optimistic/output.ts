import { getBytes, keccak256 } from 'ethers'
import { wordsHex } from '../ir/commitment.js'
import { type PackLayout, pack, packedElementCount, unpack } from '../ir/packing.js'
import { type Hex, hexOf } from '../util/hex.js'
import { OutputEncodingError } from './errors.js'

/**
 * How a claim posts its outputs (`claim`'s `outputsPacked`, OutputCommitment.sol): each output
 * packed in its layout by the circuit's own packer (src/circuit/packing.ts `pack`), one 32-byte
 * big-endian word per packed element, outputs in model order. So the bytes are
 * abi.encodePacked(uint256[]) of the output part of a zk proof's public signals, and
 * `ClaimKey.outputsHash` (their keccak) is the same 32 bytes for both paths.
 */
export function packOutputs(layouts: readonly PackLayout[], outputs: readonly (readonly bigint[])[]): Hex {
  const words = layouts.flatMap((layout, k) => {
    try {
      return pack(outputs[k], layout)
    } catch (cause) {
      throw new OutputEncodingError({
        output: k,
        reason: `output ${k} does not fit its layout (${layout.count} values in [${layout.lo}, ${layout.lo + (1n << BigInt(layout.laneBits)) - 1n}]): ${(cause as Error).message}`,
        details: [
          'The output layout is sized from the proven output bounds for inputs in the declared domain: this input is outside it.',
        ],
        cause: cause as Error,
      })
    }
  })
  return wordsHex(words)
}

/** Bytes of the packed outputs: 32 per packed element of each output. */
export function packedOutputBytes(layouts: readonly PackLayout[]): number {
  return layouts.reduce((n, l) => n + 32 * packedElementCount(l), 0)
}

/**
 * Inverse of `packOutputs`; throws OutputEncodingError on a wrong length or a set bit above an
 * element's last lane (the game reverts on both: one output has exactly one packing).
 */
export function unpackOutputs(layouts: readonly PackLayout[], packed: Hex | Uint8Array): bigint[][] {
  const bytes = typeof packed === 'string' ? getBytes(packed) : packed
  const expected = packedOutputBytes(layouts)
  if (bytes.length !== expected) {
    throw new OutputEncodingError({
      output: 0,
      reason: `${bytes.length} bytes; the model's output layouts take ${expected}`,
    })
  }
  let at = 0
  return layouts.map((layout, k) => {
    const words = Array.from({ length: packedElementCount(layout) }, (_, e) => {
      const w = wordAt(bytes, at + 32 * e)
      const lanes = Math.min(layout.lanesPerElement, layout.count - e * layout.lanesPerElement)
      if (w >> BigInt(lanes * layout.laneBits) !== 0n) {
        throw new OutputEncodingError({ output: k, reason: `output ${k}, word ${e}: a padding bit is set` })
      }
      return w
    })
    at += 32 * words.length
    return unpack(words, layout)
  })
}

/** `ClaimKey.outputsHash`: keccak256 of the packed outputs. */
export function outputsHashOf(outputsPacked: Hex): Hex {
  return keccak256(outputsPacked)
}

/** The unsigned big-endian word at `offset`. */
function wordAt(bytes: Uint8Array, offset: number): bigint {
  return BigInt(hexOf(bytes.subarray(offset, offset + 32)))
}
