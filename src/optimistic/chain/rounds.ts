import type { Contract } from 'ethers'
import type { IrModel } from '../../ir/types.js'
import { honestMove, type Role } from '../agent.js'
import { errorMessage, type TxIntent, type TxOutcome } from './batch.js'
import type { DisputeView } from '../dispute.js'
import { readDispute } from './client.js'
import type { Hex } from '../../util/hex.js'
import type { ParamsCommitment } from '../params.js'
import { type PlannedMove, planTick, type Seat, type SentMove, tickResult } from './remote.js'
import type { Trace } from '../trace.js'

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

/** A seat in one dispute that plays `role` honestly from `trace` (the claimant's committed trace, or the challenger's recomputed one). */
export function honestSeat(ctx: GameContext, role: Role, disputeId: Hex, trace: Trace): Seat {
  return {
    disputeId,
    role,
    decide: (view, id) => honestMove({ role, view, disputeId: id, trace, model: ctx.model, params: ctx.params }),
  }
}

export type WatchEvent =
  | { type: 'claim'; claimId: Hex; verdict: 'correct' | 'wrong' | 'not pending' | 'window closed' | 'own claim' }
  | { type: 'challenged'; claimId: Hex; disputeId: Hex; gasUsed: bigint; calldataBytes: number }
  | { type: 'move'; claimId: Hex; sent: SentMove }
  | { type: 'resolved'; claimId: Hex; disputeId: Hex; claimantWon: boolean }
  | { type: 'finalized'; claimId: Hex; gasUsed: bigint; calldataBytes: number }
  /** A transaction or read that failed for a reason other than a lost race; the agent retries it next poll. */
  | { type: 'error'; claimId?: Hex; disputeId?: Hex; message: string }

export interface DisputeOutcome {
  claimId: Hex
  disputeId: Hex
  claimantWon: boolean
}

export interface Active {
  claimId: Hex
  seat: Seat
}

export type ErrorEvent = Omit<Extract<WatchEvent, { type: 'error' }>, 'type'>

/**
 * Error events, each reported once while it repeats: an agent retries a failing transaction
 * every poll, and a log line per poll would drown everything else.
 */
export function errorReporter(onEvent?: (e: WatchEvent) => void): (e: ErrorEvent) => void {
  const last = new Map<string, string>()
  return (e) => {
    const key = `${e.claimId ?? ''}/${e.disputeId ?? ''}`
    if (last.get(key) === e.message) return
    last.set(key, e.message)
    onEvent?.({ type: 'error', ...e })
  }
}

export const reportError = (
  report: (e: ErrorEvent) => void,
  error: unknown,
  ids: { claimId?: Hex; disputeId?: Hex } = {},
) => report({ ...ids, message: errorMessage(error) })

/** A dispute move in a round's batch. */
export type MoveTag = { kind: 'move'; claimId: Hex; view: DisputeView; move: PlannedMove }

/**
 * One tick per live dispute: each dispute's state is read and its one transaction planned
 * (none while waiting). Resolved disputes are removed, recorded and reported. A dispute whose
 * read or move computation fails is reported and tried again next poll; the others go on.
 */
export async function planDisputes(
  game: Contract,
  active: Map<Hex, Active>,
  now: bigint,
  outcomes: DisputeOutcome[],
  onEvent: ((e: WatchEvent) => void) | undefined,
  report: (e: ErrorEvent) => void,
): Promise<TxIntent<MoveTag>[]> {
  const plans = await Promise.all(
    [...active].map(async ([disputeId, a]) => {
      try {
        return { disputeId, a, plan: await planTick(game, a.seat, now) }
      } catch (error) {
        reportError(report, error, { claimId: a.claimId, disputeId })
        return undefined
      }
    }),
  )
  const intents: TxIntent<MoveTag>[] = []
  for (const p of plans) {
    if (!p) continue
    const { disputeId, a, plan } = p
    if (plan.state === 'resolved') {
      active.delete(disputeId)
      outcomes.push({ claimId: a.claimId, disputeId, claimantWon: plan.view.claimantWon })
      onEvent?.({ type: 'resolved', claimId: a.claimId, disputeId, claimantWon: plan.view.claimantWon })
    } else if (plan.state === 'act') {
      intents.push({
        ...plan.intent,
        tag: { kind: 'move', claimId: a.claimId, view: plan.view, move: plan.intent.tag },
      })
    }
  }
  return intents
}

/**
 * Records the disputes of `active` that have resolved since their last tick (the other player's
 * last move lands between polls): called when an agent stops, so its summary is complete.
 */
export async function sweepResolved(
  game: Contract,
  active: Map<Hex, Active>,
  outcomes: DisputeOutcome[],
  onEvent?: (e: WatchEvent) => void,
): Promise<void> {
  for (const [disputeId, a] of [...active]) {
    const view = await readDispute(game, disputeId).catch(() => undefined)
    if (view?.phase !== 'Resolved') continue
    active.delete(disputeId)
    outcomes.push({ claimId: a.claimId, disputeId, claimantWon: view.claimantWon })
    onEvent?.({ type: 'resolved', claimId: a.claimId, disputeId, claimantWon: view.claimantWon })
  }
}

/** Reports a move's outcome: a mined move as an event, a real failure as an error; lost races and running clocks say nothing. */
export function reportMove(
  outcome: TxOutcome<MoveTag>,
  onEvent: ((e: WatchEvent) => void) | undefined,
  report: (e: ErrorEvent) => void,
): void {
  const { claimId, view, move } = outcome.tag
  const r = tickResult(view, { ...outcome, tag: move } as TxOutcome<PlannedMove>)
  if (r.state === 'moved') onEvent?.({ type: 'move', claimId, sent: r.sent })
  if (r.state === 'error') report({ claimId, disputeId: move.disputeId, message: r.message })
}
