/**
 * Artifacts by URL, checked with crypto.subtle against the SHA-256 the manifest records
 * (the same hashes src/prove/build-folder.ts checkArtifacts compares on disk): the manifest
 * is the root of trust, every other file must match it byte for byte before it is used.
 */
import { ArtifactFetchError, ArtifactIntegrityError } from './errors.js'

export type Fetch = (url: string) => Promise<Response>

/** Lower-case hex SHA-256 of `bytes` (the manifest's form). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The bytes at `base` + `file`; an HTTP error or a network failure is an ArtifactFetchError naming the file. */
export async function fetchBytes(fetchFn: Fetch, base: string, file: string): Promise<Uint8Array> {
  const url = new URL(file, base).href
  let response: Response
  try {
    response = await fetchFn(url)
  } catch (cause) {
    throw new ArtifactFetchError({ file, url, problem: 'could not be fetched', cause })
  }
  if (!response.ok) throw new ArtifactFetchError({ file, url, problem: `HTTP ${response.status}` })
  return new Uint8Array(await response.arrayBuffer())
}

/**
 * The bytes of `file`, refused unless their SHA-256 is `recorded`. An artifact the manifest
 * does not record is refused too: in the browser there is no older-veriml excuse, and an
 * unchecked file is exactly what a tampering server would serve.
 */
export async function fetchChecked(fetchFn: Fetch, base: string, file: string, recorded: string | undefined) {
  const url = new URL(file, base).href
  if (recorded === undefined)
    throw new ArtifactIntegrityError({
      file,
      url,
      problem: 'is not recorded in the manifest (no hash to check it against)',
    })
  const bytes = await fetchBytes(fetchFn, base, file)
  const actual = await sha256Hex(bytes)
  if (actual !== recorded)
    throw new ArtifactIntegrityError({
      file,
      url,
      problem: `does not match the manifest (sha256 ${actual.slice(0, 12)}…, the manifest records ${recorded.slice(0, 12)}…)`,
    })
  return bytes
}
