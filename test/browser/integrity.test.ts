/**
 * veriml/browser's integrity checks without a browser (Node has fetch's Response and
 * crypto.subtle): every artifact is refused unless its SHA-256 is the manifest's, an
 * unrecorded one too, and a build that cannot be proven (optimistic, no setup) is named.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ArtifactFetchError, ArtifactIntegrityError, BrowserModelError } from '../../src/browser/errors.js'
import { type Fetch, fetchChecked, sha256Hex } from '../../src/browser/fetch.js'
import { loadModel } from '../../src/browser/model.js'

const BASE = 'https://example.test/build/'
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex')
const IR = '{"name":"m","inputs":[],"outputs":[],"steps":[]}'

/** A server holding `files` (paths relative to BASE); anything else is a 404. */
const serve =
  (files: Record<string, string | Uint8Array<ArrayBuffer>>): Fetch =>
  async (url) => {
    const body = files[url.slice(BASE.length)]
    return body === undefined ? new Response('nope', { status: 404 }) : new Response(body)
  }

const manifest = (extra: object = {}) =>
  JSON.stringify({
    modelId: `0x${sha256(IR)}`,
    modelName: 'm',
    artifacts: { 'ir.json': sha256(IR) },
    layout: { visibility: { input: 'hashed', output: 'public' }, inputs: [], outputs: [], count: 1 },
    setup: { zkeySha256: sha256('zkey'), verificationKeySha256: sha256('{}') },
    ...extra,
  })

describe('veriml/browser integrity', () => {
  it('hashes as the manifest does (lower-case hex SHA-256)', async () => {
    expect(await sha256Hex(new TextEncoder().encode('veriml'))).toBe(sha256('veriml'))
  })

  it('returns an artifact whose hash the manifest records, refuses one byte flipped, naming the file', async () => {
    const zkey = new Uint8Array([1, 2, 3, 4])
    const fetchFn = serve({ 'model.zkey': zkey })
    expect(await fetchChecked(fetchFn, BASE, 'model.zkey', sha256(zkey))).toEqual(zkey)
    const flipped = serve({ 'model.zkey': new Uint8Array([1, 2, 3, 5]) })
    await expect(fetchChecked(flipped, BASE, 'model.zkey', sha256(zkey))).rejects.toThrow(ArtifactIntegrityError)
    await expect(fetchChecked(flipped, BASE, 'model.zkey', sha256(zkey))).rejects.toThrow(
      /^model\.zkey does not match the manifest/,
    )
  })

  it('refuses an artifact the manifest does not record, and names a missing one with its status', async () => {
    await expect(fetchChecked(serve({ 'x.bin': 'x' }), BASE, 'x.bin', undefined)).rejects.toThrow(
      /x\.bin is not recorded in the manifest/,
    )
    await expect(fetchChecked(serve({}), BASE, 'model.zkey', sha256('zkey'))).rejects.toThrow(ArtifactFetchError)
    await expect(fetchChecked(serve({}), BASE, 'model.zkey', sha256('zkey'))).rejects.toThrow(/model\.zkey: HTTP 404/)
  })

  it('loads a model whose ir.json matches; a changed ir.json is refused before it is parsed', async () => {
    const model = await loadModel(BASE, { fetch: serve({ 'manifest.json': manifest(), 'ir.json': IR }) })
    expect(model.modelId).toBe(`0x${sha256(IR)}`)
    expect(model.ir.steps).toEqual([])
    const changed = serve({ 'manifest.json': manifest(), 'ir.json': IR.replace('"m"', '"n"') })
    await expect(loadModel(BASE, { fetch: changed })).rejects.toThrow(/^ir\.json does not match the manifest/)
  })

  it('names a build it cannot prove: optimistic, or without a setup', async () => {
    const optimistic = serve({ 'manifest.json': manifest({ target: 'optimistic' }), 'ir.json': IR })
    await expect(loadModel(BASE, { fetch: optimistic })).rejects.toThrow(BrowserModelError)
    await expect(loadModel(BASE, { fetch: optimistic })).rejects.toThrow(/optimistic build/)
    const unset = serve({ 'manifest.json': manifest({ setup: undefined }), 'ir.json': IR })
    await expect(loadModel(BASE, { fetch: unset })).rejects.toThrow(/records no setup/)
  })
})
