/**
 * What the prover service's tests share: tiny and MNIST builds (compile + dev setup, seconds),
 * a real redis-server on a free loopback port, long-running CLI processes, and HTTP calls.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { fixturePath } from '../../models/make-fixtures.js'
import { compileModel } from '../../src/prove/compile.js'
import { setupModel } from '../../src/prove/setup.js'
import type { JobView } from '../../src/serve/job.js'
import { BIN, ROOT } from '../helpers/cli.js'

export const TINY_INPUT = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }

export async function buildTiny(tmp: string): Promise<string> {
  const dir = join(tmp, 'tiny')
  await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir })
  await setupModel({ model: dir, dev: true })
  return dir
}

/** The bundled MNIST MLP as bench/mnist.ts builds it: a ~1 s prove, long enough to kill a worker mid-proof. */
export async function buildMnist(tmp: string): Promise<string> {
  const dir = join(tmp, 'mnist')
  await compileModel({
    onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
    outDir: dir,
    calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
    visibility: { input: 'hashed', output: 'public' },
  })
  await setupModel({ model: dir, dev: true })
  return dir
}

export const mnistInput = async (): Promise<unknown> =>
  JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8'))

export const tmp = (prefix: string) => mkdtemp(join(tmpdir(), `veriml-serve-${prefix}-`))

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface RedisServer {
  url: string
  stop(): Promise<void>
}

/** redis-server on a free loopback port, persisting to an append-only file in `dir`. */
export async function startRedis(bin: string, dir: string): Promise<RedisServer> {
  const port = await freePort()
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  await waitForLine(child, /Ready to accept connections/, 20_000)
  return { url: `redis://127.0.0.1:${port}`, stop: async () => void (await stop(child)) }
}

export interface CliProcess {
  child: ChildProcess
  /** The line it printed when ready. */
  line: string
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** `node bin/veriml.mjs ARGS…`, running until stopped; resolves once it printed its one line. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<CliProcess> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const line = await waitForLine(child, /^veriml (serve|worker): /m, 60_000)
  return { child, line, stop: (signal) => stop(child, signal) }
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in ${timeoutMs} ms:\n${out}${err}`)), timeoutMs)
    child.stderr?.on('data', (d) => {
      err += d
    })
    child.stdout?.on('data', (d) => {
      out += d
      const m = out.split('\n').find((l) => pattern.test(l))
      if (m !== undefined) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ${pattern}:\n${out}${err}`))
    })
  })
}

/** Stops a child (SIGTERM unless told) and returns its exit code (null when killed by a signal). */
function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.kill(signal)
  })
}

export async function post(
  url: string,
  model: string,
  body: unknown,
  headers: Record<string, string> = {},
  query = '',
): Promise<{ status: number; headers: Headers; json: JobView & { error?: { name: string; message: string } } }> {
  const r = await fetch(`${url}/v1/models/${model}/proofs${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: r.status, headers: r.headers, json: (await r.json()) as never }
}

export async function getJob(url: string, id: string, headers: Record<string, string> = {}): Promise<JobView> {
  const r = await fetch(`${url}/v1/jobs/${id}`, { headers })
  if (r.status !== 200) throw new Error(`GET /v1/jobs/${id}: ${r.status} ${await r.text()}`)
  return (await r.json()) as JobView
}

/** Polls the job until `until` holds (default: done or failed). */
export async function waitJob(
  url: string,
  id: string,
  {
    until = (v: JobView) => v.status.state === 'done' || v.status.state === 'failed',
    timeoutMs = 60_000,
    pollMs = 50,
    headers = {} as Record<string, string>,
  } = {},
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await getJob(url, id, headers)
    if (until(v)) return v
    if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(v.status)} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** snarkjs' own verifier with the build's verification key. */
export async function verifiesWithSnarkjs(buildDir: string, view: JobView): Promise<boolean> {
  if (view.status.state !== 'done') throw new Error(`job not done: ${JSON.stringify(view.status)}`)
  const vkey = JSON.parse(await readFile(join(buildDir, 'verification_key.json'), 'utf8'))
  return snarkjs.groth16.verify(vkey, view.status.result.public, view.status.result.proof as never)
}
