import type { Contract, Signer } from 'ethers'
import type { ClaimStatusName } from '../abi.js'
import { sendBatch } from './batch.js'
import { readClaim } from './client.js'
import { GameRevertError } from './errors.js'
import type { Hex } from '../../util/hex.js'
import { ClaimNotFoundError } from './errors.js'
import { claimFromLog } from './posted.js'
import { callIntent, claimLog, gameNow } from './remote.js'

export interface FinalizeWhenDueParameters {
  /** The game, connected to the signer that sends the finalisation (anyone may). */
  game: Contract
  claimId: Hex
  /** The model's challenge window in seconds (from its deployment). */
  challengeWindow: bigint
  /** First block to search for the claim's event, and the model it must be for (both optional). */
  fromBlock?: number
  modelId?: Hex
}

/** Why a claim was, or was not, finalised: each with what a person needs to know next. */
export type FinalizeWhenDueReturnType =
  /**
   * finalize mined: the claim is Finalized (its outputs are the statement's record), Superseded
   * (another claim's outputs were recorded first; bond returned) or Rejected (a proof shows other outputs).
   */
  | { outcome: 'finalized'; gasUsed: bigint; claimant: string; status: ClaimStatusName }
  /** Not pending when looked at: nothing to do. */
  | { outcome: 'already settled'; status: ClaimStatusName }
  /** Settled by someone else between the look and the transaction. */
  | { outcome: 'settled meanwhile'; status: ClaimStatusName }
  | { outcome: 'disputed'; openDisputes: number }
  /** The window is open by the game's clock (`now`): finalise after `closesAt`. */
  | { outcome: 'window open'; closesAt: bigint; now: bigint }
  /** The wall clock says closed, the chain's last block does not yet: try again shortly. */
  | { outcome: 'chain clock behind'; closesAt: bigint }

/**
 * Finalises a pending claim once its challenge window has closed with no live dispute, after
 * checking each of those first, so that a claim that is not due is a reported outcome, not a
 * reverted transaction. Throws ClaimNotFoundError when the game never saw the claim.
 */
export async function finalizeWhenDue(p: FinalizeWhenDueParameters): Promise<FinalizeWhenDueReturnType> {
  const { game, claimId } = p
  const log = await claimLog(game, claimId, { fromBlock: p.fromBlock, modelId: p.modelId })
  if (!log) throw new ClaimNotFoundError({ claimId, gameAddress: String(game.target), modelId: p.modelId })
  const record = await readClaim(game, claimId)
  if (record.status !== 'Pending') return { outcome: 'already settled', status: record.status }
  if (record.openDisputes > 0) return { outcome: 'disputed', openDisputes: record.openDisputes }
  const closesAt = record.createdAt + p.challengeWindow
  const now = await gameNow(game.runner!.provider!)
  if (now <= closesAt) return { outcome: 'window open', closesAt, now }
  const [o] = await sendBatch(game.runner as Signer, [
    callIntent(game, 'finalize', 'finalize', [claimFromLog(log).key], null),
  ])
  if (o.state === 'mined') {
    const { status } = await readClaim(game, claimId)
    return { outcome: 'finalized', gasUsed: o.gasUsed, claimant: record.claimant, status }
  }
  const error = o.state === 'unsent' ? undefined : o.error
  if (error instanceof GameRevertError && error.errorName === 'ChallengeWindowOpen')
    return { outcome: 'chain clock behind', closesAt }
  if (error instanceof GameRevertError && error.errorName === 'ClaimNotPending')
    return { outcome: 'settled meanwhile', status: (await readClaim(game, claimId)).status }
  throw error ?? new Error('finalize was not sent')
}
