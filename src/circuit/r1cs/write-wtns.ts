/**
 * The iden3 `.wtns` binary (version 2) as snarkjs reads it: magic "wtns", version 2, two
 * sections: 1 header (u32 n8 = 32, the prime, u32 nWitness), 2 the values, n8 bytes
 * little-endian each, in wire order, in standard (not Montgomery) form.
 */
import { SCALAR_FIELD } from '../../util/field.js'
import { CHUNK_BYTES, ChunkWriter, concatChunks } from './chunks.js'
import { writeBigLE } from './coefficients.js'

const N8 = 32

/** `witness` is the full assignment (wire 0 = 1), every value already in [0, p). */
export function* wtnsChunks(witness: readonly bigint[], chunkBytes: number = CHUNK_BYTES): Generator<Uint8Array> {
  const w = new ChunkWriter(Math.max(chunkBytes, 128))
  w.ascii('wtns')
  w.u32(2)
  w.u32(2)
  w.u32(1)
  w.u64(4 + N8 + 4)
  w.u32(N8)
  const prime = w.reserve(N8)
  writeBigLE(prime.buf, prime.at, SCALAR_FIELD)
  w.u32(witness.length)
  w.u32(2)
  w.u64(N8 * witness.length)
  for (let i = 0; i < witness.length; i++) {
    const { buf, at } = w.reserve(N8)
    writeBigLE(buf, at, witness[i]!)
    if ((i & 0x7fff) === 0) yield* w.take()
  }
  yield* w.take(true)
}

export function wtnsBytes(witness: readonly bigint[]): Uint8Array {
  return concatChunks(wtnsChunks(witness))
}
