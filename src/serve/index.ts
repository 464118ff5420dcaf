/** The prover service (issue 18): an HTTP API with a proof queue, embedded or on Redis with BullMQ. */
export {
  type ProverService,
  type ProverServiceOptions,
  type WorkerOptions,
  createProverService,
  startWorker,
} from './service.js'
export type { WorkerHandle } from './redis-queue.js'
export type { JobData, JobResult, JobStatus, JobView, JobProgress } from './job.js'
export { jobId, prepareJob, processJob } from './job.js'
export { type ModelPool, type ServedModel, loadModels } from './models.js'
export { type ProofQueue, type QueueSettings, DEFAULT_QUEUE_SETTINGS } from './queue.js'
export { createMemoryQueue } from './memory-queue.js'
export { QUEUE_NAME, createRedisQueue, startRedisWorker } from './redis-queue.js'
export { apiKeyCheck, parseApiKeys, readApiKeys } from './auth.js'
export { JobTimeoutError, QueueFullError, RequestError, UnknownModelError } from './errors.js'
