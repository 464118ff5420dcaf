import { getBytes, keccak256 } from 'ethers'
import { type PackLayout, pack, packedElementCount } from '../ir/packing.js'
import { type Hex, hexOf } from '../util/hex.js'
import { InputEncodingError } from './errors.js'
import { type MerkleTree, wordTree, writeInt256 } from './merkle.js'

/**
 * How a claim posts one input state (`InputLayout` of GameTypes.sol): the zk circuit's input
 * PackLayout (`publicLayouts`: lane = v − lo of laneBits = bit length of hi − lo bits, L =
 * 252 / laneBits lanes a 32-byte word, lane j of word e at bit laneBits·j), one big-endian word
 * per packed element, so the packed input is the proof's public input signals word for word.
 * `hi` is the declared domain's top: the game refuses lanes above hi − lo (InputOutOfDomain).
 */
export interface InputLayout extends PackLayout {
  hi: bigint
}

/** Words an input state takes (its packed elements). */
export function inputWordCount(layout: PackLayout): number {
  return packedElementCount(layout)
}

/** Bytes of the packed input of states in `layouts`: 32 per packed word. */
export function packedInputBytes(layouts: readonly PackLayout[]): number {
  return layouts.reduce((a, l) => a + 32 * inputWordCount(l), 0)
}

/**
 * One input state's words as the claim posts them, packed by the circuit's own packer; throws
 * InputEncodingError (naming the element, `first` + its index) for a value outside [lo, hi].
 */
export function inputStateBytes(layout: InputLayout, values: readonly bigint[], first = 0): Uint8Array {
  const bad = values.findIndex((v) => v < layout.lo || v > layout.hi)
  if (bad >= 0 || values.length !== layout.count) {
    throw new InputEncodingError({
      index: first + (bad >= 0 ? bad : values.length),
      value: bad >= 0 ? values[bad] : null,
      layout,
      ...(bad >= 0 ? {} : { reason: `input state has ${values.length} values; its layout holds ${layout.count}` }),
    })
  }
  const words = pack(values, layout)
  const out = new Uint8Array(32 * words.length)
  words.forEach((w, i) => writeInt256(w, out, 32 * i))
  return out
}

/** The packed input `OptimisticGame.claim` takes: each input state's words, in order. */
export function packInputStates(layouts: readonly InputLayout[], states: readonly (readonly bigint[])[]): Hex {
  const parts: Uint8Array[] = []
  let first = 0
  states.forEach((s, k) => {
    parts.push(inputStateBytes(layouts[k], s, first))
    first += s.length
  })
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
  inputLayouts: readonly InputLayout[]
}

/** Bytes of the packed input of a layout's input states (what a claim on the model must post). */
export function packedInputSize(layout: InputShape): number {
  return packedInputBytes(layout.inputLayouts)
}

/**
 * The packed input cut into its input states, each slice the state's words; throws
 * InputEncodingError on a wrong length (the claim reverts on it).
 */
export function inputStateWords(layout: InputShape, packed: Hex | Uint8Array): Uint8Array[] {
  const bytes = typeof packed === 'string' ? getBytes(packed) : packed
  const expected = packedInputSize(layout)
  if (bytes.length !== expected) {
    throw new InputEncodingError({
      index: 0,
      value: null,
      layout: layout.inputLayouts[0],
      reason: `packed input is ${bytes.length} bytes; the model's input states take ${expected}`,
    })
  }
  const parts: Uint8Array[] = []
  let at = 0
  for (const l of layout.inputLayouts) {
    const n = 32 * inputWordCount(l)
    parts.push(bytes.subarray(at, at + n))
    at += n
  }
  return parts
}

/**
 * Inverse of `packInputStates` for the model's input states; throws InputEncodingError on a
 * wrong length, a set bit above a word's last lane, or a lane above hi − lo (the claim reverts
 * on each).
 */
export function unpackInputStates(layout: InputShape, packed: Hex | Uint8Array): bigint[][] {
  let first = 0
  return inputStateWords(layout, packed).map((part, state) => {
    const l = layout.inputLayouts[state]
    const mask = (1n << BigInt(l.laneBits)) - 1n
    const values: bigint[] = []
    for (let e = 0; e < part.length / 32; e++) {
      let w = BigInt(hexOf(part.subarray(32 * e, 32 * e + 32)))
      const lanes = Math.min(l.lanesPerElement, l.count - e * l.lanesPerElement)
      if (w >> BigInt(lanes * l.laneBits) !== 0n) {
        throw new InputEncodingError({
          index: first + e * l.lanesPerElement,
          value: null,
          layout: l,
          reason: `input state ${state}: a padding bit of word ${e} is set`,
        })
      }
      for (let j = 0; j < lanes; j++, w >>= BigInt(l.laneBits)) {
        const v = (w & mask) + l.lo
        if (v > l.hi) throw new InputEncodingError({ index: first + values.length, value: v, layout: l })
        values.push(v)
      }
    }
    first += l.count
    return values
  })
}

/**
 * The commitment of an input state (its trace-tree leaf): the tree over its packed 32-byte
 * words, so the claim computes it from calldata with one hash per word pair.
 */
export function inputWordTree(layout: InputLayout, values: readonly bigint[]): MerkleTree {
  return wordTree(inputStateBytes(layout, values))
}

/** Word of element `index` of an input state, and its lane in that word. */
export function laneWordOf(layout: PackLayout, index: number): { word: number; lane: number } {
  return { word: Math.floor(index / layout.lanesPerElement), lane: index % layout.lanesPerElement }
}

/** `ClaimKey.inputHash` of a packed input. */
export function inputHashOf(packed: Hex): Hex {
  return keccak256(packed)
}
