import type { IrModel, TensorBounds, TensorId } from './types.js'
import { sizeOf } from '../util/shape.js'

/**
 * Packing of many small integers into few BN254 field elements (public signals). In the IR
 * layer because both backends expose a model's inputs and outputs this one way: the circuit's
 * public signals (src/circuit/) and the optimistic game's claim (src/optimistic/), issue 17.
 *
 * A tensor of `count` integers, each proven to lie in [lo, lo + 2^laneBits), is stored as
 * lanes `v - lo` (non-negative, laneBits wide), `lanesPerElement` lanes per element,
 * lane j of element e at bit offset laneBits·j:
 *
 *   element[e] = Σ_j (v[e·L + j] - lo) · 2^(laneBits·j)
 *
 * lanesPerElement·laneBits ≤ 252 < log2(p), so an element never wraps the field and the
 * decoding is unique. The Solidity registry decodes with the same layout.
 */
export interface PackLayout {
  count: number
  laneBits: number
  /** Lower bound of every value; lane = value - lo. */
  lo: bigint
  lanesPerElement: number
}

export const PACK_BITS = 252

export function packLayout(count: number, lo: bigint, hi: bigint): PackLayout {
  const span = hi - lo
  const laneBits = Math.max(1, span.toString(2).length)
  if (laneBits > PACK_BITS) throw new RangeError(`lane of ${laneBits} bits cannot be packed`)
  return { count, laneBits, lo, lanesPerElement: Math.floor(PACK_BITS / laneBits) }
}

/** The smallest and largest bound over a tensor's elements. */
export function tensorRange(b: TensorBounds): [bigint, bigint] {
  let lo = b.lo[0],
    hi = b.hi[0]
  for (const v of b.lo) if (v < lo) lo = v
  for (const v of b.hi) if (v > hi) hi = v
  return [lo, hi]
}

/**
 * The pack layouts of a model's public part, in model order: each input over its declared
 * domain [lo, hi], each output over its proven range (`bounds`, src/ir/bounds.ts). The one
 * definition: both circuit emitters (emit.ts emitPublic, direct/public.ts) and the optimistic
 * game's claim encoding (src/optimistic/layout.ts) take their layouts from it, so a game claim
 * posts exactly the words a zk proof's public input and output signals are.
 */
export function publicLayouts(
  model: IrModel,
  bounds: ReadonlyMap<TensorId, TensorBounds>,
): { inputs: PackLayout[]; outputs: PackLayout[] } {
  return {
    inputs: model.inputs.map((i) => packLayout(sizeOf(i.shape), i.lo, i.hi)),
    outputs: model.outputs.map((o) => {
      const b = bounds.get(o.tensor)!
      const [lo, hi] = tensorRange(b)
      return packLayout(b.lo.length, lo, hi)
    }),
  }
}

/**
 * How a circuit range-checks an input element v of domain [lo, hi]: v − lo in `bits` bits
 * (the lane of `packLayout`), and, when the span is not a power of two (`capped`), hi − v in
 * `bits` bits too. So the zk path admits exactly [lo, hi], as the optimistic game does (a
 * lane above hi − lo is refused there, InputCommitment.sol): one input, one statement on both
 * paths, and the output bounds (proven over [lo, hi]) hold for every admitted input.
 */
export function inputRangeCheck(input: { lo: bigint; hi: bigint }): { bits: number; capped: boolean } {
  const span = input.hi - input.lo
  const bits = Math.max(1, span === 0n ? 0 : span.toString(2).length)
  return { bits, capped: span + 1n !== 1n << BigInt(bits) }
}

export function packedElementCount(layout: PackLayout): number {
  return Math.ceil(layout.count / layout.lanesPerElement)
}

/** How one side (input or output) of the public signals is exposed; an output is never private. */
export type SignalVisibility = 'public' | 'hashed' | 'private'

/** Public signals of one side: its packed elements when public, one Poseidon hash when hashed, none when private. */
export function sideSignalCount(visibility: SignalVisibility, layouts: readonly PackLayout[]): number {
  if (visibility === 'public') return layouts.reduce((n, l) => n + packedElementCount(l), 0)
  return visibility === 'hashed' ? 1 : 0
}

export interface PublicSignalCountParameters {
  input: SignalVisibility
  inputLayouts: readonly PackLayout[]
  output: SignalVisibility
  outputLayouts: readonly PackLayout[]
  /** Hashed weights: their commitment is the last public signal. */
  weightCommitment: boolean
}

/**
 * The number of public signals of a proof, in the circuit's order: the input part, the output
 * part, then the weight commitment. The one definition: the emitter's layout, the output
 * decoder and the registry registration all count with it (the Solidity registry mirrors it).
 */
export function publicSignalCount(p: PublicSignalCountParameters): number {
  return (
    sideSignalCount(p.input, p.inputLayouts) + sideSignalCount(p.output, p.outputLayouts) + (p.weightCommitment ? 1 : 0)
  )
}

export function pack(values: readonly bigint[], layout: PackLayout): bigint[] {
  if (values.length !== layout.count) {
    throw new RangeError(`pack: expected ${layout.count} values, got ${values.length}`)
  }
  const limit = 1n << BigInt(layout.laneBits)
  const out: bigint[] = []
  for (let e = 0; e < packedElementCount(layout); e++) {
    let acc = 0n
    const first = e * layout.lanesPerElement
    const last = Math.min(layout.count, first + layout.lanesPerElement)
    for (let i = last - 1; i >= first; i--) {
      const lane = values[i] - layout.lo
      if (lane < 0n || lane >= limit) {
        throw new RangeError(`pack: value ${values[i]} at ${i} outside [${layout.lo}, ${layout.lo + limit - 1n}]`)
      }
      acc = (acc << BigInt(layout.laneBits)) | lane
    }
    out.push(acc)
  }
  return out
}

export function unpack(elements: readonly bigint[], layout: PackLayout): bigint[] {
  if (elements.length !== packedElementCount(layout)) {
    throw new RangeError(`unpack: expected ${packedElementCount(layout)} elements, got ${elements.length}`)
  }
  const mask = (1n << BigInt(layout.laneBits)) - 1n
  const out: bigint[] = []
  for (let i = 0; i < layout.count; i++) {
    const e = elements[Math.floor(i / layout.lanesPerElement)]
    const j = i % layout.lanesPerElement
    out.push(((e >> BigInt(layout.laneBits * j)) & mask) + layout.lo)
  }
  return out
}
