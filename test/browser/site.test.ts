/**
 * `veriml web` and `veriml bundle` without a browser: the site's files, their MIME types and
 * hashes, nothing served outside the site, a build without a setup refused with the CLI's
 * usual error, and a bundle written whole into a new folder (never into a foreign one).
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBrowser } from '../../scripts/build-browser.mjs'
import { type WebServer, startWebServer } from '../../src/site/server.js'
import { buildSite } from '../../src/site/site.js'
import { compileModel } from '../../src/prove/compile.js'
import { MissingArtifactError } from '../../src/prove/errors.js'
import { setupModel } from '../../src/prove/setup.js'
import { shutdown } from '../../src/shutdown.js'
import { BIN, cliInProcess } from '../helpers/cli.js'

const ROOT = join(import.meta.dirname, '..', '..')
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('veriml web and veriml bundle', () => {
  let work: string
  let unset: string
  let dir: string
  let server: WebServer

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'veriml-site-'))
    unset = join(work, 'no-setup')
    dir = join(work, 'tiny')
    const onnxPath = join(ROOT, 'models', 'tiny-mlp.onnx')
    await compileModel({ onnxPath, outDir: unset, visibility: { input: 'hashed', output: 'public' } })
    const c = await compileModel({ onnxPath, outDir: dir, visibility: { input: 'hashed', output: 'public' } })
    await setupModel({ model: c.model, dev: true })
    await buildBrowser()
    server = await startWebServer({ site: (await buildSite(dir)).site, port: 0 })
  })
  afterAll(async () => {
    await server?.close()
    await shutdown()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('serves the page, config and artifacts with their MIME types, and nothing else', async () => {
    const get = (path: string) => fetch(new URL(path, server.url))
    const types = Object.fromEntries(
      await Promise.all(
        ['', 'main.js', 'worker.js', 'config.json', 'model/manifest.json', 'model/model.zkey'].map(
          async (p) => [p, (await get(p)).headers.get('content-type')] as const,
        ),
      ),
    )
    expect(types).toEqual({
      '': 'text/html; charset=utf-8',
      'main.js': 'text/javascript; charset=utf-8',
      'worker.js': 'text/javascript; charset=utf-8',
      'config.json': 'application/json',
      'model/manifest.json': 'application/json',
      'model/model.zkey': 'application/octet-stream',
    })
    expect(await (await get('config.json')).json()).toEqual({ model: 'model/' })
    expect(new Uint8Array(await (await get('model/model.zkey')).arrayBuffer())).toEqual(
      new Uint8Array(await readFile(join(dir, 'model.zkey'))),
    )
    // The build folder's other files (the ONNX model, the circuit source) and anything outside it are not served.
    for (const p of ['model/model.onnx', 'model/circuit/model.circom', 'model/../../etc/passwd', '%2e%2e/package.json'])
      expect((await get(p)).status, p).toBe(404)
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405)
  })

  it('bundle writes the same site with site-manifest.json (sha256 of every file)', async () => {
    const out = join(work, 'site')
    const r = await cliInProcess('bundle', dir, '--out', out)
    expect(r.code).toBe(0)
    const manifest = JSON.parse(await readFile(join(out, 'site-manifest.json'), 'utf8')) as {
      files: Record<string, string>
    }
    expect(Object.keys(manifest.files).sort()).toEqual([
      'config.json',
      'digits.json',
      'index.html',
      'main.js',
      'model/circuit/model.wires',
      'model/ir.json',
      'model/manifest.json',
      'model/model.zkey',
      'model/poseidon-constants.json',
      'model/verification_key.json',
      'worker.js',
    ])
    for (const [path, hash] of Object.entries(manifest.files))
      expect(sha256(await readFile(join(out, ...path.split('/')))), path).toBe(hash)
    // A second bundle replaces the first; no staging folder is left beside it.
    expect((await cliInProcess('bundle', dir, '--out', out)).code).toBe(0)
    expect((await readdir(work)).filter((e) => e.includes('staging'))).toEqual([])
  })

  it('bundle refuses a folder that is not a bundle, and leaves it alone', async () => {
    const foreign = join(work, 'foreign')
    await mkdir(foreign)
    await writeFile(join(foreign, 'notes.txt'), 'mine')
    const r = await cliInProcess('bundle', dir, '--out', foreign)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`--out ${foreign} is a folder that is not a veriml bundle`)
    expect(await readdir(foreign)).toEqual(['notes.txt'])
  })

  it('a build without a setup is refused with the CLI usual error', async () => {
    await expect(buildSite(unset)).rejects.toThrow(MissingArtifactError)
    const r = await cliInProcess('bundle', unset, '--out', join(work, 'never'))
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`veriml setup ${unset} --dev`)
  })

  it('`veriml web DIR --port 0` prints the page URL and serves it until stopped', async () => {
    const child = spawn(process.execPath, [BIN, 'web', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d
        const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)
        if (m) resolve(m[0])
      })
      child.once('exit', (code) => reject(new Error(`veriml web exited with ${code}: ${out}`)))
    })
    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<canvas id="pad"')
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })
})
