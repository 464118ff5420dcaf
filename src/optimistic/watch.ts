import type { Contract, Signer } from 'ethers'
import type { IrModel } from '../ir/types.js'
import { honestMove, shouldChallenge } from './agent.js'
import { challengeClaim, finalizeClaim, readClaim, readDispute } from './client.js'
import { type ClaimKey, disputeIdOf } from './config.js'
import { GameRevertError } from './errors.js'
import type { Hex } from './merkle.js'
import type { ParamsCommitment } from './params.js'
import { chainTime, claimsOf, disputesOf, pause, type PollOptions, type PostedClaim, type Seat, type SentMove, tick } from './remote.js'
import { buildTrace, type Trace } from './trace.js'

/** What the game needs to be played for one model. */
export interface GameContext {
  /** The game, connected to this party's signer. */
  game: Contract
  modelId: Hex
  model: IrModel
  params: ParamsCommitment
  challengeBond: bigint
  /** Seconds. */
  challengeWindow: bigint
}

export type WatchEvent =
  | { type: 'claim'; claimId: Hex; verdict: 'correct' | 'wrong' | 'input mismatch' | 'not pending' | 'window closed' | 'own claim' }
  | { type: 'challenged'; claimId: Hex; disputeId: Hex; gasUsed: bigint }
  | { type: 'input-mismatch-proved'; claimId: Hex; gasUsed: bigint }
  | { type: 'move'; claimId: Hex; sent: SentMove }
  | { type: 'resolved'; claimId: Hex; disputeId: Hex; claimantWon: boolean }
  | { type: 'finalized'; claimId: Hex; gasUsed: bigint }

export interface DisputeOutcome {
  claimId: Hex
  disputeId: Hex
  claimantWon: boolean
}

function challengerSeat(ctx: GameContext, disputeId: Hex, honest: Trace): Seat {
  return { disputeId, role: 'challenger', decide: (view, id) => honestMove({ role: 'challenger', view, disputeId: id, trace: honest, model: ctx.model, params: ctx.params }) }
}

/**
 * Recomputes a posted claim with the reference executor. If its input root is not that of its
 * posted input, proves it with `proveInputMismatch` (no dispute); else, if its trace differs,
 * opens a dispute (or resumes this party's existing one). Returns the seat to play, or null
 * with the verdict when there is nothing to dispute.
 */
export async function disputeIfWrong(ctx: GameContext, claim: PostedClaim, onEvent?: (e: WatchEvent) => void): Promise<Seat | null> {
  const me = await (ctx.game.runner as unknown as Signer).getAddress()
  const verdict = (v: Extract<WatchEvent, { type: 'claim' }>['verdict']) => { onEvent?.({ type: 'claim', claimId: claim.claimId, verdict: v }); return null }
  const honest = buildTrace(ctx.model, claim.inputs, { anyInput: true })
  if (!shouldChallenge(claim.key, honest)) return verdict('correct')
  if (claim.key.claimant.toLowerCase() === me.toLowerCase()) return verdict('own claim')
  const disputeId = disputeIdOf(claim.claimId, me)
  // A dispute this party already opened (e.g. before a restart) is resumed, not reopened.
  if ((await readDispute(ctx.game, disputeId)).phase !== 'None') { verdict('wrong'); return challengerSeat(ctx, disputeId, honest) }
  const record = await readClaim(ctx.game, claim.claimId)
  if (record.status !== 'Pending') return verdict('not pending')
  if ((await chainTime(ctx.game)) >= record.createdAt + ctx.challengeWindow) return verdict('window closed')
  verdict('wrong')
  const { gasUsed } = await challengeClaim(ctx.game, claim.key, ctx.challengeBond)
  onEvent?.({ type: 'challenged', claimId: claim.claimId, disputeId, gasUsed })
  return challengerSeat(ctx, disputeId, honest)
}

interface Active {
  claimId: Hex
  seat: Seat
}

/** Ticks every active dispute until none moves; resolved ones are removed and reported. */
async function advanceAll(game: Contract, active: Map<Hex, Active>, outcomes: DisputeOutcome[], onEvent?: (e: WatchEvent) => void): Promise<void> {
  for (let moved = true; moved && active.size > 0; ) {
    moved = false
    for (const [disputeId, a] of [...active]) {
      const r = await tick(game, a.seat)
      if (r.state === 'moved') { moved = true; onEvent?.({ type: 'move', claimId: a.claimId, sent: r.sent }) }
      if (r.state === 'resolved') {
        active.delete(disputeId)
        outcomes.push({ claimId: a.claimId, disputeId, claimantWon: r.view.claimantWon })
        onEvent?.({ type: 'resolved', claimId: a.claimId, disputeId, claimantWon: r.view.claimantWon })
      }
    }
  }
}

/**
 * `outcomes` plus the disputes of `active` resolved since the last tick (the other player's
 * last move can settle the claim between a tick and the status read that follows it).
 */
async function withResolved(game: Contract, active: Map<Hex, Active>, outcomes: DisputeOutcome[]): Promise<DisputeOutcome[]> {
  const all = [...outcomes]
  for (const [disputeId, a] of active) {
    const view = await readDispute(game, disputeId)
    if (view.phase === 'Resolved') all.push({ claimId: a.claimId, disputeId, claimantWon: view.claimantWon })
  }
  return all
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

/**
 * The honest watcher: checks every claim of the model as it appears, disputes the wrong ones
 * and plays all its disputes to the end, each by one move per poll round. Runs until `signal`
 * aborts or `maxPolls` rounds have passed.
 */
export async function watchClaims(p: WatchClaimsParameters): Promise<WatchClaimsReturnType> {
  const provider = p.game.runner!.provider!
  const active = new Map<Hex, Active>()
  const disputes: DisputeOutcome[] = []
  const layout = p.params.layout
  let next = p.fromBlock
  let checked = 0
  for (let polls = 0; polls < (p.maxPolls ?? 100_000) && !p.signal?.aborted; polls++) {
    const head = await provider.getBlockNumber()
    if (head >= next) {
      for (const claim of await claimsOf(p.game, p.modelId, layout, next, head)) {
        checked++
        const seat = await disputeIfWrong(p, claim, p.onEvent)
        if (seat) active.set(seat.disputeId, { claimId: claim.claimId, seat })
      }
      next = head + 1
    }
    await advanceAll(p.game, active, disputes, p.onEvent)
    if (!(await pause(p.pollMs ?? 1_000, p.signal))) break
  }
  return { checked, disputes, open: [...active.keys()] }
}

export interface DefendClaimParameters extends GameContext, PollOptions {
  claimId: Hex
  key: ClaimKey
  /** The trace the claimant committed to (its moves reveal this trace's values). */
  trace: Trace
  fromBlock: number
  onEvent?: (e: WatchEvent) => void
}

export interface DefendClaimReturnType {
  status: 'Pending' | 'Finalized' | 'Rejected' | 'None'
  disputes: DisputeOutcome[]
}

/**
 * The claimant's side: answers every dispute opened against the claim and, once the window
 * has closed with no dispute open, finalises it. Stops when the claim is no longer pending,
 * `signal` aborts, or `maxPolls` rounds have passed.
 */
export async function defendClaim(p: DefendClaimParameters): Promise<DefendClaimReturnType> {
  const active = new Map<Hex, Active>()
  const seen = new Set<Hex>()
  const disputes: DisputeOutcome[] = []
  for (let polls = 0; polls < (p.maxPolls ?? 100_000) && !p.signal?.aborted; polls++) {
    for (const { disputeId } of await disputesOf(p.game, p.claimId, p.fromBlock)) {
      if (seen.has(disputeId)) continue
      seen.add(disputeId)
      const seat: Seat = { disputeId, role: 'claimant', decide: (view, id) => honestMove({ role: 'claimant', view, disputeId: id, trace: p.trace, model: p.model, params: p.params }) }
      active.set(disputeId, { claimId: p.claimId, seat })
    }
    await advanceAll(p.game, active, disputes, p.onEvent)
    const record = await readClaim(p.game, p.claimId)
    if (record.status !== 'Pending') return { status: record.status, disputes: await withResolved(p.game, active, disputes) }
    if (record.openDisputes === 0 && (await chainTime(p.game)) > record.createdAt + p.challengeWindow) {
      const { gasUsed } = await finalizeClaim(p.game, p.key)
      p.onEvent?.({ type: 'finalized', claimId: p.claimId, gasUsed })
      return { status: 'Finalized', disputes }
    }
    if (!(await pause(p.pollMs ?? 1_000, p.signal))) break
  }
  return { status: (await readClaim(p.game, p.claimId)).status, disputes }
}
