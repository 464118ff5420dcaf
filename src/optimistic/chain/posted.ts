import type { EventLog } from 'ethers'
import type { ClaimKey } from '../config.js'
import { packedInputSize, unpackInputStates } from '../input.js'
import type { TraceLayout } from '../layout.js'
import { unpackOutputs } from '../output.js'
import type { Hex } from '../../util/hex.js'
import { ClaimInputError } from './errors.js'

/**
 * A claim as posted on chain, decoded from its `ClaimSubmitted` log: what an agent that did
 * not post it (a watcher, the op CLI) needs to recompute it.
 */
export interface PostedClaim {
  claimId: Hex
  key: ClaimKey
  /** Input states, unpacked and split by the model's layout. */
  inputs: bigint[][]
  /** The input as posted (packed); `key.inputHash` is its keccak256. */
  inputPacked: Hex
  /** The claimed output tensors, unpacked. */
  outputs: bigint[][]
  /** The outputs as posted (packed); `key.outputsHash` is its keccak256. */
  outputsPacked: Hex
  blockNumber: number
}

/** The key, packed input and packed outputs of a `ClaimSubmitted` log, copied out of ethers' Result into plain values. */
export function claimFromLog(log: EventLog): { claimId: Hex; key: ClaimKey; input: Hex; outputs: Hex } {
  const { claimId, key, input, outputs } = log.args as unknown as {
    claimId: Hex
    key: ClaimKey
    input: Hex
    outputs: Hex
  }
  const k: ClaimKey = {
    modelId: key.modelId,
    inputRoot: key.inputRoot,
    inputHash: key.inputHash,
    traceRoot: key.traceRoot,
    outputsHash: key.outputsHash,
    claimant: key.claimant,
  }
  return { claimId, key: k, input, outputs }
}

/**
 * A claim's posted (packed) input split into the model's input states. ClaimInputError (which
 * names the claim) when its length does not fit the model; InputEncodingError on nonzero padding.
 */
function postedInputs(layout: TraceLayout, claimId: Hex, input: Hex): bigint[][] {
  const expected = packedInputSize(layout)
  const actual = (input.length - 2) / 2
  if (actual !== expected) throw new ClaimInputError({ claimId, expected, actual })
  return unpackInputStates(layout, input)
}

/**
 * The posted claim of a `ClaimSubmitted` log, its input and outputs unpacked by `layout`; throws
 * when they do not fit it (the game checked both, so only a log of another model's layout can).
 */
export function postedClaim(log: EventLog, layout: TraceLayout): PostedClaim {
  const { claimId, key, input, outputs } = claimFromLog(log)
  return {
    claimId,
    key,
    inputs: postedInputs(layout, claimId, input),
    inputPacked: input,
    outputs: unpackOutputs(layout.outputLayouts, outputs),
    outputsPacked: outputs,
    blockNumber: log.blockNumber,
  }
}
