import type { IrModel } from '../ir/types.js'
import type { ClaimKey } from './config.js'
import type { DisputeView, Move } from './dispute.js'
import { AgentMoveError } from './errors.js'
import { depthFor, merkleProof } from './merkle.js'
import type { Hex } from '../util/hex.js'
import { buildFoldRowProof, buildFoldStepProof, buildOneStepProof, foldAccs, isFoldOp } from './one-step.js'
import type { ParamsCommitment } from './params.js'
import { prefixTree, type Trace } from './trace.js'

export type Role = 'claimant' | 'challenger'

/** Who must move in each live phase (Step, FoldStep: the challenger's clock runs, though anyone may send the proof). */
export const MOVER: Partial<Record<DisputeView['phase'], Role>> = {
  Propose: 'claimant',
  Choose: 'challenger',
  Reveal: 'claimant',
  Open: 'claimant',
  Pick: 'challenger',
  Step: 'challenger',
  FoldPropose: 'claimant',
  FoldChoose: 'challenger',
  FoldStep: 'challenger',
}

/** Level-2 node of a tensor tree named by generalised index `pos` (root 1). */
function nodeAt(
  trace: Trace,
  state: number,
  pos: bigint,
): { depth: number; index: number; hash: (level: number, i: number) => Hex } {
  const depth = pos.toString(2).length - 1
  const index = Number(pos - (1n << BigInt(depth)))
  const tree = trace.tensorTrees[state]
  // Layer `tree.depth - depth` holds the nodes at that depth below the root.
  return { depth, index, hash: (d, i) => tree.layers[tree.depth - d][i] }
}

export interface AgentParameters {
  role: Role
  view: DisputeView
  disputeId: Hex
  /** The trace this agent believes (the honest one for an honest agent). */
  trace: Trace
  model: IrModel
  params: ParamsCommitment
}

/**
 * The honest strategy, for either role, over the agent's own trace. The claimant only ever
 * reveals values of its trace; the challenger agrees exactly with the roots equal to its
 * trace's, and picks a child that differs from its own tree — so against an honest trace
 * the dispute ends on an element whose claimed value is wrong, and the one-step proof,
 * built from the agreed pre-state, shows it. A linear or max element is a fold over its
 * row: the claimant proposes its own partial results, the challenger agrees exactly with
 * those equal to its own, so the last disputed term goes from an agreed accumulator to a
 * wrong one and its `foldStep` shows it.
 */
export function honestMove({ role, view, disputeId, trace, model, params }: AgentParameters): Move {
  const fail = (reason: string) => new AgentMoveError({ disputeId, phase: view.phase, reason })
  if (MOVER[view.phase] !== role) throw fail(`not the ${role}'s turn`)
  const mid = Math.floor((view.lo + view.hi) / 2)
  const stepIndex = view.hi - trace.layout.inputCount
  const element = () => nodeAt(trace, view.hi, view.pos).index
  const foldMid = Math.floor((view.foldLo + view.foldHi) / 2)
  switch (view.phase) {
    case 'Propose':
      return { type: 'propose', root: trace.prefixRoots[mid] }
    case 'Choose':
      return { type: 'choose', agree: view.left === trace.prefixRoots[mid] }
    case 'Reveal':
      // Leaf hi's siblings are the same in the prefix trees at hi - 1 and hi.
      return {
        type: 'reveal',
        stateRoot: trace.tensorTrees[view.hi].root,
        path: merkleProof(prefixTree(trace, view.hi), view.hi),
      }
    case 'Open': {
      const node = nodeAt(trace, view.hi, view.pos)
      if (node.hash(node.depth, node.index) !== view.rootHi) throw fail('the disputed node is not in this trace')
      return {
        type: 'open',
        left: node.hash(node.depth + 1, 2 * node.index),
        right: node.hash(node.depth + 1, 2 * node.index + 1),
      }
    }
    case 'Pick': {
      const node = nodeAt(trace, view.hi, view.pos)
      return { type: 'pick', right: view.left === node.hash(node.depth + 1, 2 * node.index) }
    }
    case 'Step': {
      const j = element()
      // A padding element must be zero: the contract checks it without a proof.
      if (j >= trace.layout.stateSizes[view.hi]) return { type: 'step', proof: '0x' }
      const p = { model, params, trace, stepIndex, element: j }
      return isFoldOp(model.steps[stepIndex].op)
        ? { type: 'startFold', proof: buildFoldRowProof(p) }
        : { type: 'step', proof: buildOneStepProof(p) }
    }
    case 'FoldPropose':
      return { type: 'foldPropose', acc: foldAccs(model, params, trace, stepIndex, element())[foldMid] }
    case 'FoldChoose':
      return {
        type: 'foldChoose',
        agree: view.accMid === foldAccs(model, params, trace, stepIndex, element())[foldMid],
      }
    case 'FoldStep':
      return {
        type: 'foldStep',
        proof: buildFoldStepProof({ model, params, trace, stepIndex, element: element(), term: view.foldLo }),
      }
    default:
      throw fail('the dispute is not live')
  }
}

/**
 * An honest watcher challenges a claim whose trace root differs from its own trace on the
 * claim's posted input (the claim computes its input root from that input, so it is never wrong).
 */
export function shouldChallenge(key: ClaimKey, honest: Trace): boolean {
  return key.traceRoot !== honest.traceRoot
}

/**
 * Rounds of a full dispute: ⌈log2(steps)⌉ bisections, then ⌈log2(elements)⌉ for the disputed
 * step, then, for a linear or max element, ⌈log2(terms)⌉ over its row (`terms`, default 0).
 */
export function roundsFor(trace: Trace, state: number, terms = 0): number {
  return depthFor(trace.layout.stepCount) + depthFor(trace.layout.stateSizes[state]) + depthFor(terms)
}
