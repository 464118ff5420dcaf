/**
 * The queue on Redis with BullMQ: the API node adds jobs (createRedisQueue), any number of
 * worker processes on any machines prove them (startRedisWorker). What BullMQ gives and this
 * relies on: a job id given at add time is unique (a second add of it is a no-op: idempotent
 * submission), `attempts` + exponential `backoff` (retries), locks renewed while a worker
 * proves and the stalled-job check (a worker killed mid-proof loses its lock after
 * `lockDuration`, and another worker moves the job back to wait and proves it), and
 * removeOnComplete/removeOnFail ages (the result TTL). Jobs live in Redis: an API node
 * restarted loses none (and with Redis persistence, neither does a Redis restart).
 */
import { type Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { type JobData, type JobProgress, type JobResult, type JobStatus, type JobView, processJob } from './job.js'
import type { ModelPool } from './models.js'
import { type FinishedEvent, type ProofQueue, type QueueSettings, checkBound, errorText, isPermanent } from './queue.js'

/** The BullMQ queue's name: API nodes and workers meet on it. */
export const QUEUE_NAME = 'veriml-proofs'

/** BullMQ needs `maxRetriesPerRequest: null` on blocking connections (workers, events). */
const connect = (url: string) => new Redis(url, { maxRetriesPerRequest: null })

export interface RedisQueueOptions extends QueueSettings {
  url: string
  retryAfter?: () => number
}

type ProofJob = Job<JobData, JobResult>

/** The API node's side: adds jobs and reads their state; never proves. */
export function createRedisQueue(o: RedisQueueOptions): ProofQueue {
  // BullMQ leaves connections it was given open on close(): they are closed here after it.
  const connections = [connect(o.url), connect(o.url)]
  const queue = new Queue<JobData, JobResult>(QUEUE_NAME, { connection: connections[0] })
  const events = new QueueEvents(QUEUE_NAME, { connection: connections[1] })
  const listeners: ((e: FinishedEvent) => void)[] = []
  const emit = (e: FinishedEvent) => listeners.forEach((l) => l(e))
  events.on('completed', ({ jobId, returnvalue }) => {
    const r = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as Partial<JobResult> | null
    emit({ id: jobId, ok: true, proveMs: r?.proveMs })
  })
  events.on('failed', ({ jobId }) => emit({ id: jobId, ok: false }))
  // Errors of a dropped connection are retried by ioredis; an unhandled 'error' would end the process.
  queue.on('error', () => {})
  events.on('error', () => {})

  const counts = async () => {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')
    return { waiting: c.waiting + c.delayed + c.prioritized, active: c.active }
  }
  const getJob = async (id: string) => (await queue.getJob(id)) as ProofJob | undefined

  return {
    kind: 'redis',
    async submit(id, data) {
      const existing = await getJob(id)
      if (existing) {
        const view = await jobView(existing, o.ttlSeconds)
        if (view && view.status.state !== 'failed') return { view, created: false }
        // A failed or expired job is proven afresh: BullMQ would take an add of its id for a duplicate.
        await existing.remove().catch(() => {})
      }
      checkBound(await counts(), o.maxQueued, o.retryAfter?.() ?? 1)
      const job = await queue.add('prove', data, {
        jobId: id,
        attempts: o.attempts,
        backoff: { type: 'exponential', delay: o.backoffMs },
        removeOnComplete: { age: o.ttlSeconds },
        removeOnFail: { age: o.ttlSeconds },
      })
      return {
        view: { id, modelId: data.modelId, status: (await jobView(job, o.ttlSeconds))?.status ?? { state: 'queued' } },
        created: true,
      }
    },
    async get(id) {
      const job = await getJob(id)
      return job && jobView(job, o.ttlSeconds)
    },
    depth: counts,
    onFinished(listener) {
      listeners.push(listener)
    },
    async close() {
      await events.close()
      await queue.close()
      for (const c of connections) c.disconnect()
    },
  }
}

/**
 * The client's view of a BullMQ job; undefined once it is gone, or finished more than the TTL
 * ago (BullMQ removes aged jobs only when another job finishes: the TTL holds here regardless).
 */
async function jobView(job: ProofJob, ttlSeconds: number): Promise<JobView | undefined> {
  if (job.finishedOn !== undefined && Date.now() - job.finishedOn > ttlSeconds * 1000) return undefined
  const state = await job.getState()
  const status = ((): JobStatus | undefined => {
    switch (state) {
      case 'active':
        return { state: 'proving', progress: { ...progressOf(job), attempt: job.attemptsStarted } }
      case 'completed':
        return { state: 'done', result: job.returnvalue }
      case 'failed':
        return { state: 'failed', error: job.failedReason }
      case 'unknown':
        return undefined
      default:
        // waiting, delayed (a retry's backoff), prioritized, waiting-children.
        return { state: 'queued' }
    }
  })()
  return status && { id: job.id ?? '', modelId: job.data.modelId, status }
}

const progressOf = (job: ProofJob): JobProgress =>
  typeof job.progress === 'object' && job.progress !== null ? (job.progress as JobProgress) : { stage: 'loading' }

export interface RedisWorkerOptions {
  url: string
  pool: ModelPool
  concurrency: number
  timeoutSeconds: number
  /**
   * BullMQ's lockDuration (ms): a worker that stops renewing its lock (killed, frozen) loses the
   * job this long after its last renewal; stalled jobs are looked for as often. Short: a crash is
   * noticed sooner; too short for a busy event loop: a live worker loses its job.
   */
  lockMs: number
  /** Times a job may be recovered from a dead worker before it fails. */
  maxStalledCount: number
}

export interface WorkerHandle {
  /** Waits for the proofs in flight, then disconnects. */
  close(): Promise<void>
}

/** A worker: takes jobs from Redis and proves them with `processJob`, the embedded queue's code. */
export async function startRedisWorker(o: RedisWorkerOptions): Promise<WorkerHandle> {
  const connection = connect(o.url)
  const worker = new Worker<JobData, JobResult>(
    QUEUE_NAME,
    async (job) => {
      try {
        return await processJob(o.pool, job.data, {
          timeoutSeconds: o.timeoutSeconds,
          onProgress: (p) => void job.updateProgress({ ...p, attempt: job.attemptsStarted }).catch(() => {}),
        })
      } catch (error) {
        // Only the message crosses Redis: a client reads it, so it is the redacted, stackless one.
        if (isPermanent(error)) throw new UnrecoverableError(errorText(error))
        throw new Error(errorText(error))
      }
    },
    {
      connection,
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: o.lockMs,
      maxStalledCount: o.maxStalledCount,
    },
  )
  worker.on('error', () => {})
  await worker.waitUntilReady()
  return {
    async close() {
      await worker.close()
      connection.disconnect()
    },
  }
}
