/**
 * Writes a directly built system's files: `.r1cs` and `.sym` at build time, `.wtns` at prove
 * time. Each streams its writer's chunks into a sibling temp file and renames it over the
 * target, as util/fs.ts's writeFileAtomic does, so readers never see half a file and a large
 * r1cs never exists as one buffer.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { r1csChunks } from '../circuit/r1cs/write-r1cs.js'
import { symChunks } from '../circuit/r1cs/write-sym.js'
import { wtnsChunks } from '../circuit/r1cs/write-wtns.js'
import type { ConstraintSystem } from '../circuit/r1cs/system.js'

/** Streams `chunks` to `path` atomically (temp file + rename); returns the bytes written. */
export async function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array | string>): Promise<number> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  let bytes = 0
  try {
    const file = await open(tmp, 'w')
    try {
      for (const chunk of chunks) {
        const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
        await file.write(data)
        bytes += data.byteLength
      }
    } finally {
      await file.close()
    }
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
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
