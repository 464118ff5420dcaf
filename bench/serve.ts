/**
 * The prover service (issue 18) under a bounded load, on the bundled MNIST MLP:
 *   - bare: proveModel in this process, one proof after another (the baseline);
 *   - embedded: `veriml serve` without Redis (API and worker in one process, concurrency 1);
 *   - redis, 1 worker and 2 worker processes (`veriml worker`, concurrency 1 each) behind an
 *     API node (`veriml serve --redis`), on one redis-server.
 * Every service is a process of its own: this one only generates the load (and runs the bare rows).
 * The load: REQUESTS distinct inputs (distinct job ids: no deduplication), CLIENTS clients
 * each submitting one and polling it to the end before the next; the modes take turns in
 * ROUNDS rounds, so the load of other jobs on this shared machine falls on all of them. Throughput in proofs per
 * minute over the whole run, latency from submission to `done` as seen by the client.
 * Writes bench/results/serve-<date>.md and prints its table.
 *
 *   npm run build && npx tsx bench/serve.ts        (needs redis-server on PATH)
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileModel } from '../src/prove/compile.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { processJob } from '../src/serve/job.js'
import { loadModels } from '../src/serve/models.js'
import { shutdown } from '../src/shutdown.js'
import { machineRecord } from './machine.js'

const ROOT = join(import.meta.dirname, '..')
const BIN = join(ROOT, 'bin', 'veriml.mjs')
const REQUESTS = Number(process.env.REQUESTS ?? 40)
const CLIENTS = Number(process.env.CLIENTS ?? 4)
const WARMUP = 2
/** Rounds the requests are split into, the modes taking turns (REQUESTS a multiple of ROUNDS). */
const ROUNDS = Number(process.env.ROUNDS ?? 4)
const loadAtStart = loadavg()

const tmp = await mkdtemp(join(tmpdir(), 'veriml-bench-serve-'))
const dir = join(tmp, 'mnist')
const compiled = await compileModel({
  onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
  outDir: dir,
  calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
  visibility: { input: 'hashed', output: 'public' },
})
const { model } = await setupModel({ model: compiled.model, dev: true })
const base = JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8')) as {
  input_data: number[][]
}

/** Input number k: the bundled digit with 8 pixels set from k, inside the calibrated range (a new job id each). */
const spec = model.ir.inputs[0]
const [lo, hi] = [spec.lo, spec.hi].map((q) => (Number(q) - spec.quant.zeroPoint) * spec.quant.scale)
let next = 0
function freshInput(): unknown {
  const k = ++next
  const x = [...base.input_data[0]]
  for (let j = 0; j < 8; j++) x[(k * 97 + j * 101) % x.length] = lo + ((k * 31 + j * 17) % 97) * ((hi - lo) / 97)
  return { input_data: [x] }
}

interface Row {
  mode: string
  wallS: number
  perMinute: number
  latencies: number[]
}

/** A mode: its warm-up, then `run(n)` for one round of n requests, and what it stops at the end. */
interface Mode {
  name: string
  run(n: number): Promise<number[]>
  stop(): Promise<void>
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]
}

/** A baseline: `prove` called one proof after another in this process; the latencies. */
function sequential(name: string, prove: () => Promise<unknown>): Mode {
  return {
    name,
    async run(n) {
      const latencies: number[] = []
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        await prove()
        latencies.push(performance.now() - t)
      }
      return latencies
    },
    stop: async () => {},
  }
}

/** As a library user proves: proof files written, the build's artifacts rehashed on each call. */
const bareFiles = () =>
  sequential('bare proveModel (files)', () => proveModel({ model, input: freshInput(), outDir: join(tmp, 'proof') }))

/** The worker function itself with no queue and no HTTP: what the service's overhead is measured against. */
async function bareWorker(): Promise<Mode> {
  const pool = await loadModels([dir], { prover: true })
  const modelId = pool.models[0].id
  return sequential('bare worker function (processJob)', () => processJob(pool, { modelId, input: freshInput() }))
}

/** One request: submit, poll until done; its latency in ms. */
async function request(url: string): Promise<number> {
  const t = performance.now()
  const r = await fetch(`${url}/v1/models/mnist/proofs`, { method: 'POST', body: JSON.stringify(freshInput()) })
  const { id } = (await r.json()) as { id: string }
  if (r.status !== 202) throw new Error(`submit: ${r.status}`)
  for (;;) {
    // A long poll: answered when the job ends (or after 30 s, then asked again).
    const v = (await (await fetch(`${url}/v1/jobs/${id}?wait=30`)).json()) as {
      status: { state: string; error?: string }
    }
    if (v.status.state === 'done') return performance.now() - t
    if (v.status.state === 'failed') throw new Error(`job failed: ${v.status.error}`)
  }
}

/** n requests from CLIENTS clients against a service. */
function overHttp(name: string, url: string, stop: () => Promise<void>): Mode {
  return {
    name,
    async run(n) {
      const latencies: number[] = []
      let left = n
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (left > 0) {
            left--
            latencies.push(await request(url))
          }
        }),
      )
      return latencies
    },
    stop,
  }
}

/** `veriml serve DIR` (API and worker in one process), as a user runs it. */
async function embedded(): Promise<Mode> {
  const { child, url } = await serveProcess([dir])
  return overHttp('embedded service (1 process)', url, () => stop(child))
}

/** `veriml serve ARGS…` in a process of its own (the load generator stays alone in this one). */
async function serveProcess(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = await start(process.execPath, [BIN, 'serve', ...args, '--port', '0'], /veriml serve: http:\S+/)
  return { child, url: /veriml serve: (http:\S+)/.exec(output.get(child) ?? '')![1] }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const output = new Map<ChildProcess, string>()

/** Spawns and waits until the child prints a line matching `ready`. */
function start(cmd: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (d) => {
      out += d
      output.set(child, out)
      if (ready.test(out)) resolve(child)
    })
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}: ${out}`)))
  })
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })

/** An API node in this process, `workers` worker processes, one redis-server of their own. */
async function redisWorkers(workers: number): Promise<Mode> {
  const redisDir = join(tmp, `redis-${workers}`)
  await mkdir(redisDir, { recursive: true })
  const port = await freePort()
  const redis = await start(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', redisDir],
    /Ready to accept connections/,
  )
  const url = `redis://127.0.0.1:${port}`
  const api = await serveProcess([dir, '--redis', url])
  const children = await Promise.all(
    Array.from({ length: workers }, () =>
      start(process.execPath, [BIN, 'worker', dir, '--redis', url], /veriml worker:/),
    ),
  )
  return overHttp(`redis, ${workers} worker process${workers === 1 ? '' : 'es'}`, api.url, async () => {
    for (const c of children) await stop(c)
    await stop(api.child)
    await stop(redis)
  })
}

if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: workers run dist/')
// Every mode is set up first (idle workers cost memory only), then run in interleaved rounds:
// the machine's load (other jobs share it) drifts over minutes, and each mode gets its share.
const modes = [bareFiles(), await bareWorker(), await embedded(), await redisWorkers(1), await redisWorkers(2)]
for (const m of modes) await m.run(WARMUP)
const results = modes.map(() => ({ wallMs: 0, latencies: [] as number[] }))
for (let round = 0; round < ROUNDS; round++)
  for (const [i, m] of modes.entries()) {
    const t = performance.now()
    results[i].latencies.push(...(await m.run(REQUESTS / ROUNDS)))
    results[i].wallMs += performance.now() - t
  }
for (const m of modes) await m.stop()
await shutdown()
const rows: Row[] = modes.map((m, i) => ({
  mode: m.name,
  wallS: results[i].wallMs / 1000,
  perMinute: (results[i].latencies.length / results[i].wallMs) * 60_000,
  latencies: results[i].latencies,
}))

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const [, bareRow, , one, two] = rows
const overhead = (r: Row) => `${((bareRow.perMinute / r.perMinute - 1) * 100).toFixed(1)} %`
const table = [
  '| mode | proofs/min | p50 | p90 | p99 | overhead vs bare worker |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.mode} | ${r.perMinute.toFixed(1)} | ${fmt(quantile(r.latencies, 0.5))} | ${fmt(quantile(r.latencies, 0.9))} | ${fmt(quantile(r.latencies, 0.99))} | ${r === bareRow ? '—' : overhead(r)} |`,
  ),
].join('\n')
const ratio = two.perMinute / one.perMinute
const machine = machineRecord(loadAtStart)
const report = `# Prover service under load (${new Date().toISOString().slice(0, 10)})

MNIST MLP (${model.manifest.constraintCount} constraints, dev setup), ${REQUESTS} requests of distinct inputs,
${CLIENTS} concurrent clients (each submits, then long-polls \`GET /v1/jobs/ID?wait=30\` until done, then submits the next),
${WARMUP} warm-up requests per mode not counted; the modes take turns in ${ROUNDS} rounds of ${REQUESTS / ROUNDS} requests
(the machine is shared: its load drifts, and each mode sees its share of it). Bare rows: one proof after another in one process, no HTTP, no queue;
overhead = bare worker function's throughput / the mode's − 1.
Latency: submission to \`done\` seen by the client (so it includes queueing behind the other clients).

${table}

- 2 worker processes / 1: ${ratio.toFixed(2)}×.
- N machines: each machine adds its own workers' throughput (workers share nothing but Redis, which
  carries a few KB per job), so N machines like this one give about N × ${one.perMinute.toFixed(0)} proofs/min
  at one worker each (N × ${two.perMinute.toFixed(0)} at two), until Redis or the API node saturate (neither
  is near it here: one job is one add, a few polls and one result of ~3 KB).

Machine: ${machine.cpus} × ${machine.cpu}, node ${machine.node}, load average ${machine.loadAverage1m.start.toFixed(2)} at start,
${machine.loadAverage1m.end.toFixed(2)} at end (other jobs share this machine).
`
const out = join(ROOT, 'bench', 'results', `serve-${new Date().toISOString().slice(0, 10)}.md`)
await writeFile(out, report)
console.log(report)
