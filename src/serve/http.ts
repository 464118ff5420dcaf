/**
 * The HTTP API on node:http (five routes and a JSON body need no framework):
 *   POST /v1/models/:id/proofs[?onchain=true]   body: the input JSON, as `veriml prove --input`
 *                                reads it → 202 {id, status} (200 when the job already existed)
 *   GET  /v1/jobs/:id[?wait=S]   → queued | proving {progress} | done {result} | failed {error}
 *                                (wait: answered when the job ends, or after S seconds)
 *   GET  /v1/models, GET /health, GET /metrics (Prometheus text)
 * The body is the input itself (EZKL `{"input_data": …}` or named form), so `curl -d
 * @input.json` works; it is not wrapped, since a model input may be called anything.
 * Every error answers JSON `{error: {name, message, details}}`, redacted, never a stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BaseError } from '../errors.js'
import { IrInputError } from '../ir/errors.js'
import { redact } from '../util/secrets.js'
import { QueueFullError, RequestError, UnknownModelError } from './errors.js'
import { type JobView, prepareJob } from './job.js'
import type { ServiceMetrics } from './metrics.js'
import type { ModelPool } from './models.js'
import type { OnchainSubmitter } from './onchain.js'
import type { ProofQueue } from './queue.js'

export interface ApiOptions {
  pool: ModelPool
  queue: ProofQueue
  metrics: ServiceMetrics
  /** Undefined: no keys configured, every request allowed. */
  authorize?: (headers: IncomingMessage['headers']) => boolean
  /** Largest request body accepted (413 beyond). */
  maxBodyBytes: number
  /** Configured with --rpc: `?onchain=true` sends the proof to the model's registry. */
  onchain?: OnchainSubmitter
  /** Resolves when job `id` ends or after `ms` (`GET /v1/jobs/:id?wait=S`: a long poll). */
  waitFor(id: string, ms: number): Promise<void>
}

/** The longest `?wait=` honoured, in seconds. */
export const MAX_WAIT_SECONDS = 60

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024

type Reply = { status: number; body: unknown; headers?: Record<string, string> }

export function apiHandler(o: ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(o, req)
      .catch(errorReply)
      .then((r) => send(res, r))
      // The client went away before its answer: nothing to tell anyone.
      .catch(() => res.destroy())
  }
}

async function route(o: ApiOptions, req: IncomingMessage): Promise<Reply> {
  const url = new URL(req.url ?? '/', 'http://localhost')
  const path = url.pathname.replace(/\/+$/, '') || '/'
  const method = req.method ?? 'GET'
  if (path === '/health') {
    allow(method, 'GET')
    return { status: 200, body: { status: 'ok', queue: o.queue.kind, models: o.pool.models.length } }
  }
  if (o.authorize && !o.authorize(req.headers))
    throw new RequestError({
      status: 401,
      problem: 'missing or unknown API key',
      details: ['Send it as `authorization: Bearer KEY` or `x-api-key: KEY`.'],
      headers: { 'www-authenticate': 'Bearer' },
    })
  if (path === '/metrics') {
    allow(method, 'GET')
    const text = o.metrics.text(await o.queue.depth())
    return { status: 200, body: text, headers: { 'content-type': 'text/plain; version=0.0.4' } }
  }
  if (path === '/v1/models') {
    allow(method, 'GET')
    return { status: 200, body: { models: o.pool.models.map(describeModel) } }
  }
  const submit = /^\/v1\/models\/([^/]+)\/proofs$/.exec(path)
  if (submit) {
    allow(method, 'POST')
    const served = o.pool.get(decodeURIComponent(submit[1]))
    const input = await readJson(req, o.maxBodyBytes)
    const onchain = onchainFlag(url)
    if (onchain && !o.onchain)
      throw new RequestError({
        status: 400,
        problem: 'on-chain submission is not configured on this service',
        details: ['Start it with `veriml serve DIR --rpc URL` (the key from VERIML_PRIVATE_KEY).'],
      })
    const job = prepareJob(served, input)
    const { view, created } = await o.queue.submit(job.id, job.data)
    if (onchain) o.onchain?.request(view)
    return {
      status: created ? 202 : 200,
      body: withOnchain(o, view),
      headers: { location: `/v1/jobs/${view.id}` },
    }
  }
  const job = /^\/v1\/jobs\/([0-9a-f]{64})$/.exec(path)
  if (job) {
    allow(method, 'GET')
    let view = await o.queue.get(job[1])
    const wait = waitSeconds(url)
    // A long poll: one request per job instead of one every few ms (each costs the prover CPU).
    // Woken by the job's end; rechecked each second all the same, in case it ended just before the wait began.
    const deadline = Date.now() + wait * 1000
    while ((view?.status.state === 'queued' || view?.status.state === 'proving') && Date.now() < deadline) {
      await o.waitFor(job[1], Math.min(1000, deadline - Date.now()))
      view = await o.queue.get(job[1])
    }
    if (!view)
      throw new RequestError({
        status: 404,
        problem: `no job ${job[1]}`,
        details: ['Finished jobs are kept for the TTL (--ttl) only: submit the input again.'],
      })
    return { status: 200, body: withOnchain(o, view) }
  }
  throw new RequestError({ status: 404, problem: `no route ${method} ${path}` })
}

/** `?wait=S`: hold the answer until the job ends, at most S seconds (MAX_WAIT_SECONDS). */
function waitSeconds(url: URL): number {
  const v = url.searchParams.get('wait')
  if (v === null) return 0
  const s = Number(v)
  if (v.trim() === '' || !Number.isFinite(s) || s < 0)
    throw new RequestError({ status: 400, problem: `wait must be a number of seconds; got ${JSON.stringify(v)}` })
  return Math.min(s, MAX_WAIT_SECONDS)
}

/** `?onchain=true` (or 1); the body stays the input file as is. */
function onchainFlag(url: URL): boolean {
  const v = url.searchParams.get('onchain')
  if (v === null || v === 'false' || v === '0') return false
  if (v === '' || v === 'true' || v === '1') return true
  throw new RequestError({ status: 400, problem: `onchain must be true or false; got ${JSON.stringify(v)}` })
}

const withOnchain = (o: ApiOptions, view: JobView) => {
  const onchain = o.onchain?.status(view.id)
  return onchain ? { ...view, onchain } : view
}

const allow = (method: string, allowed: string) => {
  if (method !== allowed)
    throw new RequestError({ status: 405, problem: `${method} is not allowed here`, headers: { allow: allowed } })
}

function describeModel(m: ModelPool['models'][number]) {
  const { ir, manifest } = m.model
  return {
    id: m.id,
    name: m.name,
    inputs: ir.inputs.map((i) => ({ name: i.name, shape: i.shape })),
    outputs: ir.outputs.map((o) => o.name),
    constraints: manifest.constraintCount,
    insecureSetup: manifest.setup?.insecure ?? null,
  }
}

/** The body as JSON, refused past `limit` bytes (413) without reading the rest, or when not JSON (400). */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () =>
    new RequestError({
      status: 413,
      problem: `request body larger than ${limit} bytes`,
      headers: { connection: 'close' },
    })
  if (Number(req.headers['content-length'] ?? 0) > limit) throw tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw tooLarge()
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new RequestError({
      status: 400,
      problem: 'request body is not valid JSON',
      details: ['Send the input as `veriml prove --input` reads it: {"input_data": [[…]]} or {"NAME": […]}.'],
    })
  }
}

function errorReply(error: unknown): Reply {
  const status =
    error instanceof RequestError || error instanceof UnknownModelError || error instanceof QueueFullError
      ? error.status
      : error instanceof IrInputError
        ? 400
        : 500
  const headers =
    error instanceof RequestError
      ? error.headers
      : error instanceof QueueFullError
        ? { 'retry-after': String(error.retryAfterSeconds) }
        : undefined
  const body =
    error instanceof BaseError
      ? { name: error.name, message: redact(error.shortMessage), details: error.details.map(redact) }
      : // Not ours: its message may be anything; the client gets no internals.
        { name: 'InternalError', message: 'internal error', details: [] }
  if (status === 500 && !(error instanceof BaseError)) console.error(redact(String((error as Error)?.stack ?? error)))
  return { status, body: { error: body }, headers }
}

function send(res: ServerResponse, r: Reply): void {
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body)
  res.writeHead(r.status, {
    'content-type': 'application/json',
    ...r.headers,
    'content-length': String(Buffer.byteLength(text)),
  })
  res.end(text)
}
