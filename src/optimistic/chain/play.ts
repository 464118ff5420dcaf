import type { Contract } from 'ethers'
import type { IrModel } from '../../ir/types.js'
import { honestMove, MOVER, type Role } from '../agent.js'
import type { DisputeView, Move } from '../dispute.js'
import { playMove, readDispute } from './client.js'
import type { Hex } from '../../util/hex.js'
import type { ParamsCommitment } from '../params.js'
import type { Trace } from '../trace.js'

/** A participant: its role, the game connected to its own signer, and its strategy (null: it does not move). */
export interface Player {
  role: Role
  game: Contract
  decide(view: DisputeView, disputeId: Hex): Move | null | Promise<Move | null>
}

export function honestPlayer(p: {
  role: Role
  game: Contract
  trace: Trace
  model: IrModel
  params: ParamsCommitment
}): Player {
  return { role: p.role, game: p.game, decide: (view, disputeId) => honestMove({ ...p, view, disputeId }) }
}

export interface PlayedMove {
  phase: DisputeView['phase']
  move: Move['type']
  gasUsed: bigint
  /** The transaction, e.g. to read its calldata. */
  hash: string
}

export interface PlayDisputeReturnType {
  /** The last state read: Resolved, or the phase a player stopped moving in. */
  view: DisputeView
  moves: PlayedMove[]
}

/** Plays moves in turn until the dispute resolves or the player to move returns null. */
export async function playDispute(p: {
  disputeId: Hex
  claimant: Player
  challenger: Player
  maxMoves?: number
}): Promise<PlayDisputeReturnType> {
  const moves: PlayedMove[] = []
  for (let i = 0; i < (p.maxMoves ?? 512); i++) {
    const view = await readDispute(p.claimant.game, p.disputeId)
    const mover = MOVER[view.phase]
    if (!mover) return { view, moves }
    const player = mover === 'claimant' ? p.claimant : p.challenger
    const move = await player.decide(view, p.disputeId)
    if (!move) return { view, moves }
    const { gasUsed, hash } = await playMove(player.game, p.disputeId, move)
    moves.push({ phase: view.phase, move: move.type, gasUsed, hash })
  }
  return { view: await readDispute(p.claimant.game, p.disputeId), moves }
}
