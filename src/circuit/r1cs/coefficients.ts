/**
 * Compact storage of BN254 scalar-field coefficients: one float64 slot per term instead of a
 * bigint, so a system with millions of terms stays a few typed arrays.
 *
 * A slot holds the coefficient itself when it is small (|c| < 2^51, a negative slot −m standing
 * for p − m, the field's −m), or 2^52 + i for entry i of an interned table of the large ones
 * (powers of two in bit decompositions, packing shifts: few distinct values, used often).
 * Float64 represents every integer below 2^53 exactly, so no slot is ever rounded.
 */
import { SCALAR_FIELD } from '../../util/field.js'

const P = SCALAR_FIELD
/** Inline slots hold magnitudes below this. */
const INLINE_LIMIT_BIG = 2n ** 51n
/** Table slots start here (far above every inline slot). */
const TABLE_BASE = 2 ** 52
const TWO_32 = 2 ** 32

/** BN254's scalar prime as eight little-endian u32 limbs, for p − m without bigints. */
const P_LIMBS = Uint32Array.from({ length: 8 }, (_, i) => Number((P >> BigInt(32 * i)) & 0xffffffffn))

/** v mod p in [0, p): negative constants become p − |v|, as circom writes them. */
export function reduce(v: bigint): bigint {
  const r = v % P
  return r < 0n ? r + P : r
}

export class CoefficientTable {
  private readonly values: bigint[] = []
  private readonly bytes: Uint8Array[] = []
  private readonly index = new Map<bigint, number>()

  /** The slot of a reduced, non-zero coefficient. */
  encode(c: bigint): number {
    if (c < INLINE_LIMIT_BIG) return Number(c)
    const negated = P - c
    if (negated < INLINE_LIMIT_BIG) return -Number(negated)
    let i = this.index.get(c)
    if (i === undefined) {
      i = this.values.length
      this.values.push(c)
      const b = new Uint8Array(32)
      writeBigLE(b, 0, c)
      this.bytes.push(b)
      this.index.set(c, i)
    }
    return TABLE_BASE + i
  }

  decode(slot: number): bigint {
    if (slot >= TABLE_BASE) return this.values[slot - TABLE_BASE]!
    return slot < 0 ? P - BigInt(-slot) : BigInt(slot)
  }

  /** Writes the coefficient of `slot` as 32 little-endian bytes (the r1cs encoding) at `offset`. */
  writeLE(target: Uint8Array, view: DataView, offset: number, slot: number): void {
    if (slot >= TABLE_BASE) {
      target.set(this.bytes[slot - TABLE_BASE]!, offset)
      return
    }
    if (slot >= 0) {
      view.setUint32(offset, slot % TWO_32, true)
      view.setUint32(offset + 4, Math.floor(slot / TWO_32), true)
      target.fill(0, offset + 8, offset + 32)
      return
    }
    // p − m limb by limb: m < 2^51 touches the two low limbs, the borrow may run further.
    const m = -slot
    let borrow = 0
    for (let i = 0; i < 8; i++) {
      const sub = (i === 0 ? m % TWO_32 : i === 1 ? Math.floor(m / TWO_32) : 0) + borrow
      let limb = P_LIMBS[i]! - sub
      borrow = limb < 0 ? 1 : 0
      if (limb < 0) limb += TWO_32
      view.setUint32(offset + 4 * i, limb, true)
    }
  }

  /** Distinct large coefficients interned so far. */
  get tableSize(): number {
    return this.values.length
  }
}

/** Writes a field element (0 ≤ v < 2^256) as 32 little-endian bytes. */
export function writeBigLE(target: Uint8Array, offset: number, v: bigint): void {
  let x = v
  for (let i = 0; i < 32; i++) {
    target[offset + i] = Number(x & 0xffn)
    x >>= 8n
  }
}
