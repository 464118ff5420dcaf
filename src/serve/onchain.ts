/**
 * `?onchain=true`: once the job's proof exists, the API node sends it to the model's registry
 * (`verifyInference`, src/chain/verify-on-chain.ts) with the endpoint and key given at serve
 * start, and the job's view gains `onchain` (pending | recorded {txHash, …} | failed {error}).
 * Submissions go one at a time: one key, one nonce sequence. What was sent is remembered by
 * this API node only (a restarted node sends a proof again when asked, and the registry
 * refuses an inference it already recorded, which is reported as that).
 */
import { existsSync } from 'node:fs'
import { loadDeployment } from '../chain/deploy.js'
import { verifyOnChain } from '../chain/verify-on-chain.js'
import { registerSecret } from '../util/secrets.js'
import { RequestError } from './errors.js'
import type { JobView } from './job.js'
import type { ModelPool } from './models.js'
import { type ProofQueue, errorText } from './queue.js'

export interface OnchainOptions {
  rpcUrl: string
  /** Else env VERIML_PRIVATE_KEY. */
  privateKey?: string
}

export type OnchainStatus =
  | { state: 'pending' }
  | { state: 'recorded'; inferenceId: string; txHash: string; blockNumber: number; gasUsed: string }
  | { state: 'failed'; error: string }

export interface OnchainSubmitter {
  /** Asks for the job's proof to be sent once done (RequestError 400 when its model has no deployment). */
  request(view: JobView): void
  status(id: string): OnchainStatus | undefined
}

/** Each model's DIR/deployment.json (written by `veriml deploy DIR`), read now: one missing is a 400 when asked for. */
export async function createOnchainSubmitter(
  o: OnchainOptions,
  pool: ModelPool,
  queue: ProofQueue,
): Promise<OnchainSubmitter> {
  registerSecret(o.privateKey)
  const deployments = new Map<string, string>()
  for (const m of pool.models) {
    const path = m.model.paths.deployment
    if (!existsSync(path)) continue
    const d = await loadDeployment(path)
    if (d.modelId.toLowerCase() === m.id.toLowerCase()) deployments.set(m.id, path)
  }
  const statuses = new Map<string, OnchainStatus>()
  const waiting = new Map<string, string>()
  let chain: Promise<void> = Promise.resolve()

  const send = (id: string, deploymentPath: string) => {
    chain = chain.then(async () => {
      const view = await queue.get(id)
      if (view?.status.state !== 'done') {
        statuses.set(id, { state: 'failed', error: 'the proof is gone (its TTL passed) or was never made' })
        return
      }
      const { proof, public: publicSignals } = view.status.result
      try {
        const r = await verifyOnChain({
          rpcUrl: o.rpcUrl,
          privateKey: o.privateKey,
          deploymentPath,
          proof,
          publicSignals,
        })
        statuses.set(
          id,
          r.accepted
            ? {
                state: 'recorded',
                inferenceId: r.inferenceId,
                txHash: r.txHash,
                blockNumber: r.blockNumber,
                gasUsed: String(r.gasUsed),
              }
            : { state: 'failed', error: errorText(r.rejection) },
        )
      } catch (error) {
        statuses.set(id, { state: 'failed', error: errorText(error) })
      }
    })
  }

  queue.onFinished((e) => {
    const path = waiting.get(e.id)
    if (path === undefined) return
    waiting.delete(e.id)
    if (e.ok) send(e.id, path)
    else statuses.set(e.id, { state: 'failed', error: 'the proof job failed' })
  })

  return {
    request(view) {
      const path = deployments.get(view.modelId)
      if (path === undefined)
        throw new RequestError({
          status: 400,
          problem: `model ${view.modelId} has no deployment for on-chain submission`,
          details: ['Deploy it (`veriml deploy DIR --rpc URL`) and restart the service.'],
        })
      const s = statuses.get(view.id)
      if (s && s.state !== 'failed') return
      statuses.set(view.id, { state: 'pending' })
      if (view.status.state === 'done') return send(view.id, path)
      waiting.set(view.id, path)
      // The job may have ended between the view and now: its event then came before the wait.
      void queue.get(view.id).then((v) => {
        if (v?.status.state !== 'done' || !waiting.delete(view.id)) return
        send(view.id, path)
      })
    },
    status: (id) => statuses.get(id),
  }
}
