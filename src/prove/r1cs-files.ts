/**
 * Writes a directly built system's files: `.r1cs` and `.sym` at build time, `.wtns` at prove
 * time, each streamed atomically (a large r1cs never exists as one buffer).
 */
import { r1csChunks } from '../circuit/r1cs/write-r1cs.js'
import { symChunks } from '../circuit/r1cs/write-sym.js'
import { wtnsChunks } from '../circuit/r1cs/write-wtns.js'
import type { ConstraintSystem } from '../circuit/r1cs/system.js'
import { writeFileAtomic } from '../util/fs.js'

/** Streams `chunks` to `path` atomically (util/fs.ts's writeFileAtomic); returns the bytes written. */
export async function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array | string>): Promise<number> {
  let bytes = 0
  function* counted() {
    for (const chunk of chunks) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, 'utf8') : chunk.byteLength
      yield chunk
    }
  }
  await writeFileAtomic(path, counted())
  return bytes
}

export interface WriteSystemFilesParameters {
  system: ConstraintSystem
  r1csPath: string
  /** Omit to write no .sym. */
  symPath?: string
}

export interface WriteSystemFilesReturnType {
  r1csBytes: number
  symBytes: number
  writeMs: number
}

export async function writeSystemFiles({
  system,
  r1csPath,
  symPath,
}: WriteSystemFilesParameters): Promise<WriteSystemFilesReturnType> {
  const started = performance.now()
  const r1csBytes = await writeChunksAtomic(r1csPath, r1csChunks(system))
  const symBytes = symPath === undefined ? 0 : await writeChunksAtomic(symPath, symChunks(system))
  return { r1csBytes, symBytes, writeMs: performance.now() - started }
}

/** Writes the full assignment (wire 0 = 1, values in [0, p)) as a snarkjs `.wtns`. */
export async function writeWitnessFile(path: string, witness: readonly bigint[]): Promise<number> {
  return writeChunksAtomic(path, wtnsChunks(witness))
}
