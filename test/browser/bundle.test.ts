/**
 * The browser entry is browser-clean: scripts/build-browser.mjs bundles it (and the page) for
 * platform 'browser', and a Node builtin reached from an entry fails the build naming the
 * module that imports it. esbuild only: nothing runs in a browser here.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBrowser } from '../../scripts/build-browser.mjs'

const ROOT = join(import.meta.dirname, '..', '..')

describe('scripts/build-browser.mjs', () => {
  let out: string
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'veriml-bundle-'))
  })
  afterAll(() => rm(out, { recursive: true, force: true }))

  it('bundles veriml/browser and the page with no Node builtin, snarkjs as its browser build', async () => {
    const { library, page } = await buildBrowser({ outDir: out, minify: false })
    const inputs = [...Object.keys(library.inputs), ...Object.keys(page!.inputs)]
    expect(inputs.filter((i) => i.startsWith('node:') || /(^|\/)node_modules\/(fs|path|crypto)\//.test(i))).toEqual([])
    expect(inputs.some((i) => i.endsWith('snarkjs/build/browser.esm.js'))).toBe(true)
    // circomlibjs (Node streams, ethers v5) is never bundled: the stub stands in for the compile-time hashChain.
    expect(inputs.filter((i) => i.includes('node_modules/circomlibjs/'))).toEqual([])
    for (const f of ['browser/veriml.esm.js', 'web/main.js', 'web/worker.js', 'web/index.html', 'web/digits.json'])
      expect((await stat(join(out, f))).size).toBeGreaterThan(0)
  })

  it('fails on an entry that reaches a Node builtin, naming the importer', async () => {
    const entry = join(out, 'node-only.ts')
    await writeFile(entry, `export { loadModel } from ${JSON.stringify(join(ROOT, 'src', 'model.ts'))}\n`)
    await expect(buildBrowser({ outDir: join(out, 'bad'), entry, page: false })).rejects.toThrow(
      /Node-only module "node:fs\/promises" imported by src\/model\.ts/,
    )
  })
})
