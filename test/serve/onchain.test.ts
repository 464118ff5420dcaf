import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { verimlRegistry } from '../../src/chain/contracts.js'
import { deployBuild } from '../../src/chain/model.js'
import type { OnchainStatus } from '../../src/serve/onchain.js'
import { type ProverService, createProverService } from '../../src/serve/service.js'
import { shutdown } from '../../src/shutdown.js'
import { TINY_INPUT, buildTiny, post, tmp, waitJob } from './helpers.js'

/** `?onchain=true`: the service sends the proof to the model's registry on a local anvil. */
describe('prover service, on-chain submission', () => {
  let node: AnvilInstance
  let service: ProverService
  let registry: string
  let dir: string
  beforeAll(async () => {
    dir = await buildTiny(await tmp('onchain'))
    node = await startAnvil()
    const privateKey = node.accounts[0].privateKey
    registry = (await deployBuild({ model: dir, rpcUrl: node.rpcUrl, privateKey })).registry.address
    service = await createProverService({ models: [dir], port: 0, onchain: { rpcUrl: node.rpcUrl, privateKey } })
  })
  afterAll(async () => {
    await service?.close()
    await node?.stop()
    await shutdown()
  })

  it('records the proven inference in the registry once, however often it is asked for', async () => {
    const r = await post(`${service.url}`, 'tiny', TINY_INPUT, {}, '?onchain=true')
    expect(r.status).toBe(202)
    expect(r.json).toMatchObject({ onchain: { state: 'pending' } })
    const view = (await waitJob(service.url, r.json.id, {
      until: (v) => (v as { onchain?: OnchainStatus }).onchain?.state !== 'pending',
      timeoutMs: 60_000,
    })) as Awaited<ReturnType<typeof waitJob>> & { onchain: OnchainStatus }
    expect(view.onchain).toMatchObject({ state: 'recorded', txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) })
    if (view.onchain.state !== 'recorded' || view.status.state !== 'done') throw new Error('not recorded')
    expect(view.onchain.inferenceId).toBe(view.status.result.calldata.inferenceId)
    expect(await verimlRegistry(registry, node.provider).isRecorded(view.onchain.inferenceId)).toBe(true)
    const nonce = await node.provider.getTransactionCount(node.accounts[0].address)
    const again = await post(service.url, 'tiny', { input: TINY_INPUT.input_data[0] }, {}, '?onchain=true')
    expect(again).toMatchObject({ status: 200, json: { id: r.json.id, onchain: { state: 'recorded' } } })
    expect(await node.provider.getTransactionCount(node.accounts[0].address)).toBe(nonce)
  })

  it('a service started without --rpc refuses ?onchain=true with a 400 saying how to enable it', async () => {
    const plain = await createProverService({ models: [dir], port: 0 })
    try {
      const r = await post(plain.url, 'tiny', TINY_INPUT, {}, '?onchain=true')
      expect(r.status).toBe(400)
      expect(r.json.error?.message).toBe('on-chain submission is not configured on this service')
      const bad = await post(service.url, 'tiny', TINY_INPUT, {}, '?onchain=maybe')
      expect(bad.status).toBe(400)
      expect(bad.json.error?.message).toMatch(/onchain must be true or false/)
    } finally {
      await plain.close()
    }
  })
})
