/**
 * A dispute and a claim as the game holds them, and the moves that change a dispute: plain
 * data, so the honest agent (agent.ts) decides moves without a chain, and chain/client.ts
 * reads and sends them.
 */
import type { Hex } from '../util/hex.js'
import type { ClaimStatusName, PhaseName } from './abi.js'

export interface DisputeView {
  challenger: string
  deadline: bigint
  phase: PhaseName
  claimantWon: boolean
  lo: number
  hi: number
  /** Level-2 generalised index (root 1). */
  pos: bigint
  claimId: Hex
  modelId: Hex
  rootLo: Hex
  rootHi: Hex
  left: Hex
  right: Hex
  /** Level 3 (a linear or max element): the disputed terms [foldLo, foldHi) of the row. */
  foldLo: number
  foldHi: number
  termCount: number
  termsRoot: Hex
  /** Agreed accumulator after foldLo terms; the claimant's after foldHi; its proposal at mid. */
  accLo: bigint
  accHi: bigint
  accMid: bigint
}

/** One move of a dispute, named as the contract function that plays it. */
export type Move =
  | { type: 'propose'; root: Hex }
  | { type: 'choose'; agree: boolean }
  | { type: 'reveal'; stateRoot: Hex; path: Hex[] }
  | { type: 'open'; left: Hex; right: Hex }
  | { type: 'pick'; right: boolean }
  | { type: 'step'; proof: Hex }
  | { type: 'startFold'; proof: Hex }
  | { type: 'foldPropose'; acc: bigint }
  | { type: 'foldChoose'; agree: boolean }
  | { type: 'foldStep'; proof: Hex }

export interface ClaimView {
  claimant: string
  createdAt: bigint
  openDisputes: number
  status: ClaimStatusName
}
