import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ProverService, createProverService } from '../../src/serve/service.js'
import { shutdown } from '../../src/shutdown.js'
import { cliInProcess as cli } from '../helpers/cli.js'
import { TINY_INPUT, buildTiny, getJob, post, startCli, tmp, verifiesWithSnarkjs, waitJob } from './helpers.js'

/** The prover service in its embedded mode (no Redis): HTTP API and workers in one process. */
describe('prover service, embedded queue', () => {
  let dir: string
  let service: ProverService
  const KEY = 'test-api-key-0123456789'
  const auth = { authorization: `Bearer ${KEY}` }
  beforeAll(async () => {
    dir = await buildTiny(await tmp('embedded'))
    service = await createProverService({ models: [dir], port: 0, apiKeys: [KEY], maxBodyBytes: 4096 })
  })
  afterAll(async () => {
    await service?.close()
    await shutdown()
  })

  it('proves a submitted input: the proof verifies with snarkjs, with output.json and registry calldata', async () => {
    const r = await post(service.url, 'tiny', TINY_INPUT, auth)
    expect(r.status).toBe(202)
    expect(r.headers.get('location')).toBe(`/v1/jobs/${r.json.id}`)
    // One long poll answers when the job ends.
    const polled = await fetch(`${service.url}/v1/jobs/${r.json.id}?wait=30`, { headers: auth })
    const done = (await polled.json()) as Awaited<ReturnType<typeof waitJob>>
    expect(done.status.state).toBe('done')
    expect(await verifiesWithSnarkjs(dir, done)).toBe(true)
    expect((await fetch(`${service.url}/v1/jobs/${r.json.id}?wait=soon`, { headers: auth })).status).toBe(400)
    if (done.status.state !== 'done') return
    const { output, calldata, public: signals } = done.status.result
    expect(output.output_data[0]).toHaveLength(4)
    expect(output.model_id).toBe(done.modelId)
    expect(calldata.data).toMatch(/^0x[0-9a-f]+$/)
    expect(calldata.inferenceId).toMatch(/^0x[0-9a-f]{64}$/)
    expect(signals.length).toBe(output.public_signal_count)
  })

  it('refuses a bad input with a 400 naming the input and what was found; not JSON, too large, unknown model and wrong method too', async () => {
    const short = await post(service.url, 'tiny', { input_data: [[1, 2]] }, auth)
    expect(short.status).toBe(400)
    expect(short.json.error).toMatchObject({ name: 'IrInputError' })
    expect(short.json.error?.message).toMatch(/input "input": expected 8 values .*found 2/)
    expect(JSON.stringify(short.json)).not.toMatch(/\n\s+at /)
    const nan = await post(service.url, 'tiny', { input: [0, 0, 0, 'x', 0, 0, 0, 0] }, auth)
    expect(nan.status).toBe(400)
    expect(nan.json.error?.message).toMatch(/input "input".*"x"/)
    const notJson = await post(service.url, 'tiny', '{"input_data": [[', auth)
    expect(notJson.status).toBe(400)
    expect(notJson.json.error?.message).toBe('request body is not valid JSON')
    const large = await post(service.url, 'tiny', { input_data: [Array(2000).fill(0.5)] }, auth)
    expect(large.status).toBe(413)
    const unknown = await post(service.url, 'nope', TINY_INPUT, auth)
    expect(unknown.status).toBe(404)
    expect(unknown.json.error?.name).toBe('UnknownModelError')
    const get = await fetch(`${service.url}/v1/models/tiny/proofs`, { headers: auth })
    expect(get.status).toBe(405)
  })

  it('one job and one proof for duplicate submissions, in EZKL or named form, concurrent or not', async () => {
    const input = [0.2, 0.1, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]
    const [a, b, c, d] = await Promise.all([
      post(service.url, 'tiny', { input_data: [input] }, auth),
      post(service.url, 'tiny', { input: input }, auth),
      post(service.url, 'tiny', { input_data: [input] }, auth),
      post(service.url, 'tiny', { input_data: [input.map((v) => v + 1e-9)] }, auth),
    ])
    expect(new Set([a, b, c, d].map((r) => r.json.id)).size).toBe(1)
    expect([a, b, c, d].map((r) => r.status).sort()).toEqual([200, 200, 200, 202])
    const done = await waitJob(service.url, a.json.id, { headers: auth })
    const again = await post(service.url, 'tiny', { input }, auth)
    expect(again).toMatchObject({ status: 200, json: { id: a.json.id, status: { state: 'done' } } })
    if (again.json.status.state !== 'done' || done.status.state !== 'done') throw new Error('not done')
    expect(again.json.status.result.proof).toEqual(done.status.result.proof)
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: auth })).text()
    // This job and the first test's: two proofs.
    expect(metrics).toMatch(/^veriml_jobs_done_total 2$/m)
    expect(metrics).toMatch(/^veriml_prove_seconds_count 2$/m)
    expect(metrics).toMatch(/^veriml_queue_jobs\{state="waiting"\} 0$/m)
  })

  it('401 without a valid API key (Bearer or x-api-key accepted); /health is open; no response carries the key', async () => {
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-key-0000000000' },
      { 'x-api-key': `${KEY}x` },
    ]
    for (const headers of refused) {
      const r = await post(service.url, 'tiny', TINY_INPUT, headers)
      expect(r.status).toBe(401)
      expect(r.json.error?.message).toBe('missing or unknown API key')
    }
    expect((await fetch(`${service.url}/v1/models`)).status).toBe(401)
    expect((await fetch(`${service.url}/metrics`)).status).toBe(401)
    const models = await fetch(`${service.url}/v1/models`, { headers: { 'x-api-key': KEY } })
    expect(models.status).toBe(200)
    expect(((await models.json()) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(['tiny'])
    const health = await fetch(`${service.url}/health`)
    expect(await health.json()).toEqual({ status: 'ok', queue: 'embedded', models: 1 })
    const r = await post(service.url, 'tiny', { input_data: [[KEY]] }, auth)
    expect(r.status).toBe(400)
    expect(JSON.stringify(r.json)).not.toContain(KEY)
  })
})

describe('prover service, embedded queue: timeout and TTL', () => {
  it('fails a job past its timeout (not retried) and forgets a finished job after the TTL', async () => {
    const dir = await buildTiny(await tmp('timeout'))
    const slow = await createProverService({ models: [dir], port: 0, queue: { timeoutSeconds: 0.001 } })
    const quick = await createProverService({ models: [dir], port: 0, queue: { ttlSeconds: 0.3 } })
    try {
      const r = await post(slow.url, 'tiny', TINY_INPUT)
      const failed = await waitJob(slow.url, r.json.id)
      expect(failed.status).toEqual({ state: 'failed', error: expect.stringMatching(/longer than the job timeout/) })
      const ok = await post(quick.url, 'tiny', TINY_INPUT)
      expect((await waitJob(quick.url, ok.json.id)).status.state).toBe('done')
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect((await fetch(`${quick.url}/v1/jobs/${ok.json.id}`)).status).toBe(404)
    } finally {
      await slow.close()
      await quick.close()
      await shutdown()
    }
  })
})

describe('veriml serve and worker: refused before anything starts', () => {
  it('names what is missing or wrong, with the usage', async () => {
    const noDir = await cli('serve')
    expect(noDir).toMatchObject({ code: 2, stdout: '' })
    expect(noDir.stderr).toContain('expected one or more build folders')
    const notBuilt = await cli('serve', join(await tmp('none'), 'nothing'), '--port', '0')
    expect(notBuilt.code).toBe(1)
    expect(notBuilt.stderr).toMatch(/is not a compiled model/)
    const noRedis = await cli('worker', 'build')
    expect(noRedis).toMatchObject({ code: 2 })
    expect(noRedis.stderr).toContain('--redis URL is required')
    const http = await cli('worker', 'build', '--redis', 'http://127.0.0.1:6379')
    expect(http.stderr).toContain('--redis must be a URL like redis://127.0.0.1:6379')
    const port = await cli('serve', 'build', '--port', '70000')
    expect(port.stderr).toContain('--port must be an integer from 0 to 65535')
  })
})

describe('veriml serve (CLI, embedded)', () => {
  it('prints one line with the URL, proves over HTTP, exits 0 on SIGTERM', async () => {
    const dir = await buildTiny(await tmp('cli'))
    const server = await startCli(['serve', dir, '--port', '0'])
    try {
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(server.line)?.[1]
      expect(server.line).toMatch(/^veriml serve: http:\/\/127\.0\.0\.1:\d+ \(1 model, embedded queue\)$/)
      const r = await post(url!, 'tiny', TINY_INPUT)
      const done = await waitJob(url!, r.json.id)
      expect(await verifiesWithSnarkjs(dir, done)).toBe(true)
      expect((await getJob(url!, r.json.id)).status.state).toBe('done')
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})
