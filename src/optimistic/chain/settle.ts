import type { Contract } from 'ethers'
import { statementIdFor } from '../../chain/calldata.js'
import { SETTLEMENTS, type Settlement } from '../../chain/contracts.js'
import type { Hex } from '../../util/hex.js'
import type { ClaimStatusName } from '../abi.js'
import { closeMoot, hubContract, readClaim, readDispute, settleByProof } from './client.js'
import { ClaimNotFoundError } from './errors.js'
import { claimFromLog } from './posted.js'
import { claimLog, disputesOf } from './remote.js'

export interface SettleClaimParameters {
  /** The game, connected to the signer that sends (anyone may settle). */
  game: Contract
  claimId: Hex
  /** First block to search for the claim's and its disputes' events, and the model it must be for. */
  fromBlock?: number
  modelId?: Hex
  /**
   * The live dispute whose challenger is paid when the proof rejects the claim; by default
   * the earliest opened one still live.
   */
  rewardDispute?: Hex
}

export type SettleClaimReturnType =
  /** Settled now by the registry's record; `closed`: the claim's other live disputes closed after it. */
  | { outcome: 'settled'; status: ClaimStatusName; gasUsed: bigint; closed: { disputeId: Hex; gasUsed: bigint }[] }
  | { outcome: 'already settled'; status: ClaimStatusName }
  /** The registry has no proof (or on-chain run) of the claim's statement: verify one first. */
  | { outcome: 'no proof'; statementId: string; settlement: Settlement }

/**
 * Settles a pending claim at once from the registry's deterministic record of its statement
 * (a Groth16 proof verified with `verifyInference`, or an on-chain run): agreeing outputs
 * finalise it, other outputs reject it and pay the named (or earliest) live dispute's
 * challenger; then closes the claim's other live disputes, so every bond is where it belongs.
 */
export async function settleClaimByProof(p: SettleClaimParameters): Promise<SettleClaimReturnType> {
  const { game, claimId } = p
  const log = await claimLog(game, claimId, { fromBlock: p.fromBlock, modelId: p.modelId })
  if (!log) throw new ClaimNotFoundError({ claimId, gameAddress: String(game.target), modelId: p.modelId })
  const { key } = claimFromLog(log)
  const claim = await readClaim(game, claimId)
  if (claim.status !== 'Pending') return { outcome: 'already settled', status: claim.status }
  const hub = hubContract((await game.hub()) as string, game.runner)
  const statementId = statementIdFor(key.modelId, key.inputHash)
  const [how] = (await hub.result(statementId)) as [bigint, bigint, string]
  const settlement = SETTLEMENTS[Number(how)]
  if (settlement !== 'proof' && settlement !== 'onchain') return { outcome: 'no proof', statementId, settlement }
  const live: Hex[] = []
  for (const d of await disputesOf(game, [claimId], log.blockNumber)) {
    const phase = (await readDispute(game, d.disputeId)).phase
    if (phase !== 'None' && phase !== 'Resolved') live.push(d.disputeId)
  }
  const reward = p.rewardDispute ?? live[0]
  const { gasUsed } = await settleByProof(game, key, reward)
  const closed = []
  for (const disputeId of live) {
    // The rewarded dispute was resolved by the settlement itself (a rejecting proof).
    if ((await readDispute(game, disputeId)).phase === 'Resolved') continue
    closed.push({ disputeId, gasUsed: (await closeMoot(game, disputeId)).gasUsed })
  }
  return { outcome: 'settled', status: (await readClaim(game, claimId)).status, gasUsed, closed }
}
