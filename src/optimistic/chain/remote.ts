import { setTimeout as sleep } from 'node:timers/promises'
import type { Contract, EventLog, Provider, Signer } from 'ethers'
import { MOVER, type Role } from '../agent.js'
import { errorMessage, failureKind, sendBatch, type TxIntent, type TxOutcome } from './batch.js'
import type { DisputeView, Move } from '../dispute.js'
import { readClaim, readDispute } from './client.js'
import type { TraceLayout } from '../layout.js'
import { firstBlockAtOrAfter, MAX_LOG_RANGE, queryLogs } from './logs.js'
import type { Hex } from '../../util/hex.js'
import { ClaimNotFoundError } from './errors.js'
import { type PostedClaim, postedClaim } from './posted.js'

/**
 * Claims of `modelId` submitted in blocks [fromBlock, toBlock], queried in bounded ranges. A
 * claim whose posted input does not fit the model goes to `onMalformed` when given (so one
 * bad log never hides the others), else throws ClaimInputError.
 */
export async function claimsOf(
  game: Contract,
  modelId: Hex,
  layout: TraceLayout,
  fromBlock: number,
  toBlock: number,
  onMalformed?: (claimId: Hex, error: unknown) => void,
): Promise<PostedClaim[]> {
  const claims: PostedClaim[] = []
  for (const log of await queryLogs(game, game.filters.ClaimSubmitted(null, modelId), fromBlock, toBlock)) {
    try {
      claims.push(postedClaim(log as EventLog, layout))
    } catch (error) {
      if (!onMalformed) throw error
      onMalformed((log as EventLog).args?.claimId as Hex, error)
    }
  }
  return claims
}

/**
 * The `ClaimSubmitted` log of a claim, or undefined. Found from the claim's `createdAt`: the
 * first block of that timestamp is located by binary search, then one bounded log query
 * (never a scan from `fromBlock`, which may be genesis on a long chain).
 */
export async function claimLog(
  game: Contract,
  claimId: Hex,
  p: { fromBlock?: number; modelId?: Hex } = {},
): Promise<EventLog | undefined> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(claimId)) return undefined
  const record = await readClaim(game, claimId)
  if (record.status === 'None') return undefined
  const provider = game.runner!.provider!
  const head = await provider.getBlockNumber()
  const from = Math.max(p.fromBlock ?? 0, await firstBlockAtOrAfter(provider, record.createdAt, head))
  const logs = await queryLogs(
    game,
    game.filters.ClaimSubmitted(claimId, p.modelId ?? null),
    from,
    Math.min(head, from + MAX_LOG_RANGE - 1),
  )
  return logs[0] as EventLog | undefined
}

/** One claim by id (of `modelId` when given); throws ClaimNotFoundError. */
export async function findClaim(
  game: Contract,
  claimId: Hex,
  layout: TraceLayout,
  p: { fromBlock: number; modelId?: Hex },
): Promise<PostedClaim> {
  const log = await claimLog(game, claimId, p)
  if (!log) throw new ClaimNotFoundError({ claimId, gameAddress: String(game.target), modelId: p.modelId })
  return postedClaim(log, layout)
}

/** Disputes opened in [fromBlock, toBlock] against any of `claimIds`, oldest first. */
export async function disputesOf(
  game: Contract,
  claimIds: readonly Hex[],
  fromBlock: number,
  toBlock?: number,
): Promise<{ disputeId: Hex; claimId: Hex; challenger: string }[]> {
  if (claimIds.length === 0) return []
  const to = toBlock ?? (await game.runner!.provider!.getBlockNumber())
  const logs = await queryLogs(game, game.filters.Challenged(null, [...claimIds]), fromBlock, to)
  return logs.map((log) => {
    const { disputeId, claimId, challenger } = (log as EventLog).args as unknown as {
      disputeId: Hex
      claimId: Hex
      challenger: string
    }
    return { disputeId, claimId, challenger }
  })
}

/**
 * "Now" for deciding when a clock or window has run out: the later of the latest block's
 * timestamp and the wall clock. A quiet automining node never advances its latest block, so
 * chain time alone would wait forever; the transaction tried on the wall clock's word is
 * estimated first, and a premature one reverts there (ClockRunning, ChallengeWindowOpen) at no cost.
 */
export async function gameNow(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock('latest')
  const wall = BigInt(Math.floor(Date.now() / 1000))
  const chain = BigInt(block!.timestamp)
  return chain > wall ? chain : wall
}

/** A transaction this process sent in a dispute, with its gas and calldata size. */
export interface SentMove {
  disputeId: Hex
  role: Role
  phase: DisputeView['phase']
  move: Move['type'] | 'timeout' | 'closeMoot'
  gasUsed: bigint
  calldataBytes: number
  hash: string
}

export interface Seat {
  disputeId: Hex
  role: Role
  decide(view: DisputeView, disputeId: Hex): Move | Promise<Move>
}

/** What a move sends: the contract function and its arguments after the dispute id. */
export function moveCall(move: Move): { method: string; args: unknown[] } {
  switch (move.type) {
    case 'propose':
      return { method: 'propose', args: [move.root] }
    case 'choose':
      return { method: 'choose', args: [move.agree] }
    case 'reveal':
      return { method: 'reveal', args: [move.stateRoot, move.path] }
    case 'open':
      return { method: 'open', args: [move.left, move.right] }
    case 'pick':
      return { method: 'pick', args: [move.right] }
    case 'step':
      return { method: 'step', args: [move.proof] }
    case 'startFold':
      return { method: 'startFold', args: [move.proof] }
    case 'foldPropose':
      return { method: 'foldPropose', args: [move.acc] }
    case 'foldChoose':
      return { method: 'foldChoose', args: [move.agree] }
    case 'foldStep':
      return { method: 'foldStep', args: [move.proof] }
  }
}

/** A contract call as a batch intent. */
export function callIntent<T>(
  game: Contract,
  action: string,
  method: string,
  args: unknown[],
  tag: T,
  value?: bigint,
): TxIntent<T> {
  return {
    action,
    tag,
    build: () => game.getFunction(method).populateTransaction(...args, ...(value === undefined ? [] : [{ value }])),
  }
}

/**
 * A dispute nobody can win any more, closed by one transaction that refunds the challenger:
 * its claim was rejected by another dispute (`closeMoot`; anyone may send it).
 */
async function mootCall(
  game: Contract,
  view: DisputeView,
  disputeId: Hex,
): Promise<{ move: 'closeMoot'; method: string; args: unknown[] } | null> {
  if ((await readClaim(game, view.claimId)).status !== 'Rejected') return null
  return { move: 'closeMoot', method: 'closeMoot', args: [disputeId] }
}

export type PlannedMove = Omit<SentMove, 'gasUsed' | 'calldataBytes' | 'hash'>

export type Plan =
  | { state: 'resolved' | 'waiting'; view: DisputeView }
  | { state: 'act'; view: DisputeView; intent: TxIntent<PlannedMove> }

/**
 * The one transaction this seat would send in its dispute now: the moot close when nobody can
 * win it any more, this seat's move when it is its turn, a timeout once the other player's
 * clock has run out by `now` (see `gameNow`), else nothing.
 */
export async function planTick(game: Contract, seat: Seat, now: bigint): Promise<Plan> {
  const view = await readDispute(game, seat.disputeId)
  if (view.phase === 'Resolved' || view.phase === 'None') return { state: 'resolved', view }
  const tag = (move: PlannedMove['move']): PlannedMove => ({
    disputeId: seat.disputeId,
    role: seat.role,
    phase: view.phase,
    move,
  })
  const moot = await mootCall(game, view, seat.disputeId)
  if (moot) return { state: 'act', view, intent: callIntent(game, moot.method, moot.method, moot.args, tag(moot.move)) }
  if (MOVER[view.phase] === seat.role) {
    const move = await seat.decide(view, seat.disputeId)
    const { method, args } = moveCall(move)
    return { state: 'act', view, intent: callIntent(game, method, method, [seat.disputeId, ...args], tag(move.type)) }
  }
  if (now > view.deadline)
    return { state: 'act', view, intent: callIntent(game, 'timeout', 'timeout', [seat.disputeId], tag('timeout')) }
  return { state: 'waiting', view }
}

export type TickResult =
  | { state: 'moved'; sent: SentMove }
  | { state: 'waiting'; view: DisputeView }
  | { state: 'resolved'; view: DisputeView }
  /** The transaction failed for a reason other than a lost race or a running clock; retried next round. */
  | { state: 'error'; view: DisputeView; message: string }

/**
 * A planned move's outcome as a tick result. A revert because another transaction got there
 * first (the same move copied, a timeout raced) or because a clock still runs reads as
 * waiting: the next round re-reads the dispute.
 */
export function tickResult(view: DisputeView, outcome: TxOutcome<PlannedMove>): TickResult {
  if (outcome.state === 'mined')
    return {
      state: 'moved',
      sent: { ...outcome.tag, gasUsed: outcome.gasUsed, calldataBytes: outcome.calldataBytes, hash: outcome.hash },
    }
  if (outcome.state === 'unsent') return { state: 'waiting', view }
  return failureKind(outcome.error) === 'error'
    ? { state: 'error', view, message: errorMessage(outcome.error) }
    : { state: 'waiting', view }
}

/** Advances one dispute by at most one transaction (see `planTick`); never throws for a failed transaction. */
export async function tick(game: Contract, seat: Seat): Promise<TickResult> {
  const plan = await planTick(game, seat, await gameNow(game.runner!.provider!))
  if (plan.state !== 'act') return plan
  const [outcome] = await sendBatch(game.runner as Signer, [plan.intent])
  return tickResult(plan.view, outcome)
}

export interface PollOptions {
  /** Milliseconds between polls of the chain. */
  pollMs?: number
  /** Upper bound on polls; a loop never runs unbounded. */
  maxPolls?: number
  signal?: AbortSignal
}

/** Sleeps `ms`; false when `signal` aborted (before or during the sleep). */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch (error) {
    if (signal?.aborted) return false
    throw error
  }
}

/**
 * Plays one seat until its dispute resolves; returns the final view, or null when stopped
 * first. A failed move or read is reported to `onError` and retried after a pause.
 */
export async function playSeat(
  game: Contract,
  seat: Seat,
  p: PollOptions & { onMove?: (m: SentMove) => void; onError?: (message: string) => void } = {},
): Promise<DisputeView | null> {
  for (let polls = 0; polls < (p.maxPolls ?? 100_000); ) {
    if (p.signal?.aborted) return null
    let r: TickResult
    try {
      r = await tick(game, seat)
    } catch (error) {
      r = { state: 'error', view: undefined as unknown as DisputeView, message: errorMessage(error) }
    }
    if (r.state === 'resolved') return r.view
    if (r.state === 'moved') {
      p.onMove?.(r.sent)
      continue
    }
    if (r.state === 'error') p.onError?.(r.message)
    if (!(await pause(p.pollMs ?? 1_000, p.signal))) return null
    polls++
  }
  return null
}
