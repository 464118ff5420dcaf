import { keccak256 } from 'ethers'
import { abi, CLAIM_KEY, MODEL_CONFIG } from './abi.js'
import { inputHashOf, packInput } from './input.js'
import type { Hex } from './merkle.js'
import type { ParamsCommitment } from './params.js'
import type { Trace } from './trace.js'

/** `ModelConfig` of OptimisticGame.sol: the model's commitment and its game parameters. */
export interface GameModelConfig {
  paramsRoot: Hex
  executor: string
  inputCount: number
  outputState: number
  /** Bytes per packed input value (see `InputLane`). */
  inputLaneBytes: number
  inputSigned: boolean
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
  return {
    paramsRoot: params.paramsRoot, inputCount: layout.inputCount, outputState: layout.outputState,
    inputLaneBytes: layout.inputLane.bytes, inputSigned: layout.inputLane.signed, stateSizes: layout.stateSizes, ...game,
  }
}

/** modelId = keccak256(abi.encode(ModelConfig)), as `OptimisticGame.registerModel`. */
export function modelIdOf(config: GameModelConfig): Hex {
  return keccak256(abi.encode([MODEL_CONFIG], [config]))
}

/** `ClaimKey` of OptimisticGame.sol. */
export interface ClaimKey {
  modelId: Hex
  inputRoot: Hex
  /** keccak256 of the packed input the claim posted. */
  inputHash: Hex
  traceRoot: Hex
  outputRoot: Hex
  claimant: string
}

/** The trace's input states, concatenated and packed in the model's input lane: what an honest claim posts. */
export function packedInputOf(trace: Trace): Hex {
  return packInput(trace.layout.inputLane, trace.states.slice(0, trace.layout.inputCount).flat())
}

/** The key of a claim on `trace`, posting `inputPacked` (by default the trace's own input). */
export function claimKeyOf(modelId: Hex, trace: Trace, claimant: string, inputPacked: Hex = packedInputOf(trace)): ClaimKey {
  return { modelId, inputRoot: trace.inputRoot, inputHash: inputHashOf(inputPacked), traceRoot: trace.traceRoot, outputRoot: trace.outputRoot, claimant }
}

export function claimIdOf(key: ClaimKey): Hex {
  return keccak256(abi.encode([CLAIM_KEY], [key]))
}

export function disputeIdOf(claimId: Hex, challenger: string): Hex {
  return keccak256(abi.encode(['bytes32', 'address'], [claimId, challenger]))
}
