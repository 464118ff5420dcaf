import { keccak256 } from 'ethers'
import { abi, CLAIM_KEY, MODEL_CONFIG } from './abi.js'
import { inputHashOf, packInputStates } from './input.js'
import { outputsHashOf, packOutputs } from './output.js'
import type { Hex } from '../util/hex.js'
import type { ParamsCommitment } from './params.js'
import { inputRootOf, type Trace } from './trace.js'

/** `ModelConfig` of OptimisticGame.sol: the model's commitment and its game parameters. */
export interface GameModelConfig {
  paramsRoot: Hex
  executor: string
  inputCount: number
  /** Trace states of the model outputs (each a step state). */
  outputStates: number[]
  /** How a claim posts each output (`LaneLayout`): the circuit's output pack layout. */
  outputLayouts: { laneBits: number; lo: bigint }[]
  /** How a claim posts each input (`InputLayout`): the circuit's input pack layout and the domain's top. */
  inputLayouts: { laneBits: number; lo: bigint; hi: bigint }[]
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
    paramsRoot: params.paramsRoot,
    inputCount: layout.inputCount,
    outputStates: layout.outputStates,
    outputLayouts: layout.outputLayouts.map((l) => ({ laneBits: l.laneBits, lo: l.lo })),
    inputLayouts: layout.inputLayouts.map((l) => ({ laneBits: l.laneBits, lo: l.lo, hi: l.hi })),
    stateSizes: layout.stateSizes,
    ...game,
  }
}

/**
 * keccak256(abi.encode(ModelConfig)): a fingerprint of the game parameters (not the model id:
 * the game registers a model under the hub's id, the IR hash `manifest.modelId`).
 */
export function gameConfigHashOf(config: GameModelConfig): Hex {
  return keccak256(abi.encode([MODEL_CONFIG], [config]))
}

/** `ClaimKey` of OptimisticGame.sol. */
export interface ClaimKey {
  modelId: Hex
  /** Computed by the claim from the posted input (`inputRootOf`). */
  inputRoot: Hex
  /** keccak256 of the packed input the claim posted. */
  inputHash: Hex
  traceRoot: Hex
  /** keccak256 of the packed outputs the claim posted (`packOutputs`), each proven in the trace. */
  outputsHash: Hex
  claimant: string
}

/** The trace's input states packed in the model's input layouts: what an honest claim posts (a proof's public input signals). */
export function packedInputOf(trace: Trace): Hex {
  return packInputStates(trace.layout.inputLayouts, trace.states.slice(0, trace.layout.inputCount))
}

/** The trace's outputs packed in the model's output layouts: what an honest claim posts. */
export function packedOutputsOf(trace: Trace): Hex {
  return packOutputs(trace.layout.outputLayouts, trace.outputs)
}

/**
 * The key of a claim on `trace`, posting `inputPacked` (by default the trace's own input): the
 * input root is the posted input's, as the claim computes it, whatever trace it was built on.
 */
export function claimKeyOf(modelId: Hex, trace: Trace, claimant: string, inputPacked?: Hex): ClaimKey {
  const inputRoot = inputPacked === undefined ? trace.inputRoot : inputRootOf(trace.layout, inputPacked)
  const packed = inputPacked ?? packedInputOf(trace)
  return {
    modelId,
    inputRoot,
    inputHash: inputHashOf(packed),
    traceRoot: trace.traceRoot,
    outputsHash: outputsHashOf(packedOutputsOf(trace)),
    claimant,
  }
}

export function claimIdOf(key: ClaimKey): Hex {
  return keccak256(abi.encode([CLAIM_KEY], [key]))
}

export function disputeIdOf(claimId: Hex, challenger: string): Hex {
  return keccak256(abi.encode(['bytes32', 'address'], [claimId, challenger]))
}
