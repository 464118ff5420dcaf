import type { Signer } from 'ethers'
import { failureKind, sendBatch, type TxIntent, type TxOutcome } from './batch.js'
import { readClaim, readDispute } from './client.js'
import type { ClaimStatusName } from '../abi.js'
import type { ClaimKey } from '../config.js'
import type { Hex } from '../../util/hex.js'
import { callIntent, disputesOf, gameNow, pause, type PollOptions } from './remote.js'
import {
  type Active,
  type DisputeOutcome,
  errorReporter,
  type GameContext,
  honestSeat,
  type MoveTag,
  planDisputes,
  reportError,
  reportMove,
  type WatchEvent,
} from './rounds.js'
import type { Trace } from '../trace.js'

type ClaimStatus = ClaimStatusName

/** One claim this party posted and defends. */
export interface DefendedClaim {
  claimId: Hex
  key: ClaimKey
  /** The trace the claimant committed to (its moves reveal this trace's values). */
  trace: Trace
}

export interface DefendClaimsParameters extends GameContext, PollOptions {
  claims: DefendedClaim[]
  /** First block to scan for disputes (at or before the claims' blocks). */
  fromBlock: number
  onEvent?: (e: WatchEvent) => void
}

export interface DefendClaimsReturnType {
  /** Each claim's status when the defender stopped. */
  status: Record<Hex, ClaimStatus>
  disputes: DisputeOutcome[]
}

type FinalizeTag = { kind: 'finalize'; claimId: Hex }

/**
 * The claimant's side for any number of its claims, with one signer: answers every dispute
 * opened against them and finalises each once its window has closed with no dispute open
 * (judged by `gameNow`: a quiet node's stale block time does not stall it; a premature
 * finalize reverts at its estimate and reads as waiting). Every poll: new disputes are
 * scanned, each live dispute gets one tick, and the round's transactions go out together.
 * A failed transaction is an `error` event and is retried; one that lost a race (the claim
 * already finalised by someone else) is a settlement. Stops when no claim is pending,
 * `signal` aborts, or `maxPolls` rounds have passed.
 */
export async function defendClaims(p: DefendClaimsParameters): Promise<DefendClaimsReturnType> {
  const provider = p.game.runner!.provider!
  const signer = p.game.runner as Signer
  const report = errorReporter(p.onEvent)
  const claims = new Map(p.claims.map((c) => [c.claimId, c]))
  const status: Record<Hex, ClaimStatus> = Object.fromEntries(
    p.claims.map((c) => [c.claimId, 'Pending' as ClaimStatus]),
  )
  const pending = () => [...claims.keys()].filter((id) => status[id] === 'Pending')
  const active = new Map<Hex, Active>()
  const disputes: DisputeOutcome[] = []
  let next = p.fromBlock
  for (let polls = 0; polls < (p.maxPolls ?? 100_000) && !p.signal?.aborted; polls++) {
    try {
      const head = await provider.getBlockNumber()
      if (head >= next) {
        for (const { disputeId, claimId } of await disputesOf(p.game, pending(), next, head)) {
          if (!active.has(disputeId))
            active.set(disputeId, { claimId, seat: honestSeat(p, 'claimant', disputeId, claims.get(claimId)!.trace) })
        }
        next = head + 1
      }
    } catch (error) {
      reportError(report, error)
    }
    const intents: TxIntent<MoveTag | FinalizeTag>[] = []
    try {
      const now = await gameNow(provider)
      intents.push(...(await planDisputes(p.game, active, now, disputes, p.onEvent, report)))
      for (const claimId of pending()) {
        const record = await readClaim(p.game, claimId)
        if (record.status !== 'Pending') {
          await settle(p, claimId, record.status, active, disputes, status)
          continue
        }
        if (record.openDisputes === 0 && now > record.createdAt + p.challengeWindow) {
          intents.push(
            callIntent(p.game, 'finalize', 'finalize', [claims.get(claimId)!.key], { kind: 'finalize', claimId }),
          )
        }
      }
    } catch (error) {
      reportError(report, error)
    }
    if (pending().length === 0) break
    for (const o of await sendBatch(signer, intents)) {
      if (o.tag.kind === 'move') {
        reportMove(o as TxOutcome<MoveTag>, p.onEvent, report)
        continue
      }
      const { claimId } = o.tag
      if (o.state === 'mined') {
        p.onEvent?.({ type: 'finalized', claimId, gasUsed: o.gasUsed, calldataBytes: o.calldataBytes })
        // finalize may also supersede or reject the claim (the hub's record of its statement decides).
        await settle(p, claimId, (await readClaim(p.game, claimId)).status, active, disputes, status)
      } else if ((o.state === 'rejected' || o.state === 'failed') && failureKind(o.error) === 'error') {
        reportError(report, o.error, { claimId })
      }
      // A finalize that lost a race (someone else finalised) or came too early: the next poll re-reads the claim.
    }
    if (pending().length === 0) break
    if (!(await pause(p.pollMs ?? 1_000, p.signal))) break
  }
  for (const id of pending()) {
    try {
      status[id] = (await readClaim(p.game, id)).status
    } catch {
      /* the last known status stands */
    }
  }
  return { status, disputes }
}

/**
 * A claim no longer pending: its disputes are no longer played. Those already resolved (the
 * other player's last move can settle the claim between a tick and the status read) are recorded.
 */
async function settle(
  p: DefendClaimsParameters,
  claimId: Hex,
  s: ClaimStatus,
  active: Map<Hex, Active>,
  disputes: DisputeOutcome[],
  status: Record<Hex, ClaimStatus>,
): Promise<void> {
  status[claimId] = s
  for (const [disputeId, a] of [...active]) {
    if (a.claimId !== claimId) continue
    active.delete(disputeId)
    const view = await readDispute(p.game, disputeId).catch(() => undefined)
    if (view?.phase === 'Resolved') disputes.push({ claimId, disputeId, claimantWon: view.claimantWon })
  }
}

export interface DefendClaimParameters extends GameContext, PollOptions {
  claimId: Hex
  key: ClaimKey
  trace: Trace
  fromBlock: number
  onEvent?: (e: WatchEvent) => void
}

export interface DefendClaimReturnType {
  status: ClaimStatus
  disputes: DisputeOutcome[]
}

/** `defendClaims` for one claim. */
export async function defendClaim(p: DefendClaimParameters): Promise<DefendClaimReturnType> {
  const { claimId, key, trace, ...rest } = p
  const r = await defendClaims({ ...rest, claims: [{ claimId, key, trace }] })
  return { status: r.status[claimId], disputes: r.disputes }
}
