/** 0x-prefixed hex strings and their bytes: words, roots, calldata (the optimistic path and the chain code share them). */
export type Hex = string

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** 0x-prefixed lowercase hex of bytes (ethers' `hexlify`, without its checks: hot path). */
export function hexOf(bytes: Uint8Array): Hex {
  let s = '0x'
  for (let i = 0; i < bytes.length; i++) s += HEX_BYTE[bytes[i]]
  return s
}

/** Writes the bytes of a 0x-prefixed hex string into `out` at `offset`. */
export function writeHex(hex: Hex, out: Uint8Array, offset = 0): void {
  const n = (hex.length - 2) >> 1
  for (let i = 0, c = 2; i < n; i++, c += 2)
    out[offset + i] = (nibble(hex.charCodeAt(c)) << 4) | nibble(hex.charCodeAt(c + 1))
}

function nibble(code: number): number {
  // '0'-'9', 'a'-'f', 'A'-'F'
  const v = code <= 57 ? code - 48 : (code | 32) - 87
  if (v < 0 || v > 15 || Number.isNaN(v)) throw new RangeError(`not a hex digit: ${String.fromCharCode(code)}`)
  return v
}

export function bytesOf(hex: Hex): Uint8Array {
  const out = new Uint8Array((hex.length - 2) >> 1)
  writeHex(hex, out)
  return out
}
