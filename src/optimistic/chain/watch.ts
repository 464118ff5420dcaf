import type { Signer } from 'ethers'
import { shouldChallenge } from '../agent.js'
import { errorMessage, failureKind, sendBatch, type TxIntent, type TxOutcome } from './batch.js'
import { readClaim, readDispute } from './client.js'
import { disputeIdOf } from '../config.js'
import { GameRevertError } from './errors.js'
import type { Hex } from '../../util/hex.js'
import type { PostedClaim } from './posted.js'
import { callIntent, claimsOf, gameNow, pause, type PollOptions, type Seat } from './remote.js'
import {
  type Active,
  type DisputeOutcome,
  type ErrorEvent,
  errorReporter,
  type GameContext,
  honestSeat,
  type MoveTag,
  planDisputes,
  reportError,
  reportMove,
  sweepResolved,
  type WatchEvent,
} from './rounds.js'
import { buildTrace, type Trace } from '../trace.js'

export type { Active, DisputeOutcome, GameContext, WatchEvent } from './rounds.js'
export {
  defendClaim,
  type DefendClaimParameters,
  type DefendClaimReturnType,
  defendClaims,
  type DefendClaimsParameters,
  type DefendClaimsReturnType,
} from './defend.js'

type Verdict = Extract<WatchEvent, { type: 'claim' }>['verdict']

const honestTrace = (ctx: GameContext, claim: PostedClaim) => buildTrace(ctx.model, claim.inputs, { anyInput: true })

/** What checking a claim calls for. */
type Check =
  | { kind: 'verdict'; verdict: Verdict }
  /** This party's dispute already exists (e.g. opened before a restart): resume it. */
  | { kind: 'resume'; seat: Seat }
  | { kind: 'challenge'; disputeId: Hex; seat: Seat }

/**
 * Recomputes a posted claim with the reference executor and says what to do about it: nothing
 * (a verdict), a new dispute, or resuming this party's own dispute. Sends nothing.
 */
async function checkClaim(
  ctx: GameContext,
  claim: PostedClaim,
  me: string,
  honest = honestTrace(ctx, claim),
): Promise<Check> {
  const own = claim.key.claimant.toLowerCase() === me.toLowerCase()
  if (!shouldChallenge(claim.key, honest)) return { kind: 'verdict', verdict: 'correct' }
  if (own) return { kind: 'verdict', verdict: 'own claim' }
  const disputeId = disputeIdOf(claim.claimId, me)
  const seat = honestSeat(ctx, 'challenger', disputeId, honest)
  if ((await readDispute(ctx.game, disputeId)).phase !== 'None') return { kind: 'resume', seat }
  const record = await readClaim(ctx.game, claim.claimId)
  if (record.status !== 'Pending') return { kind: 'verdict', verdict: 'not pending' }
  // The latest block's time, not the wall clock: only a window closed on chain is surely closed
  // (a challenge tried too late reverts at its estimate, at no cost).
  const latest = BigInt((await ctx.game.runner!.provider!.getBlock('latest'))!.timestamp)
  if (latest > record.createdAt + ctx.challengeWindow) return { kind: 'verdict', verdict: 'window closed' }
  return { kind: 'challenge', disputeId, seat }
}

type ClaimTag = { kind: 'challenge'; claim: PostedClaim; disputeId: Hex; seat: Seat }

function claimIntent(
  ctx: GameContext,
  claim: PostedClaim,
  check: Extract<Check, { kind: 'challenge' }>,
): TxIntent<ClaimTag> {
  return callIntent(
    ctx.game,
    'challenge',
    'challenge',
    [claim.key],
    { kind: 'challenge', claim, disputeId: check.disputeId, seat: check.seat },
    ctx.challengeBond,
  )
}

/** What a claim transaction's outcome means: done (with the seat to play, if any), or retry next poll. */
function claimOutcome(
  o: TxOutcome<ClaimTag>,
  onEvent?: (e: WatchEvent) => void,
): { done: boolean; seat?: Seat; error?: unknown } {
  const { claim } = o.tag
  if (o.state === 'unsent') return { done: false }
  if (o.state === 'mined') {
    onEvent?.({
      type: 'challenged',
      claimId: claim.claimId,
      disputeId: o.tag.disputeId,
      gasUsed: o.gasUsed,
      calldataBytes: o.calldataBytes,
    })
    return { done: true, seat: o.tag.seat }
  }
  const name = o.error instanceof GameRevertError ? o.error.errorName : ''
  // Our own dispute exists (a challenge of ours mined earlier): play it.
  if (name === 'DisputeExists') return { done: true, seat: o.tag.seat }
  if (name === 'ChallengeWindowClosed') {
    onEvent?.({ type: 'claim', claimId: claim.claimId, verdict: 'window closed' })
    return { done: true }
  }
  // Settled by someone else first (another watcher's dispute): nothing left to do.
  if (failureKind(o.error) === 'settled') {
    onEvent?.({ type: 'claim', claimId: claim.claimId, verdict: 'not pending' })
    return { done: true }
  }
  return { done: false, error: o.error }
}

/**
 * Checks one posted claim and, when it is wrong, opens a dispute (or resumes this party's
 * existing one): one transaction, sent and awaited. Returns the seat to play, or null with the
 * verdict when there is nothing to dispute. Throws GameRevertError when the challenge fails
 * for a reason other than the claim being settled or its window closed.
 */
export async function disputeIfWrong(
  ctx: GameContext,
  claim: PostedClaim,
  onEvent?: (e: WatchEvent) => void,
): Promise<Seat | null> {
  const me = await (ctx.game.runner as unknown as Signer).getAddress()
  const check = await checkClaim(ctx, claim, me)
  if (check.kind === 'verdict') {
    onEvent?.({ type: 'claim', claimId: claim.claimId, verdict: check.verdict })
    return null
  }
  if (check.kind === 'resume') {
    onEvent?.({ type: 'claim', claimId: claim.claimId, verdict: 'wrong' })
    return check.seat
  }
  onEvent?.({ type: 'claim', claimId: claim.claimId, verdict: 'wrong' })
  const [outcome] = await sendBatch(ctx.game.runner as Signer, [claimIntent(ctx, claim, check)])
  const r = claimOutcome(outcome, onEvent)
  if (!r.done) throw r.error ?? new Error(`claim ${claim.claimId}: the transaction was not sent`)
  return r.seat ?? null
}

export interface WatchClaimsParameters extends GameContext, PollOptions {
  /** First block to scan (e.g. the deployment block, so claims posted before the watcher started are checked). */
  fromBlock: number
  onEvent?: (e: WatchEvent) => void
}

export interface WatchClaimsReturnType {
  checked: number
  disputes: DisputeOutcome[]
  /** Disputes still being played when the watcher stopped. */
  open: Hex[]
}

/** A claim seen but not yet settled by the watcher (its challenge or proof still to land). */
interface Unsettled {
  claim: PostedClaim
  /** Computed once: a claim whose challenge keeps failing is retried every poll. */
  honest?: Trace
  /** Counted in `checked`, and its verdict reported. */
  announced: boolean
}

/**
 * The honest watcher: checks every claim of the model as it appears, disputes the wrong ones
 * and plays all its disputes to the end. Every poll: new claims are scanned (whatever the
 * dispute load), every live dispute gets one tick, and all the round's transactions go out
 * together (`sendBatch`). A failed transaction or read is an `error` event and is retried
 * next poll; a revert because another transaction got there first is a settlement, never an
 * error. Runs until `signal` aborts or `maxPolls` rounds have passed.
 */
export async function watchClaims(p: WatchClaimsParameters): Promise<WatchClaimsReturnType> {
  const provider = p.game.runner!.provider!
  const signer = p.game.runner as Signer
  const me = await signer.getAddress()
  const report = errorReporter(p.onEvent)
  const active = new Map<Hex, Active>()
  const unsettled = new Map<Hex, Unsettled>()
  const disputes: DisputeOutcome[] = []
  let next = p.fromBlock
  let checked = 0
  for (let polls = 0; polls < (p.maxPolls ?? 100_000) && !p.signal?.aborted; polls++) {
    next = await scan(p, next, unsettled, report)
    const intents: TxIntent<ClaimTag | MoveTag>[] = []
    for (const [claimId, u] of unsettled) {
      try {
        u.honest ??= honestTrace(p, u.claim)
        const check = await checkClaim(p, u.claim, me, u.honest)
        const first = !u.announced
        if (first) {
          checked++
          u.announced = true
        }
        const verdict: Verdict = check.kind === 'verdict' ? check.verdict : 'wrong'
        if (first || check.kind === 'verdict') p.onEvent?.({ type: 'claim', claimId, verdict })
        if (check.kind === 'verdict' || check.kind === 'resume') unsettled.delete(claimId)
        if (check.kind === 'resume') active.set(check.seat.disputeId, { claimId, seat: check.seat })
        if (check.kind === 'challenge') intents.push(claimIntent(p, u.claim, check))
      } catch (error) {
        reportError(report, error, { claimId })
      }
    }
    try {
      intents.push(...(await planDisputes(p.game, active, await gameNow(provider), disputes, p.onEvent, report)))
    } catch (error) {
      reportError(report, error)
    }
    for (const o of await sendBatch(signer, intents)) {
      if (o.tag.kind === 'move') {
        reportMove(o as TxOutcome<MoveTag>, p.onEvent, report)
        continue
      }
      const claimId = o.tag.claim.claimId
      const r = claimOutcome(o as TxOutcome<ClaimTag>, p.onEvent)
      if (r.seat) active.set(r.seat.disputeId, { claimId, seat: r.seat })
      if (r.done) unsettled.delete(claimId)
      else if (r.error) reportError(report, r.error, { claimId })
    }
    if (!(await pause(p.pollMs ?? 1_000, p.signal))) break
  }
  await sweepResolved(p.game, active, disputes, p.onEvent)
  return { checked, disputes, open: [...active.keys()] }
}

/** New claims since `next` into `unsettled`; returns the next block to scan (unchanged when the scan failed). */
async function scan(
  p: WatchClaimsParameters,
  next: number,
  unsettled: Map<Hex, Unsettled>,
  report: (e: ErrorEvent) => void,
): Promise<number> {
  try {
    const head = await p.game.runner!.provider!.getBlockNumber()
    if (head < next) return next
    const claims = await claimsOf(p.game, p.modelId, p.params.layout, next, head, (claimId, error) =>
      reportError(report, error, { claimId }),
    )
    for (const claim of claims)
      if (!unsettled.has(claim.claimId)) unsettled.set(claim.claimId, { claim, announced: false })
    return head + 1
  } catch (error) {
    report({ message: `scanning claims from block ${next}: ${errorMessage(error)}` })
    return next
  }
}
