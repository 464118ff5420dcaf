/**
 * Optional API keys: `authorization: Bearer KEY` or `x-api-key: KEY`. Keys come from
 * VERIML_API_KEYS (comma-separated) and/or a file (one a line, # comments). Each is registered
 * as a secret (never printed, src/util/secrets.ts) and kept only as its SHA-256; a request's
 * key is hashed and compared with every digest by crypto.timingSafeEqual, all of them, so the
 * time taken tells nothing of which key (or how much of one) matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { fileError } from '../util/external.js'
import { registerSecret } from '../util/secrets.js'

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest()

/** Keys from the env var's value and the file's text; blank lines and # comments skipped. */
export function parseApiKeys(envValue: string | undefined, fileText: string | undefined): string[] {
  const fromEnv = (envValue ?? '').split(',')
  const fromFile = (fileText ?? '').split('\n').filter((l) => !l.trim().startsWith('#'))
  return [...fromEnv, ...fromFile].map((k) => k.trim()).filter((k) => k !== '')
}

export async function readApiKeys({
  env = process.env.VERIML_API_KEYS,
  file,
}: {
  env?: string
  file?: string
} = {}): Promise<string[]> {
  const text =
    file === undefined
      ? undefined
      : await readFile(file, 'utf8').catch((e: unknown) => {
          throw fileError(e, file, '--api-keys-file')
        })
  return parseApiKeys(env, text)
}

/** A checker of request headers; undefined (every request allowed) when there are no keys. */
export function apiKeyCheck(keys: readonly string[]): ((headers: IncomingHttpHeaders) => boolean) | undefined {
  if (keys.length === 0) return undefined
  for (const k of keys) registerSecret(k)
  const digests = keys.map(digest)
  return (headers) => {
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]
    const given = bearer ?? (typeof headers['x-api-key'] === 'string' ? headers['x-api-key'] : undefined)
    if (given === undefined) return false
    const d = digest(given.trim())
    let ok = false
    for (const k of digests) ok = timingSafeEqual(d, k) || ok
    return ok
  }
}
