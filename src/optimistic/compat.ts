import type { Contract, EventLog } from 'ethers'
import { inputRootMismatch } from './agent.js'
import { type DisputeView, readClaim } from './client.js'
import { type ClaimKey, claimKeyOf } from './config.js'
import { unpackInput } from './input.js'
import type { TraceLayout } from './layout.js'
import type { Hex } from './merkle.js'
import { ClaimInputError } from './op-errors.js'
import type { Trace } from './trace.js'

/**
 * Every protocol detail the agents, the demo and the op CLI use that differs between game v1
 * (one output, claimant-supplied input root, `proveInputMismatch` / `releaseDispute`) and v2
 * (several outputs, input root computed on chain, `closeMoot`). Only this file changes with
 * the protocol; the loops around it (watch.ts, remote.ts) do not.
 */

/** Ops whose one-step proof grows with the row's width (v1: the whole linear row goes into the proof). */
export const FOLD_OPS = ['linear'] as const

/** Wei the game burned (v1 burns nothing: the whole claim bond goes to the winning challenger). */
export const burnedOf = async (_game: Contract): Promise<bigint> => 0n

/** The output tensors a trace claims (v1: the single output state). */
export const traceOutputs = (trace: Trace): bigint[][] => [trace.output]

/** Trace positions of the claimed outputs. */
export const outputStatesOf = (layout: TraceLayout): number[] => [layout.outputState]

/** The posted key and outputs of a `ClaimSubmitted` log. */
export function claimFromLog(log: EventLog): { claimId: Hex; key: ClaimKey; input: Hex; outputs: bigint[][] } {
  const { claimId, key, input, output } = log.args as unknown as { claimId: Hex; key: ClaimKey; input: Hex; output: bigint[] }
  const k: ClaimKey = { modelId: key.modelId, inputRoot: key.inputRoot, inputHash: key.inputHash, traceRoot: key.traceRoot, outputRoot: key.outputRoot, claimant: key.claimant }
  return { claimId, key: k, input, outputs: [[...output]] }
}

/** A claim's posted (packed) input split into the model's input states; ClaimInputError when it does not fit. */
export function postedInputs(layout: TraceLayout, claimId: Hex, input: Hex): bigint[][] {
  const expected = layout.stateSizes.slice(0, layout.inputCount).reduce((a, b) => a + b, 0) * layout.inputLane.bytes
  const actual = (input.length - 2) / 2
  if (actual !== expected) throw new ClaimInputError({ claimId, expected, actual })
  const values = unpackInput(layout.inputLane, input)
  const inputs: bigint[][] = []
  for (let i = 0, offset = 0; i < layout.inputCount; offset += layout.stateSizes[i++]) inputs.push(values.slice(offset, offset + layout.stateSizes[i]))
  return inputs
}

/** The key of a claim this process just posted on `trace`. */
export const postedKey = (modelId: Hex, trace: Trace, claimant: string, _submitted: unknown): ClaimKey => claimKeyOf(modelId, trace, claimant)

/**
 * A dispute nobody can win any more, closed by one transaction that refunds the challenger:
 * v1, its claim was rejected by `proveInputMismatch` (`releaseDispute`).
 */
export async function mootCall(game: Contract, view: DisputeView, disputeId: Hex): Promise<{ action: string; method: string; args: unknown[] } | null> {
  if (!(await readClaim(game, view.claimId)).inputMismatch) return null
  return { action: 'releaseDispute', method: 'releaseDispute', args: [disputeId] }
}

/**
 * A claim rejected without a dispute (v1: its input root is not that of its posted input; the
 * one-shot `proveInputMismatch` shows it). Null when there is no such proof to make.
 */
export function oneShotRejection(key: ClaimKey, honest: Trace, inputPacked: Hex): { action: string; method: string; args: unknown[] } | null {
  return inputRootMismatch(key, honest) ? { action: 'proveInputMismatch', method: 'proveInputMismatch', args: [key, inputPacked] } : null
}

/** A status line note for a rejected claim (v1: rejected for its input root). */
export async function rejectionNote(game: Contract, claimId: Hex): Promise<string> {
  return (await readClaim(game, claimId)).inputMismatch ? ' (its input root is not that of its posted input)' : ''
}
