/**
 * The prover service's two entry points: createProverService (an HTTP API node, with its
 * workers in-process when no Redis is given) and startWorker (a BullMQ worker process).
 */
import { type RequestListener, type Server, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { apiKeyCheck } from './auth.js'
import { DEFAULT_MAX_BODY_BYTES, apiHandler } from './http.js'
import { createMemoryQueue } from './memory-queue.js'
import { createMetrics } from './metrics.js'
import { loadModels } from './models.js'
import { type OnchainOptions, createOnchainSubmitter } from './onchain.js'
import { DEFAULT_QUEUE_SETTINGS, type ProofQueue, type QueueSettings } from './queue.js'
import { type WorkerHandle, createRedisQueue, startRedisWorker } from './redis-queue.js'

export interface ProverServiceOptions {
  /** Compiled, set-up zk build folders. */
  models: readonly string[]
  /** Default 8080; 0 picks a free port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** BullMQ on this Redis (workers are other processes: startWorker); absent: the embedded queue. */
  redisUrl?: string
  /** Embedded mode: proofs at once in this process (default 1). */
  concurrency?: number
  queue?: Partial<QueueSettings>
  /** Accepted API keys; none: the API is open. */
  apiKeys?: readonly string[]
  maxBodyBytes?: number
  /** Enables `?onchain=true`: proofs sent to each model's registry (DIR/deployment.json) through this endpoint. */
  onchain?: OnchainOptions
}

export interface ProverService {
  url: string
  server: Server
  queue: ProofQueue
  /** Stops accepting requests, then closes the queue (the embedded one finishes its proofs). */
  close(): Promise<void>
}

export async function createProverService(o: ProverServiceOptions): Promise<ProverService> {
  const settings = { ...DEFAULT_QUEUE_SETTINGS, ...o.queue }
  const concurrency = o.concurrency ?? 1
  // The API node validates inputs with each model's IR; only the embedded mode proves here.
  const pool = await loadModels(o.models, { prover: o.redisUrl === undefined })
  const metrics = createMetrics()
  // About one proof's time per worker slot: when the queue is full, a slot frees by then.
  const retryAfter = () => Math.min(600, Math.max(1, Math.ceil((metrics.meanProveSeconds() ?? 1) / concurrency)))
  const queue =
    o.redisUrl === undefined
      ? createMemoryQueue({ ...settings, pool, concurrency, retryAfter })
      : createRedisQueue({ ...settings, url: o.redisUrl, retryAfter })
  queue.onFinished((e) => metrics.finished(e.ok, e.proveMs))
  const waitFor = jobWaiters(queue)
  const host = o.host ?? '127.0.0.1'
  let server: Server
  try {
    const handler = apiHandler({
      pool,
      queue,
      metrics,
      authorize: apiKeyCheck(o.apiKeys ?? []),
      maxBodyBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      waitFor,
      onchain: o.onchain && (await createOnchainSubmitter(o.onchain, pool, queue)),
    })
    server = await listen(handler, o.port ?? 8080, host)
  } catch (error) {
    // A bad deployment.json or a port in use: the queue (its Redis connections) is not left open.
    await queue.close()
    throw error
  }
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    server,
    queue,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
      })
      await queue.close()
    },
  }
}

/** Long polls: who waits for which job, woken by the queue's end-of-job events (or their timeout). */
function jobWaiters(queue: ProofQueue): (id: string, ms: number) => Promise<void> {
  const waiters = new Map<string, Set<() => void>>()
  queue.onFinished((e) => {
    for (const wake of waiters.get(e.id) ?? []) wake()
  })
  return (id, ms) =>
    new Promise<void>((resolve) => {
      const set = waiters.get(id) ?? new Set()
      waiters.set(id, set)
      const wake = () => {
        clearTimeout(timer)
        set.delete(wake)
        if (set.size === 0) waiters.delete(id)
        resolve()
      }
      const timer = setTimeout(wake, ms)
      set.add(wake)
    })
}

async function listen(handler: RequestListener, port: number, host: string): Promise<Server> {
  const server = createServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return server
}

export interface WorkerOptions {
  models: readonly string[]
  redisUrl: string
  /** Proofs at once in this process (default 1). */
  concurrency?: number
  /** Per-job timeout in seconds (default 600; 0: none). */
  timeoutSeconds?: number
  /** Lock duration in seconds: how soon a dead worker's job goes to another (default 30). */
  lockSeconds?: number
  /** Times a job may be recovered from a dead worker before it fails (default 2). */
  maxStalledCount?: number
}

/** A worker on Redis: each model loaded once (key in memory, witness generator compiled) before any job is taken. */
export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const pool = await loadModels(o.models, { prover: true })
  return startRedisWorker({
    url: o.redisUrl,
    pool,
    concurrency: o.concurrency ?? 1,
    timeoutSeconds: o.timeoutSeconds ?? DEFAULT_QUEUE_SETTINGS.timeoutSeconds,
    lockMs: (o.lockSeconds ?? 30) * 1000,
    maxStalledCount: o.maxStalledCount ?? 2,
  })
}
