import { setTimeout as sleep } from 'node:timers/promises'
import type { Contract, EventLog } from 'ethers'
import { MOVER, type Role } from './agent.js'
import { closeMoot, type DisputeView, type Move, playMove, readClaim, readDispute, timeoutDispute } from './client.js'
import type { ClaimKey } from './config.js'
import { GameRevertError } from './errors.js'
import type { TraceLayout } from './layout.js'
import { packedInputBytes, unpackInputStates } from './input.js'
import type { Hex } from './merkle.js'
import { ClaimInputError, ClaimNotFoundError } from './op-errors.js'

/** A claim as posted on chain: its key and the values needed to recompute it. */
export interface PostedClaim {
  claimId: Hex
  key: ClaimKey
  /** Input states, unpacked and split by the model's layout. */
  inputs: bigint[][]
  /** The input as posted (packed); `key.inputHash` is its keccak256. */
  inputPacked: Hex
  output: bigint[]
  blockNumber: number
}

function postedClaim(log: EventLog, layout: TraceLayout): PostedClaim {
  const { claimId, key, input, outputs } = log.args as unknown as { claimId: Hex; key: ClaimKey; input: Hex; outputs: bigint[][] }
  const expected = packedInputBytes(layout.inputLane, layout.stateSizes.slice(0, layout.inputCount))
  const actual = (input.length - 2) / 2
  if (actual !== expected) throw new ClaimInputError({ claimId, expected, actual })
  const inputs = unpackInputStates(layout, input)
  const k: ClaimKey = { modelId: key.modelId, inputRoot: key.inputRoot, inputHash: key.inputHash, traceRoot: key.traceRoot, outputsHash: key.outputsHash, claimant: key.claimant }
  return { claimId, key: k, inputs, inputPacked: input, output: [...outputs[0]], blockNumber: log.blockNumber }
}

/** Claims of `modelId` submitted in blocks [fromBlock, toBlock]. */
export async function claimsOf(game: Contract, modelId: Hex, layout: TraceLayout, fromBlock: number, toBlock: number): Promise<PostedClaim[]> {
  const logs = await game.queryFilter(game.filters.ClaimSubmitted(null, modelId), fromBlock, toBlock)
  return logs.map((log) => postedClaim(log as EventLog, layout))
}

/** One claim by id (of `modelId` when given); throws ClaimNotFoundError. */
export async function findClaim(game: Contract, claimId: Hex, layout: TraceLayout, p: { fromBlock: number; modelId?: Hex }): Promise<PostedClaim> {
  const notFound = () => new ClaimNotFoundError({ claimId, gameAddress: String(game.target), modelId: p.modelId })
  if (!/^0x[0-9a-fA-F]{64}$/.test(claimId)) throw notFound()
  const logs = await game.queryFilter(game.filters.ClaimSubmitted(claimId, p.modelId ?? null), p.fromBlock, 'latest')
  if (logs.length === 0) throw notFound()
  return postedClaim(logs[0] as EventLog, layout)
}

/** Disputes opened against a claim, oldest first. */
export async function disputesOf(game: Contract, claimId: Hex, fromBlock: number): Promise<{ disputeId: Hex; challenger: string }[]> {
  const logs = await game.queryFilter(game.filters.Challenged(null, claimId), fromBlock, 'latest')
  return logs.map((log) => {
    const { disputeId, challenger } = (log as EventLog).args as unknown as { disputeId: Hex; challenger: string }
    return { disputeId, challenger }
  })
}

export async function chainTime(game: Contract): Promise<bigint> {
  const block = await game.runner!.provider!.getBlock('latest')
  return BigInt(block!.timestamp)
}

/** A move this process sent, with its gas. */
export interface SentMove {
  disputeId: Hex
  role: Role
  phase: DisputeView['phase']
  move: Move['type'] | 'timeout' | 'release'
  gasUsed: bigint
}

export interface Seat {
  disputeId: Hex
  role: Role
  decide(view: DisputeView, disputeId: Hex): Move | Promise<Move>
}

export type TickResult = { state: 'moved'; sent: SentMove } | { state: 'waiting'; view: DisputeView } | { state: 'resolved'; view: DisputeView }

/**
 * Advances one dispute by at most one transaction: a release when its claim was rejected for an
 * input mismatch (the dispute is moot), this seat's move when it is its turn, a timeout when the
 * other player's clock has run out, else nothing. A timeout or release raced by another
 * transaction reverts; that is a normal outcome, so it reads as waiting.
 */
export async function tick(game: Contract, seat: Seat): Promise<TickResult> {
  const view = await readDispute(game, seat.disputeId)
  if (view.phase === 'Resolved' || view.phase === 'None') return { state: 'resolved', view }
  if ((await readClaim(game, view.claimId)).status === 'Rejected') {
    try {
      const { gasUsed } = await closeMoot(game, seat.disputeId)
      return { state: 'moved', sent: { disputeId: seat.disputeId, role: seat.role, phase: view.phase, move: 'release', gasUsed } }
    } catch (error) {
      if (!(error instanceof GameRevertError)) throw error
      return { state: 'waiting', view }
    }
  }
  if (MOVER[view.phase] === seat.role) {
    const move = await seat.decide(view, seat.disputeId)
    const { gasUsed } = await playMove(game, seat.disputeId, move)
    return { state: 'moved', sent: { disputeId: seat.disputeId, role: seat.role, phase: view.phase, move: move.type, gasUsed } }
  }
  if ((await chainTime(game)) > view.deadline) {
    try {
      const { gasUsed } = await timeoutDispute(game, seat.disputeId)
      return { state: 'moved', sent: { disputeId: seat.disputeId, role: seat.role, phase: view.phase, move: 'timeout', gasUsed } }
    } catch (error) {
      if (!(error instanceof GameRevertError)) throw error
    }
  }
  return { state: 'waiting', view }
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

/** Plays one seat until its dispute resolves; returns the final view, or null when stopped first. */
export async function playSeat(game: Contract, seat: Seat, p: PollOptions & { onMove?: (m: SentMove) => void } = {}): Promise<DisputeView | null> {
  for (let polls = 0; polls < (p.maxPolls ?? 100_000); ) {
    if (p.signal?.aborted) return null
    const r = await tick(game, seat)
    if (r.state === 'resolved') return r.view
    if (r.state === 'moved') p.onMove?.(r.sent)
    else if (!(await pause(p.pollMs ?? 1_000, p.signal))) return null
    else polls++
  }
  return null
}
