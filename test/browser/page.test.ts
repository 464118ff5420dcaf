/**
 * The proving page in a real browser (Debian's chromium, driven by playwright-core): draw a
 * stroke, prove in the Web Worker, and check in Node that the proof verifies with snarkjs and
 * that its public signals decode to the digit the page showed; a tampered zkey and a broken
 * worker end in an error in the page, never a hang. The MNIST MLP (hashed input, dev setup)
 * proves in about 2 s.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildBrowser } from '../../scripts/build-browser.mjs'
import { type WebServer, startWebServer, writeSite } from '../../src/site/server.js'
import { buildSite, siteFromFolder } from '../../src/site/site.js'
import { decodeOutputs } from '../../src/circuit/public.js'
import type { ZkModel } from '../../src/model.js'
import { compileModel } from '../../src/prove/compile.js'
import { setupModel } from '../../src/prove/setup.js'
import { startAnvil } from '../../src/chain/anvil.js'
import { deployBuild } from '../../src/chain/model.js'
import { shutdown } from '../../src/shutdown.js'
import { systemBinary } from '../helpers/system.js'
import type { PageResult } from '../../web/main.js'
import { launchChromium } from '../../models/chromium.js'

const ROOT = join(import.meta.dirname, '..', '..')
const ARTIFACTS = join(ROOT, 'test-artifacts')
const chromiumPath = systemBinary('chromium')

/** A stroke like a "1": down the middle of the canvas. */
async function drawStroke(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!
  await page.mouse.move(box.x + box.width * 0.52, box.y + box.height * 0.2)
  await page.mouse.down()
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.2 + 0.05 * i))
  await page.mouse.up()
}

const result = (page: Page) => page.evaluate(() => window.verimlResult) as Promise<PageResult | undefined>

describe.skipIf(!chromiumPath)('the proving page in Chromium', () => {
  let work: string
  let model: ZkModel
  let server: WebServer
  let browser: Awaited<ReturnType<typeof launchChromium>>

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'veriml-web-'))
    const dir = join(work, 'mnist')
    const c = await compileModel({
      onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
      outDir: dir,
      calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
      visibility: { input: 'hashed', output: 'public' },
    })
    model = (await setupModel({ model: c.model, dev: true })).model
    await buildBrowser()
    server = await startWebServer({ site: (await buildSite(dir)).site, port: 0 })
    browser = await launchChromium(chromiumPath!)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await shutdown()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('proves a drawn digit in the worker, offline once loaded; the proof verifies in Node and decodes to the digit shown', async () => {
    const page = await browser.context.newPage()
    await page.goto(server.url)
    await page.waitForSelector('body[data-ready="true"]')
    expect(await page.locator('#privacy').textContent()).toContain('never leaves this device')
    await drawStroke(page)
    const shown = Number(await page.locator('#prediction').getAttribute('data-digit'))
    // Once the worker has fetched and checked the artifacts, proving needs no network.
    await page.waitForSelector('body[data-keys="loaded"]', { timeout: 60_000 })
    await browser.context.setOffline(true)
    await page.click('#prove')
    await page.waitForFunction(() => window.verimlResult || window.verimlError, null, { timeout: 60_000 })
    await browser.context.setOffline(false)
    expect(await page.evaluate(() => window.verimlError)).toBeUndefined()
    const r = (await result(page))!
    expect(r.valid).toBe(true)
    expect(r.predicted).toBe(shown)
    const vkey = JSON.parse(await readFile(model.paths.verificationKey, 'utf8'))
    expect(await snarkjs.groth16.verify(vkey, r.publicSignals, r.proof as snarkjs.Groth16Proof)).toBe(true)
    const outputs = decodeOutputs(model.manifest.layout, r.publicSignals.map(BigInt))!
    const logits = outputs[0]
    expect(logits.indexOf(logits.reduce((a, b) => (b > a ? b : a)))).toBe(shown)
    // Hashed input: two public signals (the input's hash, the packed logits), no pixel among them.
    expect(r.publicSignals).toHaveLength(model.manifest.layout.count)
    await page.screenshot({ path: join(ARTIFACTS, 'browser-page.png') })
    console.log(
      `browser prove: witness ${r.witnessMs.toFixed(0)} ms, proving ${r.proveMs.toFixed(0)} ms, ${r.threads} threads of ${r.hardwareConcurrency}`,
    )
    await page.close()
  })

  it('refuses a zkey with one byte flipped (a served bundle), naming the file', async () => {
    const site = join(work, 'site')
    await writeSite((await buildSite(model.dir)).site, site, model.modelId)
    const zkey = join(site, 'model', 'model.zkey')
    const bytes = await readFile(zkey)
    bytes[bytes.length >> 1] ^= 0x01
    await writeFile(zkey, bytes)
    const tampered = await startWebServer({ site: await siteFromFolder(site), port: 0 })
    const page = await browser.context.newPage()
    await page.goto(tampered.url)
    await page.waitForSelector('body[data-ready="true"]')
    await page.click('#prove')
    await page.waitForFunction(() => window.verimlResult || window.verimlError, null, { timeout: 60_000 })
    expect(await page.locator('#error').textContent()).toContain('model.zkey does not match the manifest')
    expect(await result(page)).toBeUndefined()
    await page.close()
    await tampered.close()
  })

  it('shows an error when the worker fails instead of waiting for it', async () => {
    const page = await browser.context.newPage()
    await page.route('**/worker.js', (route) =>
      route.fulfill({ contentType: 'text/javascript', body: 'throw new Error("the prover crashed")' }),
    )
    await page.goto(server.url)
    await page.waitForSelector('body[data-ready="true"]')
    await page.click('#prove')
    await page.waitForFunction(() => window.verimlError, null, { timeout: 30_000 })
    expect(await page.locator('#error').textContent()).toContain('The prover (Web Worker) failed')
    expect(await result(page)).toBeUndefined()
    await page.close()
  })

  it('records the proof on a local node through the registry, signed by the node (no key in the page)', async () => {
    const node = await startAnvil()
    const deploymentPath = model.paths.deployment
    await deployBuild({ model, rpcUrl: node.rpcUrl, privateKey: node.accounts[0].privateKey, deploymentPath })
    const site = (await buildSite(model.dir, { rpc: { url: node.rpcUrl, proxied: true } })).site
    const chained = await startWebServer({ site, port: 0, rpcUrl: node.rpcUrl })
    const page = await browser.context.newPage()
    try {
      await page.goto(chained.url)
      await page.waitForSelector('body[data-ready="true"]')
      await page.selectOption('#digits', '3')
      await page.click('#prove')
      await page.waitForFunction(() => window.verimlResult || window.verimlError, null, { timeout: 60_000 })
      await page.click('#chain button')
      await page.waitForFunction(() => document.querySelector('#chain .ok') || window.verimlError, null, {
        timeout: 60_000,
      })
      expect(await page.evaluate(() => window.verimlError)).toBeUndefined()
      const text = (await page.locator('#chain').textContent())!
      const txHash = /tx (0x[0-9a-f]{64})/.exec(text)![1]
      const receipt = (await node.provider.getTransactionReceipt(txHash))!
      expect(receipt.status).toBe(1)
      expect(receipt.from).toBe(node.accounts[0].address)
      expect(text).toContain(`gas ${receipt.gasUsed}`)
    } finally {
      await page.close()
      await chained.close()
      await node.stop()
      await rm(deploymentPath, { force: true })
    }
  })
})
