/**
 * The one interface both queue backends implement: BullMQ on Redis (redis-queue.ts) and the
 * embedded in-process queue (memory-queue.ts), which run the same worker function
 * (processJob). The HTTP API only talks to this.
 */
import { WitnessMismatchError } from '../prove/prove.js'
import { IrInputError } from '../ir/errors.js'
import { BaseError } from '../errors.js'
import { redact } from '../util/secrets.js'
import { JobTimeoutError, QueueFullError, UnknownModelError } from './errors.js'
import type { JobData, JobView } from './job.js'

export interface QueueSettings {
  /** Bound on waiting + proving jobs: one more is refused with QueueFullError (HTTP 429). */
  maxQueued: number
  /** Seconds a finished job (done or failed) and its result are kept. */
  ttlSeconds: number
  /** Tries per job: a transient failure or a dead worker is retried up to this many times in all. */
  attempts: number
  /** First retry's delay in ms, doubled on each further retry. */
  backoffMs: number
  /** Per-job timeout in seconds (0: none). */
  timeoutSeconds: number
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  maxQueued: 100,
  ttlSeconds: 3600,
  attempts: 3,
  backoffMs: 1000,
  timeoutSeconds: 600,
}

/** A job that ended, as the API node sees it (for the metrics). */
export interface FinishedEvent {
  id: string
  ok: boolean
  proveMs?: number
}

export interface ProofQueue {
  readonly kind: 'embedded' | 'redis'
  /**
   * Queues the job unless one of that id exists (then returns it, `created: false`; a failed
   * one is queued afresh). QueueFullError when the bound is reached.
   */
  submit(id: string, data: JobData): Promise<{ view: JobView; created: boolean }>
  get(id: string): Promise<JobView | undefined>
  depth(): Promise<{ waiting: number; active: number }>
  onFinished(listener: (e: FinishedEvent) => void): void
  /** Stops taking jobs; the embedded queue lets running proofs finish. */
  close(): Promise<void>
}

/** Throws QueueFullError when `waiting + active` has reached `max`. */
export function checkBound(depth: { waiting: number; active: number }, max: number, retryAfterSeconds: number): void {
  const queued = depth.waiting + depth.active
  if (queued >= max) throw new QueueFullError({ queued, max, retryAfterSeconds })
}

/**
 * A failure that another try cannot mend: a bad input, a model not served, a timeout, a
 * witness mismatch. Anything else (a worker that died, a file or memory error) is retried.
 */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof IrInputError ||
    error instanceof UnknownModelError ||
    error instanceof JobTimeoutError ||
    error instanceof WitnessMismatchError
  )
}

/** The error as a client sees it: one message with its advice, redacted, never a stack trace. */
export function errorText(error: unknown): string {
  if (error instanceof BaseError) return redact([error.shortMessage, ...error.details].join(' '))
  return redact(String((error as Error)?.message ?? error).split('\n')[0])
}
