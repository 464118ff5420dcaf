import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { createRequire } from 'node:module'
import { isAbsolute, join, posix, relative, resolve } from 'node:path'
import type * as Solc from '../../src/chain/solc.js'

const CACHE = join(tmpdir(), 'veriml-test-solc-cache')
const IMPORT = /\bimport\s[^;]*?["']([^"']+)["'][^;]*;/gs

/**
 * Every source unit a compile reads, from `files` through their imports, as solc resolves them
 * (a `./` or `../` import against its importer's unit name, any other as a unit name), with
 * its text; null when one cannot be read inside the root (that compile is then not cached:
 * it fails, or reads something this scan does not know).
 */
function sourcesOf(root: string, files: readonly string[]): Map<string, string> | null {
  const seen = new Map<string, string>()
  const queue = files.map((f) => relative(root, resolve(root, f)).split('\\').join('/'))
  while (queue.length > 0) {
    const unit = queue.pop()!
    if (seen.has(unit)) continue
    const path = resolve(root, unit)
    const rel = relative(root, path)
    if (rel.startsWith('..') || isAbsolute(rel)) return null
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      return null
    }
    seen.set(unit, text)
    for (const [, target] of text.matchAll(IMPORT))
      queue.push(target.startsWith('.') ? posix.normalize(posix.join(posix.dirname(unit), target)) : target)
  }
  return seen
}

/**
 * compileSolidity through a content-addressed cache under the OS temp folder. Every optimistic
 * test file deploys the game, so each compiled the same contracts with solc-js again (about
 * 5 s of CPU per file, in ~15 files per run). The key is everything the compile reads: the
 * solc version and settings, compileSolidity's code, and the text of every source unit reached
 * from `files`. Only a successful compile is stored, as the value compileSolidity returned
 * (contracts, compiler settings, warnings); a failing one runs, and throws, every time.
 */
export function cachedCompileSolidity(solc: typeof Solc): typeof Solc.compileSolidity {
  // The package's version, not solc's own: reading that would load the 9 MB compiler on a hit.
  const { version } = createRequire(import.meta.url)('solc/package.json') as { version: string }
  // compileSolidity's own code too (its standard-JSON input and output selection).
  const code = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'chain', 'solc.ts'), 'utf8')
  const settings = [version, solc.OPTIMIZER, solc.EVM_VERSION, code]
  return (parameters) => {
    const root = resolve(parameters.baseDir)
    const sources = sourcesOf(root, parameters.files)
    if (sources === null) return solc.compileSolidity(parameters)
    const units = [...sources].sort(([a], [b]) => (a < b ? -1 : 1))
    const key = createHash('sha256')
      .update(JSON.stringify([settings, parameters.files, units]))
      .digest('hex')
    const entry = join(CACHE, `${key}.json`)
    try {
      return JSON.parse(readFileSync(entry, 'utf8')) as Solc.CompileSolidityReturnType
    } catch {
      // Not cached yet.
    }
    const result = solc.compileSolidity(parameters)
    mkdirSync(CACHE, { recursive: true })
    // Written whole, then renamed: a reader never sees half an entry.
    const partial = `${entry}.${process.pid}.partial`
    writeFileSync(partial, JSON.stringify(result))
    renameSync(partial, entry)
    return result
  }
}
