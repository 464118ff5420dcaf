import { keccak256 } from 'ethers'
import { abi, CLAIM_KEY, MODEL_CONFIG } from './abi.js'
import type { Hex } from './merkle.js'
import type { ParamsCommitment } from './params.js'
import type { Trace } from './trace.js'

/** `ModelConfig` of OptimisticGame.sol: the model's commitment and its game parameters. */
export interface GameModelConfig {
  paramsRoot: Hex
  executor: string
  inputCount: number
  outputState: number
  stateSizes: number[]
  claimBond: bigint
  challengeBond: bigint
  /** Seconds. */
  challengeWindow: bigint
  /** Seconds per move. */
  moveTimeout: bigint
}

export interface GameParameters {
  executor: string
  claimBond: bigint
  challengeBond: bigint
  challengeWindow: bigint
  moveTimeout: bigint
}

export function gameModelConfig(params: ParamsCommitment, game: GameParameters): GameModelConfig {
  const { layout } = params
  return { paramsRoot: params.paramsRoot, inputCount: layout.inputCount, outputState: layout.outputState, stateSizes: layout.stateSizes, ...game }
}

/** modelId = keccak256(abi.encode(ModelConfig)), as `OptimisticGame.registerModel`. */
export function modelIdOf(config: GameModelConfig): Hex {
  return keccak256(abi.encode([MODEL_CONFIG], [config]))
}

/** `ClaimKey` of OptimisticGame.sol. */
export interface ClaimKey {
  modelId: Hex
  inputRoot: Hex
  traceRoot: Hex
  outputRoot: Hex
  claimant: string
}

export function claimKeyOf(modelId: Hex, trace: Trace, claimant: string): ClaimKey {
  return { modelId, inputRoot: trace.inputRoot, traceRoot: trace.traceRoot, outputRoot: trace.outputRoot, claimant }
}

export function claimIdOf(key: ClaimKey): Hex {
  return keccak256(abi.encode([CLAIM_KEY], [key]))
}

export function disputeIdOf(claimId: Hex, challenger: string): Hex {
  return keccak256(abi.encode(['bytes32', 'address'], [claimId, challenger]))
}
