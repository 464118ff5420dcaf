import type { Contract, EventLog } from 'ethers'
// Imports from the optimistic folder's pre-split locations: helper B moves these files into this
// folder (issue 14), and the merge turns `../x.js` into `./x.js` (or `../x.js` for the pure core).
import type { ClaimView, DisputeView } from '../dispute.js'
import { readClaim, readDispute } from './client.js'
import { queryLogs } from './logs.js'
import type { Hex } from '../../util/hex.js'
import { ClaimNotFoundError } from './errors.js'
import { claimFromLog } from './posted.js'
import { PACK_BITS, type PackLayout } from '../../ir/packing.js'
import { unpackOutputs } from '../output.js'
import { claimLog, gameNow } from './remote.js'

export interface ClaimStatusParameters {
  /** The game, connected to a provider (read-only is enough) or a signer with one. */
  game: Contract
  claimId: Hex
  /** First block to search for the claim's event (default 0; the deployment block makes it faster). */
  fromBlock?: number
}

export interface ClaimDisputeStatus
  extends Pick<DisputeView, 'challenger' | 'deadline' | 'phase' | 'claimantWon' | 'lo' | 'hi'> {
  disputeId: Hex
}

export interface ClaimStatusReturnType {
  claimId: Hex
  status: ClaimView['status']
  claimant: string
  modelId: Hex
  /** The claimed output tensors, from the claim's event. */
  outputs: bigint[][]
  openDisputes: number
  /** When the challenge window closes (chain seconds) and the game's clock now (see gameNow). */
  closesAt: bigint
  now: bigint
  /** Every dispute opened against the claim, in order. */
  disputes: ClaimDisputeStatus[]
}

/**
 * A claim as the chain sees it: its record, claimed outputs, window and every dispute opened
 * against it. Read-only (any provider); throws ClaimNotFoundError when the game never saw it.
 */
/** The pack layouts of a registered model's outputs, from its on-chain config. */
function outputLayoutsOf(config: {
  outputStates: readonly bigint[]
  stateSizes: readonly bigint[]
  outputLayouts: readonly { laneBits: bigint; lo: bigint }[]
}): PackLayout[] {
  return config.outputLayouts.map((l, k) => {
    const laneBits = Number(l.laneBits)
    return {
      count: Number(config.stateSizes[Number(config.outputStates[k])]),
      laneBits,
      lo: l.lo,
      lanesPerElement: Math.floor(PACK_BITS / laneBits),
    }
  })
}

export async function claimStatus({ game, claimId, fromBlock }: ClaimStatusParameters): Promise<ClaimStatusReturnType> {
  const provider = game.runner!.provider!
  const log = await claimLog(game, claimId, { fromBlock })
  if (!log) throw new ClaimNotFoundError({ claimId, gameAddress: String(game.target) })
  const record = await readClaim(game, claimId)
  const { key, outputs: packed } = claimFromLog(log)
  // The window is the model's configured one at claim time: the game keeps it per model.
  const config = await game.model(key.modelId)
  const outputs = unpackOutputs(outputLayoutsOf(config), packed)
  const closesAt = record.createdAt + (config.challengeWindow as bigint)
  const now = await gameNow(provider)
  const challenged = await queryLogs(
    game,
    game.filters.Challenged(null, claimId),
    log.blockNumber,
    await provider.getBlockNumber(),
  )
  const disputes: ClaimDisputeStatus[] = []
  for (const l of challenged) {
    const { disputeId } = (l as EventLog).args as unknown as { disputeId: Hex }
    const d = await readDispute(game, disputeId)
    disputes.push({
      disputeId,
      challenger: d.challenger,
      phase: d.phase,
      claimantWon: d.claimantWon,
      lo: d.lo,
      hi: d.hi,
      deadline: d.deadline,
    })
  }
  return {
    claimId,
    status: record.status,
    claimant: record.claimant,
    modelId: key.modelId,
    outputs,
    openDisputes: record.openDisputes,
    closesAt,
    now,
    disputes,
  }
}
