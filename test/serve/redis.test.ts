import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ProverService, createProverService } from '../../src/serve/service.js'
import { shutdown } from '../../src/shutdown.js'
import { systemBinary } from '../helpers/system.js'
import {
  type CliProcess,
  type RedisServer,
  TINY_INPUT,
  buildMnist,
  buildTiny,
  getJob,
  mnistInput,
  post,
  startCli,
  startRedis,
  tmp,
  verifiesWithSnarkjs,
  waitJob,
} from './helpers.js'

const redisServer = systemBinary('redis-server')

/**
 * The service on a real Redis (BullMQ): an API node in this process, workers as processes
 * (bin/veriml.mjs worker). The tests run in order and share the queue: jobs queued while no
 * worker runs survive an API restart and are proven by the workers started later, one of
 * which is killed mid-proof.
 */
describe.skipIf(!redisServer)('prover service on Redis, worker processes', () => {
  let redis: RedisServer
  let tiny: string
  let mnist: string
  let api: ProverService | undefined
  const workers: CliProcess[] = []
  const tinyJobs: string[] = []
  const input = (k: number) => ({ input_data: [TINY_INPUT.input_data[0].map((v, i) => (i === 0 ? k / 10 : v))] })

  beforeAll(async () => {
    const dir = await tmp('redis')
    ;[tiny, mnist] = [await buildTiny(dir), await buildMnist(dir)]
    redis = await startRedis(redisServer!, dir)
  })
  afterAll(async () => {
    for (const w of workers) await w.stop('SIGKILL')
    await api?.close()
    await redis?.stop()
    await shutdown()
  })

  const startApi = (maxQueued: number, ttlSeconds = 3600) =>
    createProverService({ models: [tiny, mnist], port: 0, redisUrl: redis.url, queue: { maxQueued, ttlSeconds } })
  const startWorker = () => startCli(['worker', tiny, mnist, '--redis', redis.url, '--lock-timeout', '1'])

  it('queues jobs with no worker; a duplicate is the same job; one past the bound is refused with 429 and Retry-After', async () => {
    api = await startApi(3)
    for (const k of [1, 2, 3]) {
      const r = await post(api.url, 'tiny', input(k))
      expect(r).toMatchObject({ status: 202, json: { status: { state: 'queued' } } })
      tinyJobs.push(r.json.id)
    }
    const again = await post(api.url, 'tiny', { input: input(2).input_data[0] })
    expect(again).toMatchObject({ status: 200, json: { id: tinyJobs[1], status: { state: 'queued' } } })
    const full = await post(api.url, 'tiny', input(4))
    expect(full.status).toBe(429)
    expect(full.json.error?.name).toBe('QueueFullError')
    expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await (await fetch(`${api.url}/metrics`)).text()).toMatch(/^veriml_queue_jobs\{state="waiting"\} 3$/m)
    expect(await (await fetch(`${api.url}/health`)).json()).toMatchObject({ queue: 'redis' })
  })

  it('an API node restarted loses no queued job', async () => {
    await api!.close()
    api = await startApi(100)
    for (const id of tinyJobs) expect((await getJob(api.url, id)).status).toEqual({ state: 'queued' })
  })

  it('a worker killed mid-proof: the job is proven by another worker; every queued job completes and verifies', async () => {
    const r = await post(api!.url, 'mnist', await mnistInput())
    expect(r.status).toBe(202)
    const first = await startWorker()
    workers.push(first)
    expect(first.line).toMatch(/^veriml worker: proving 2 models from redis:\/\/127\.0\.0\.1:\d+ \(concurrency 1\)$/)
    // The tiny jobs were queued first; the MNIST prove (~1 s) is the one caught in flight.
    await waitJob(api!.url, r.json.id, { until: (v) => v.status.state !== 'queued', pollMs: 10 })
    expect(await first.stop('SIGKILL')).toBe(null)
    const killedIn = (await getJob(api!.url, r.json.id)).status.state
    expect(killedIn).toBe('proving')
    workers.push(await startWorker())
    const done = await waitJob(api!.url, r.json.id, { timeoutMs: 60_000 })
    expect(done.status.state).toBe('done')
    expect(await verifiesWithSnarkjs(mnist, done)).toBe(true)
    for (const id of tinyJobs) expect(await verifiesWithSnarkjs(tiny, await waitJob(api!.url, id))).toBe(true)
    // The API node counted the completions it saw through BullMQ's queue events.
    const metrics = await (await fetch(`${api!.url}/metrics`)).text()
    expect(metrics).toMatch(/^veriml_queue_jobs\{state="active"\} 0$/m)
    expect(metrics).toMatch(/^veriml_jobs_failed_total 0$/m)
  })

  it('a job finished longer ago than the TTL is gone, and the same input is proven afresh', async () => {
    await api!.close()
    api = await startApi(100, 1)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await fetch(`${api.url}/v1/jobs/${tinyJobs[0]}`)).status).toBe(404)
    const r = await post(api.url, 'tiny', input(1))
    expect(r).toMatchObject({ status: 202, json: { id: tinyJobs[0] } })
    expect(await verifiesWithSnarkjs(tiny, await waitJob(api.url, r.json.id))).toBe(true)
  })

  it('a worker stopped with SIGTERM exits 0', async () => {
    expect(await workers[1].stop()).toBe(0)
  })
})
