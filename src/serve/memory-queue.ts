/**
 * The embedded queue: no Redis, workers in this process running the same processJob as a
 * BullMQ worker, with the same bound, timeout, retries with backoff and result TTL. Nothing
 * survives a restart: that is what `--redis` is for.
 */
import { type JobData, type JobProgress, type JobResult, type JobStatus, type JobView, processJob } from './job.js'
import type { ModelPool } from './models.js'
import { type FinishedEvent, type ProofQueue, type QueueSettings, checkBound, errorText, isPermanent } from './queue.js'

interface Entry {
  id: string
  data: JobData
  status: JobStatus
  attempt: number
  timer?: NodeJS.Timeout
}

export interface MemoryQueueOptions extends QueueSettings {
  pool: ModelPool
  /** Proofs run at once. */
  concurrency: number
  /** Seconds a client should wait when the queue is full. */
  retryAfter?: () => number
}

export function createMemoryQueue(o: MemoryQueueOptions): ProofQueue {
  const jobs = new Map<string, Entry>()
  const waiting: Entry[] = []
  const running = new Set<Promise<void>>()
  const listeners: ((e: FinishedEvent) => void)[] = []
  let delayed = 0
  let closed = false

  const view = (e: Entry): JobView => ({ id: e.id, modelId: e.data.modelId, status: e.status })
  const finish = (e: Entry, status: JobStatus, event: FinishedEvent) => {
    e.status = status
    // The result is kept for the TTL, then forgotten (the next submission proves again).
    e.timer = setTimeout(() => jobs.delete(e.id), o.ttlSeconds * 1000)
    e.timer.unref()
    for (const l of listeners) l(event)
  }

  async function run(e: Entry): Promise<void> {
    e.attempt++
    const progress = (p: JobProgress) => {
      e.status = { state: 'proving', progress: { ...p, attempt: e.attempt } }
    }
    progress({ stage: 'loading' })
    let result: JobResult
    try {
      result = await processJob(o.pool, e.data, { onProgress: progress, timeoutSeconds: o.timeoutSeconds })
    } catch (error) {
      if (!isPermanent(error) && e.attempt < o.attempts && !closed) {
        // Back to the queue after an exponential backoff, as BullMQ's `backoff: exponential`.
        e.status = { state: 'queued' }
        delayed++
        e.timer = setTimeout(
          () => {
            delayed--
            waiting.push(e)
            pump()
          },
          o.backoffMs * 2 ** (e.attempt - 1),
        )
        e.timer.unref()
        return
      }
      finish(e, { state: 'failed', error: errorText(error) }, { id: e.id, ok: false })
      return
    }
    finish(e, { state: 'done', result }, { id: e.id, ok: true, proveMs: result.proveMs })
  }

  function pump(): void {
    while (!closed && running.size < o.concurrency && waiting.length > 0) {
      const e = waiting.shift()!
      const p: Promise<void> = run(e).finally(() => {
        running.delete(p)
        pump()
      })
      running.add(p)
    }
  }

  const depth = () => ({ waiting: waiting.length + delayed, active: running.size })

  return {
    kind: 'embedded',
    async submit(id, data) {
      const existing = jobs.get(id)
      if (existing && existing.status.state !== 'failed') return { view: view(existing), created: false }
      checkBound(depth(), o.maxQueued, o.retryAfter?.() ?? 1)
      clearTimeout(existing?.timer)
      const e: Entry = { id, data, status: { state: 'queued' }, attempt: 0 }
      jobs.set(id, e)
      waiting.push(e)
      pump()
      return { view: view(e), created: true }
    },
    async get(id) {
      const e = jobs.get(id)
      return e && view(e)
    },
    async depth() {
      return depth()
    },
    onFinished(listener) {
      listeners.push(listener)
    },
    async close() {
      closed = true
      for (const e of jobs.values()) clearTimeout(e.timer)
      await Promise.allSettled([...running])
    },
  }
}
