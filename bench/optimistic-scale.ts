/**
 * The optimistic path past the zk limit: per model, parameters, `compile --target optimistic`
 * time, claim time (run + trace commitment), peak RSS, claim gas, the largest dispute
 * transaction (gas, calldata, kind) and the whole dispute (gas, rounds) of a cheater lying at
 * the model's widest row, played to the end on an embedded anvil by the honest agents.
 * Each model runs in its own process, so its peak RSS is its own. Models are generated into a
 * cache folder (models/scale-models.ts), never committed.
 *
 *   node --import tsx bench/optimistic-scale.ts [--models mnist-mlp,cnn-3x128x128-c16,...]
 *        [--cache DIR] [--results DIR] [--no-write]
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { benchModels, defaultCacheDir } from '../models/scale-models.js'
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js'
import { measureModel, type ScaleResult } from './optimistic-scale/measure.js'
import { scaleReport } from './optimistic-scale/report.js'

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string' },
    cache: { type: 'string' },
    results: { type: 'string' },
    'no-write': { type: 'boolean' },
    one: { type: 'string' },
    work: { type: 'string' },
    'json-out': { type: 'string' },
  },
})
const cacheDir = flags.cache ?? defaultCacheDir()
const all = benchModels()
const log = (line: string) => process.stderr.write(`${line}\n`)

if (flags.one) {
  // Child: one model, its result as JSON in --json-out.
  const m = all.find((x) => x.name === flags.one)!
  const result = await measureModel(m, flags.work!, cacheDir, log)
  await writeJsonAtomic(flags['json-out']!, result)
  process.exit(0)
}

/** Runs a child node process, its stderr passed through; returns its exit code and the last lines of its stderr. */
function runChild(args: string[]): Promise<{ code: number; tail: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'pipe'] })
    let tail = ''
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d)
      tail = (tail + d.toString()).slice(-4000)
    })
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? 1,
        tail: `${signal ? `killed by ${signal}: ` : ''}${tail.trim().split('\n').slice(-4).join(' | ')}`,
      }),
    )
  })
}

const picked = flags.models
  ? flags.models.split(',').map((n) => {
      const m = all.find((x) => x.name === n.trim())
      if (!m) throw new Error(`unknown model "${n}": one of ${all.map((x) => x.name).join(', ')}`)
      return m
    })
  : all
const work = await mkdtemp(join(tmpdir(), 'veriml-op-scale-'))
const results: ScaleResult[] = []
const failures: { name: string; error: string }[] = []
try {
  for (const m of picked) {
    log(`— ${m.name} (${m.parameters.toLocaleString('en')} parameters)`)
    const out = join(work, `${m.name}.json`)
    const { code, tail } = await runChild([
      '--import',
      'tsx',
      import.meta.filename,
      '--one',
      m.name,
      '--work',
      work,
      '--cache',
      cacheDir,
      '--json-out',
      out,
    ])
    if (code === 0) results.push(JSON.parse(await readFile(out, 'utf8')) as ScaleResult)
    else failures.push({ name: m.name, error: tail })
  }
} finally {
  await rm(work, { recursive: true, force: true })
}

const date = new Date().toISOString().slice(0, 10)
const os = await import('node:os')
const meta = {
  date,
  node: process.version,
  cpus: os.cpus().length,
  loadAverage: os.loadavg().map((l) => Number(l.toFixed(1))),
  models: picked.map((m) => m.name),
}
const md = scaleReport(results, failures, meta)
console.log(md)
if (!flags['no-write']) {
  const dir = flags.results ?? join(import.meta.dirname, 'results')
  await writeJsonAtomic(join(dir, `optimistic-scale-${date}.json`), { ...meta, results, failures })
  await writeFileAtomic(join(dir, `optimistic-scale-${date}.md`), md)
  log(`written ${join(dir, `optimistic-scale-${date}.{json,md}`)}`)
}
if (failures.length > 0) process.exitCode = 1
