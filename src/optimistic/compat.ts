import type { Contract, EventLog } from 'ethers'
import { FOLD_KINDS } from './abi.js'
import { type DisputeView, readClaim } from './client.js'
import type { ClaimKey } from './config.js'
import { packedInputBytes, unpackInputStates } from './input.js'
import type { TraceLayout } from './layout.js'
import type { Hex } from './merkle.js'
import { ClaimInputError } from './op-errors.js'
import type { Trace } from './trace.js'

/**
 * The protocol details the agents, the demo and the op CLI depend on (game v2: several
 * outputs, input root computed on chain, `closeMoot`, half the claim bond burned), in one
 * place: the loops around them (watch.ts, defend.ts, remote.ts) do not change with the protocol.
 */

/** Ops whose dispute ends in a fold bisection over the row's terms: the cost of a dispute grows with the row. */
export const FOLD_OPS = [...FOLD_KINDS]

/** Wei the game burned (half of every rejected claim's bond). */
export const burnedOf = async (game: Contract): Promise<bigint> => (await game.burned()) as bigint

/** The output tensors a trace claims. */
export const traceOutputs = (trace: Trace): bigint[][] => trace.outputs

/** Trace positions of the claimed outputs. */
export const outputStatesOf = (layout: TraceLayout): number[] => layout.outputStates

/** The posted key and outputs of a `ClaimSubmitted` log. */
export function claimFromLog(log: EventLog): { claimId: Hex; key: ClaimKey; input: Hex; outputs: bigint[][] } {
  const { claimId, key, input, outputs } = log.args as unknown as { claimId: Hex; key: ClaimKey; input: Hex; outputs: bigint[][] }
  const k: ClaimKey = { modelId: key.modelId, inputRoot: key.inputRoot, inputHash: key.inputHash, traceRoot: key.traceRoot, outputsHash: key.outputsHash, claimant: key.claimant }
  return { claimId, key: k, input, outputs: outputs.map((o) => [...o]) }
}

/** A claim's posted (packed) input split into the model's input states; ClaimInputError when it does not fit. */
export function postedInputs(layout: TraceLayout, claimId: Hex, input: Hex): bigint[][] {
  const expected = packedInputBytes(layout.inputLane, layout.stateSizes.slice(0, layout.inputCount))
  const actual = (input.length - 2) / 2
  if (actual !== expected) throw new ClaimInputError({ claimId, expected, actual })
  return unpackInputStates(layout, input)
}

/** The key of a claim this process just posted (`submitClaim` returns it). */
export const postedKey = (submitted: { key: ClaimKey }): ClaimKey => submitted.key

/**
 * A dispute nobody can win any more, closed by one transaction that refunds the challenger:
 * its claim was rejected by another dispute (`closeMoot`; anyone may send it).
 */
export async function mootCall(game: Contract, view: DisputeView, disputeId: Hex): Promise<{ move: 'closeMoot'; method: string; args: unknown[] } | null> {
  if ((await readClaim(game, view.claimId)).status !== 'Rejected') return null
  return { move: 'closeMoot', method: 'closeMoot', args: [disputeId] }
}
