import { BaseError, type ErrorParameters } from '../errors.js'

/** The prover service's own errors: each carries the HTTP status the API answers it with. */

/** No loaded model has this id (nor this build folder name). */
export class UnknownModelError extends BaseError {
  override name = 'UnknownModelError'
  readonly status = 404
  readonly model: string
  constructor(p: ErrorParameters<{ model: string; known: readonly string[] }>) {
    super(`no model "${p.model}" is served here`, {
      details: [`Served: ${p.known.join(', ') || 'none'} (GET /v1/models lists them).`, ...(p.details ?? [])],
      cause: p.cause,
    })
    this.model = p.model
  }
}

/** Back-pressure: the queue holds its bound of waiting and running jobs. */
export class QueueFullError extends BaseError {
  override name = 'QueueFullError'
  readonly status = 429
  readonly queued: number
  readonly retryAfterSeconds: number
  constructor(p: ErrorParameters<{ queued: number; max: number; retryAfterSeconds: number }>) {
    super(`the proof queue is full (${p.queued} jobs waiting or proving, at most ${p.max})`, {
      details: [`Retry after about ${p.retryAfterSeconds} s.`, ...(p.details ?? [])],
      cause: p.cause,
    })
    this.queued = p.queued
    this.retryAfterSeconds = p.retryAfterSeconds
  }
}

/** A job ran past the per-job timeout (--job-timeout). Not retried: the same input would take as long again. */
export class JobTimeoutError extends BaseError {
  override name = 'JobTimeoutError'
  readonly seconds: number
  constructor(p: ErrorParameters<{ seconds: number }>) {
    super(`proving took longer than the job timeout of ${p.seconds} s`, {
      details: ['Raise --job-timeout, or serve a smaller model.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.seconds = p.seconds
  }
}

/** A request the API refuses as sent: a body too large, not JSON, a wrong method or path, a missing key. */
export class RequestError extends BaseError {
  override name = 'RequestError'
  readonly status: number
  readonly problem: string
  readonly headers: Record<string, string>
  constructor(p: ErrorParameters<{ status: number; problem: string; headers?: Record<string, string> }>) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.status = p.status
    this.problem = p.problem
    this.headers = p.headers ?? {}
  }
}
