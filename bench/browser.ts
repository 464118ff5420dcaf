/**
 * In-browser proving against Node (issue 19), same machine, same run, same input: the MNIST
 * MLP (hashed input, dev setup) served by `veriml web`'s server, proven RUNS times in headless
 * Chromium (Debian's chromium through playwright-core) by pressing Prove on a held-out digit,
 * and RUNS times in Node with proveModel, interleaved. The first proof of each side pays for
 * loading (the curve's threads, the witness generator); the medians are over the others
 * (warm), the first is reported beside them.
 *
 *   node --import tsx bench/browser.ts [--runs=4] [--screenshot]   # --screenshot: docs/browser-page.png
 *
 * Writes bench/results/browser-<date>.md (and .json).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { launchChromium } from '../models/chromium.js'
import { buildBrowser } from '../scripts/build-browser.mjs'
import { startWebServer } from '../src/site/server.js'
import { buildSite } from '../src/site/site.js'
import { compileModel } from '../src/prove/compile.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { shutdown } from '../src/shutdown.js'
import { writeJsonAtomic } from '../src/util/fs.js'
import { VERIML_VERSION, packageVersion } from '../src/util/versions.js'
import type { PageResult } from '../web/main.js'
import { machineRecord } from './machine.js'

const ROOT = join(import.meta.dirname, '..')
const argv = process.argv.slice(2)
const runs = Math.max(2, Number(argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 4))
const screenshot = argv.includes('--screenshot')
/** The held-out digit proven (web/digits.json, one per class). */
const DIGIT = 7

const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

interface Sample {
  witnessMs: number
  proveMs: number
  totalMs: number
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()
  const executablePath = (process.env.PATH ?? '')
    .split(':')
    .map((d) => join(d, 'chromium'))
    .find((p) => existsSync(p))
  if (!executablePath) throw new Error("chromium is not installed: apt-get install chromium (Debian's package)")
  const work = await mkdtemp(join(tmpdir(), 'veriml-bench-browser-'))
  try {
    const dir = join(work, 'mnist')
    const c = await compileModel({
      onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
      outDir: dir,
      calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
      visibility: { input: 'hashed', output: 'public' },
    })
    const model = (await setupModel({ model: c.model, dev: true })).model
    const { digits } = JSON.parse(await readFile(join(ROOT, 'web', 'digits.json'), 'utf8')) as {
      digits: { label: number; pixels: number[] }[]
    }
    const input = { input_data: [digits[DIGIT].pixels] }

    await buildBrowser()
    const server = await startWebServer({ site: (await buildSite(dir)).site, port: 0 })
    const launched = await launchChromium(executablePath, { viewport: { width: 1160, height: 640 } })
    const { context } = launched
    // Two pages, two proving workers: snarkjs's threads (`?threads=all`) and one thread (`?threads=1`).
    const modes = ['all', '1'] as const
    const browser: Record<(typeof modes)[number], PageResult[]> = { all: [], '1': [] }
    const node: Sample[] = []
    try {
      const pages = await Promise.all(
        modes.map(async (mode) => {
          const page = await context.newPage()
          await page.goto(`${server.url}?threads=${mode}`)
          await page.waitForSelector('body[data-keys="loaded"]', { timeout: 300_000 })
          await page.selectOption('#digits', String(DIGIT))
          return page
        }),
      )
      // Interleaved (threads, one thread, Node, …): the machine is shared, so every side sees the same load.
      for (let i = 0; i < runs; i++) {
        const line: string[] = []
        for (const [k, mode] of modes.entries()) {
          const page = pages[k]
          await page.evaluate(() => {
            window.verimlResult = undefined
          })
          await page.click('#prove')
          await page.waitForFunction(() => window.verimlResult || window.verimlError, null, { timeout: 300_000 })
          const error = await page.evaluate(() => window.verimlError)
          if (error) throw new Error(`the page failed: ${error}`)
          const r = (await page.evaluate(() => window.verimlResult))!
          if (!r.valid) throw new Error('the page produced an invalid proof')
          browser[mode].push(r)
          line.push(`browser (${r.threads} thread${r.threads > 1 ? 's' : ''}) prove ${r.proveMs.toFixed(0)} ms`)
        }
        const t = performance.now()
        const p = await proveModel({ model, input, outDir: join(work, `proof-${i}`) })
        node.push({ witnessMs: p.witnessMs, proveMs: p.proveMs, totalMs: performance.now() - t })
        console.log(`run ${i + 1}/${runs}: ${line.join(', ')}; node prove ${p.proveMs.toFixed(0)} ms`)
      }
      if (screenshot) await pages[1].screenshot({ path: join(ROOT, 'docs', 'browser-page.png'), fullPage: true })
    } finally {
      await launched.close()
      await server.close()
    }
    await report({
      model: c.manifest,
      browser,
      node,
      loadAtStart,
      chromiumVersion: await chromiumVersion(executablePath),
    })
  } finally {
    await shutdown()
    await rm(work, { recursive: true, force: true })
  }
}

async function chromiumVersion(executablePath: string): Promise<string> {
  const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox'] })
  const v = browser.version()
  await browser.close()
  return v
}

async function report(p: {
  model: { modelName: string; constraintCount: number }
  browser: { all: PageResult[]; '1': PageResult[] }
  node: Sample[]
  loadAtStart: number[]
  chromiumVersion: string
}): Promise<void> {
  const date = new Date().toISOString().slice(0, 10)
  const warm = <T>(v: T[]) => v.slice(1)
  const row = (name: string, s: Sample[]) =>
    `| ${name} | ${s[0].proveMs.toFixed(0)} | ${median(warm(s).map((x) => x.proveMs)).toFixed(0)} | ${median(warm(s).map((x) => x.witnessMs)).toFixed(0)} | ${median(warm(s).map((x) => x.totalMs)).toFixed(0)} |`
  const b = p.browser.all[0]
  const machine = machineRecord(p.loadAtStart)
  const nodeMs = median(warm(p.node).map((x) => x.proveMs))
  const ratio = (s: Sample[]) => (median(warm(s).map((x) => x.proveMs)) / nodeMs).toFixed(2)
  const md = `# In-browser proving: ${p.model.modelName} (${p.model.constraintCount.toLocaleString('en')} constraints), ${date}

\`node --import tsx bench/browser.ts --runs=${p.node.length}\` (veriml ${VERIML_VERSION}). Same machine, same run,
same input (held-out digit ${DIGIT} of web/digits.json), hashed input, dev setup. Browser: headless Chromium
${p.chromiumVersion} (Debian's package) driven by playwright-core; the page's Prove button, the proof made in its Web
Worker (snarkjs ${packageVersion('snarkjs')} browser build). Node ${machine.node}: \`proveModel\` in the bench's process,
each Node proof right after a browser one (interleaved: the machine is shared). The first proof of each side loads the curve's threads and the witness generator; medians are over the ${p.node.length - 1} proofs after it.

| where | first prove (ms) | median prove (ms) | median witness (ms) | median click → verified / proveModel (ms) |
|---|---:|---:|---:|---:|
${row(`Chromium, snarkjs with ${b.threads} threads (\`?threads=all\`)`, p.browser.all)}
${row('Chromium, one thread (`?threads=1`)', p.browser['1'])}
${row('Node (snarkjs threads)', p.node)}

Browser / Node, median prove: **${ratio(p.browser.all)}×** with snarkjs's threads, **${ratio(p.browser['1'])}×** on one thread.

Threads in the browser: \`navigator.hardwareConcurrency\` = ${b.hardwareConcurrency}. With its threads, snarkjs's curve ran
${b.threads} ffjavascript Web Workers started from the proving Worker; the page's default on 2 cores or fewer is one
thread (\`?threads=all\` or \`?threads=1\` in the URL choose).
Machine: ${machine.cpus} × ${machine.cpu}, load average ${machine.loadAverage1m.start.toFixed(1)} at the start, ${machine.loadAverage1m.end.toFixed(1)} at the end
(other jobs share it: 2 cores, load 2 = saturated).

Browser click → verified includes the page's own verification (snarkjs in the page) and the messages to the Worker.
`
  const out = join(ROOT, 'bench', 'results', `browser-${date}`)
  await writeFile(`${out}.md`, md)
  await writeJsonAtomic(`${out}.json`, {
    date,
    machine,
    chromium: p.chromiumVersion,
    browser: Object.fromEntries(Object.entries(p.browser).map(([k, v]) => [k, v.map(({ proof: _, ...r }) => r)])),
    node: p.node,
  })
  console.log(md)
}

await main()
