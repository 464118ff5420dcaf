import { createHash } from 'node:crypto'
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CompileCircomReturnType, compileCircom } from '../../src/prove/circom.js'

const ROOT = join(import.meta.dirname, '..', '..')
const CACHE = join(tmpdir(), 'veriml-test-circom-cache')

/**
 * The key of a compile: everything circom reads and everything that runs it. The emitted
 * source, the veriml.circom templates it includes, the pinned compiler and circomlib (their
 * versions; compileCircom copies circomlib's files from the installed package), and
 * compileCircom's own code (its flags, the WASI runner, the wat-to-wasm step).
 */
async function keyOf(source: string): Promise<string> {
  const require = createRequire(import.meta.url)
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version
  const hash = createHash('sha256')
  for (const part of [
    source,
    await readFile(join(ROOT, 'circuits', 'veriml.circom'), 'utf8'),
    ...(await Promise.all(
      ['circom.ts', 'circom-wasi.mjs', 'wat2wasm.mjs'].map((f) => readFile(join(ROOT, 'src', 'prove', f), 'utf8')),
    )),
    version('circom2'),
    version('circomlib'),
  ])
    hash.update(`${part.length}:${part}`)
  return hash.digest('hex')
}

/**
 * compileCircom on `dir` (holding model.circom = `source`), through a content-addressed cache
 * under the OS temp folder: several test files compile the very same circuits (the fixtures'
 * public builds: test/circuit/fixtures.test.ts and test/circuit/direct/equivalence.test.ts),
 * and circom is deterministic, so a second compile only repeats the first (2-8 s each). A hit
 * copies the first compile's whole folder (r1cs, sym, the witness generator) into `dir`; the
 * entry is renamed into place only once complete, so a killed run leaves no half entry.
 */
export async function compileCircomCached(dir: string, source: string): Promise<CompileCircomReturnType> {
  const entry = join(CACHE, await keyOf(source))
  const done = await readFile(join(entry, 'compiled.json'), 'utf8').catch(() => null)
  if (done !== null) {
    await cp(entry, dir, { recursive: true })
    return JSON.parse(done) as CompileCircomReturnType
  }
  const compiled = await compileCircom(dir)
  const partial = `${entry}.${process.pid}.partial`
  await mkdir(CACHE, { recursive: true })
  await cp(dir, partial, { recursive: true })
  await writeFile(join(partial, 'compiled.json'), JSON.stringify(compiled))
  // Another process may have stored the same entry meanwhile: keep theirs.
  await rename(partial, entry).catch(() => rm(partial, { recursive: true, force: true }))
  return compiled
}
