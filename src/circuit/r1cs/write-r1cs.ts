/**
 * The iden3 `.r1cs` binary exactly as snarkjs (r1csfile) reads it: magic "r1cs", version 1,
 * three sections, each `u32 id, u64 size, body`:
 *   1 header: u32 n8 (32), the prime (n8 bytes LE), u32 nWires, u32 nPubOut, u32 nPubIn,
 *     u32 nPrvIn, u64 nLabels, u32 mConstraints;
 *   2 constraints: for each, A, B, C as `u32 nTerms, (u32 wire, n8-byte LE coefficient)*`;
 *   3 wire → label map: one u64 label per wire.
 * No custom-gates sections (4, 5). Sections are written 1, 2, 3 (snarkjs's own writer's order;
 * circom writes 2, 1, 3, and readers find sections by id). Every size is known before the
 * bytes, so the file streams out in chunks.
 */
import { SCALAR_FIELD } from '../../util/field.js'
import { CHUNK_BYTES, ChunkWriter, concatChunks } from './chunks.js'
import { writeBigLE } from './coefficients.js'
import type { ConstraintSystem } from './system.js'

const N8 = 32
const TERM_BYTES = 4 + N8
const HEADER_BYTES = 4 + N8 + 4 * 4 + 8 + 4

/** Size of the constraints section: a u32 count per linear combination plus 36 bytes a term. */
export function constraintSectionBytes(system: ConstraintSystem): number {
  return 3 * system.constraintCount * 4 + system.termCount * TERM_BYTES
}

/** Total file size in bytes. */
export function r1csByteLength(system: ConstraintSystem): number {
  return 12 + 3 * 12 + HEADER_BYTES + constraintSectionBytes(system) + 8 * system.wireCount
}

/** The .r1cs file as chunks of about `chunkBytes` (streams: no whole-file buffer). */
export function* r1csChunks(system: ConstraintSystem, chunkBytes: number = CHUNK_BYTES): Generator<Uint8Array> {
  const w = new ChunkWriter(Math.max(chunkBytes, HEADER_BYTES + 64))
  w.ascii('r1cs')
  w.u32(1)
  w.u32(3)

  w.u32(1)
  w.u64(HEADER_BYTES)
  w.u32(N8)
  const prime = w.reserve(N8)
  writeBigLE(prime.buf, prime.at, SCALAR_FIELD)
  w.u32(system.wireCount)
  w.u32(system.outputCount)
  w.u32(system.publicInputCount)
  w.u32(system.privateInputCount)
  // One label per wire: the builder eliminates no signal, so labels and wires coincide.
  w.u64(system.wireCount)
  w.u32(system.constraintCount)

  w.u32(2)
  w.u64(constraintSectionBytes(system))
  const wires = system.termWires()
  const slots = system.termSlots()
  const table = system.coefficients
  const lcCount = 3 * system.constraintCount
  for (let lc = 0; lc < lcCount; lc++) {
    const { start, end } = system.lcRange(lc)
    w.u32(end - start)
    for (let t = start; t < end; t++) {
      const { buf, view, at } = w.reserve(TERM_BYTES)
      view.setUint32(at, wires[t]!, true)
      table.writeLE(buf, view, at + 4, slots[t]!)
    }
    yield* w.take()
  }

  w.u32(3)
  w.u64(8 * system.wireCount)
  for (let wire = 0; wire < system.wireCount; wire++) {
    w.u64(wire)
    if ((wire & 0xffff) === 0) yield* w.take()
  }
  yield* w.take(true)
}

/** The whole .r1cs file in one buffer (small systems and tests). */
export function r1csBytes(system: ConstraintSystem): Uint8Array {
  return concatChunks(r1csChunks(system))
}
