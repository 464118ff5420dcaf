import { copyFile, link, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * A per-machine cache of ceremony powers-of-tau files by power, so a file given once with
 * `setup --ptau` serves every later model: `veriml setup DIR` with no key source picks the
 * smallest cached file that is large enough. Dev setups never need it (their keys take
 * seconds), and dev ptau files are never cached: their tau was known.
 * Location: $VERIML_PTAU_CACHE, else ~/.cache/veriml/ptau.
 */
export function ptauCacheDir(): string {
  return process.env.VERIML_PTAU_CACHE || join(homedir(), '.cache', 'veriml', 'ptau')
}

const NAME = /^ptau-p(\d+)-([0-9a-f]{16})\.ptau$/

/** Adds a checked ceremony file to the cache (hard link when possible, else an atomic copy). */
export async function cachePtau(path: string, power: number, sha256: string): Promise<string> {
  const dir = ptauCacheDir()
  await mkdir(dir, { recursive: true })
  const target = join(dir, `ptau-p${power}-${sha256.slice(0, 16)}.ptau`)
  if ((await readdir(dir)).includes(`ptau-p${power}-${sha256.slice(0, 16)}.ptau`)) return target
  const tmp = `${target}.${process.pid}.tmp`
  try {
    await link(path, tmp).catch(() => copyFile(path, tmp))
    await rename(tmp, target)
  } finally {
    await rm(tmp, { force: true })
  }
  return target
}

/** The smallest cached ceremony file whose power is at least `power`, or null. */
export async function findCachedPtau(power: number): Promise<{ path: string; power: number } | null> {
  let names: string[]
  try {
    names = await readdir(ptauCacheDir())
  } catch {
    return null
  }
  const fits = names
    .map((n) => ({ n, m: NAME.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null && Number(x.m[1]) >= power)
    .sort((a, b) => Number(a.m[1]) - Number(b.m[1]))
  return fits.length > 0 ? { path: join(ptauCacheDir(), fits[0].n), power: Number(fits[0].m[1]) } : null
}
