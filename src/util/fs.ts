import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { FileError } from './external.js'

/**
 * Writes a file so that readers see either the old content or the whole new content,
 * never a half-written file: write to a sibling temp file, then rename over the target.
 * `data` may be chunks (an r1cs of millions of terms never exists as one buffer).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | Iterable<string | Uint8Array>,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true }).catch((error: unknown) => {
    // A file where a parent folder should be: mkdir says EEXIST, which reads as if the target existed.
    const code = (error as NodeJS.ErrnoException).code
    throw code === 'EEXIST' || code === 'ENOTDIR'
      ? new FileError({ path: dirname(path), what: 'the folder of', code: 'ENOTDIR' })
      : error
  })
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (error) {
    await rm(tmp, { force: true })
    throw error
  }
}

/** JSON with bigints written as decimal strings. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, toJson(value))
}
