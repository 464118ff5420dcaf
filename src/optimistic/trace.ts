import { execute } from '../ir/execute.js'
import type { IrModel } from '../ir/types.js'
import { TraceIndexError } from './errors.js'
import type { TraceLayout } from './layout.js'
import { traceLayout } from './layout.js'
import { type Hex, hashPair, type MerkleTree, merkleProof, merkleTree, tensorTree } from './merkle.js'

/**
 * The execution trace and its commitments. State t's commitment is its tensor root; the
 * prefix root at t is the trace tree with states 0..t and zero leaves after, so agreeing
 * on the prefix root at t means agreeing on every state up to t. The trace root is the
 * prefix root at the last state; the input root the prefix root at the last input.
 */
export interface Trace {
  layout: TraceLayout
  /** Values of every state, by trace position. */
  states: bigint[][]
  tensorTrees: MerkleTree[]
  /** prefixRoots[t] = root of the trace tree holding states 0..t. */
  prefixRoots: Hex[]
  inputRoot: Hex
  traceRoot: Hex
  outputRoot: Hex
  output: bigint[]
}

const INT256_DOMAIN = { lo: -(1n << 255n), hi: (1n << 255n) - 1n }

/**
 * The honest trace: the reference executor's states. `anyInput`: accept inputs outside the
 * model's calibrated domains (a watcher must: a claim may post any value its input lane holds,
 * and the game is over the integer program, whatever the input).
 */
export function buildTrace(model: IrModel, inputs: readonly (readonly bigint[])[], options: { anyInput?: boolean } = {}): Trace {
  const layout = traceLayout(model)
  const { values } = execute(options.anyInput ? { ...model, inputs: model.inputs.map((i) => ({ ...i, ...INT256_DOMAIN })) } : model, inputs)
  const states = [...model.inputs.map((i) => values.get(i.id)!), ...model.steps.map((s) => values.get(s.output.id)!)]
  return traceFromStates(layout, states)
}

/** Commitments to any sequence of states (an honest trace, or a cheater's). */
export function traceFromStates(layout: TraceLayout, states: readonly (readonly bigint[])[]): Trace {
  if (states.length !== layout.stateCount) throw new TraceIndexError({ what: 'state count', index: states.length, size: layout.stateCount + 1 })
  const tensorTrees = states.map((s) => tensorTree(s))
  const roots = tensorTrees.map((t) => t.root)
  // Incremental: the prefix root at t differs from the one at t-1 in leaf t only.
  const layers = merkleTree([], layout.traceDepth).layers.map((layer) => [...layer])
  const prefixRoots: Hex[] = []
  for (let t = 0; t < roots.length; t++) {
    layers[0][t] = roots[t]
    for (let level = 1, i = t >> 1; level <= layout.traceDepth; level++, i >>= 1) {
      layers[level][i] = hashPair(layers[level - 1][2 * i], layers[level - 1][2 * i + 1])
    }
    prefixRoots.push(layers[layout.traceDepth][0])
  }
  const output = [...states[layout.outputState]]
  return {
    layout,
    states: states.map((s) => [...s]),
    tensorTrees,
    prefixRoots,
    inputRoot: prefixRoots[layout.inputCount - 1],
    traceRoot: prefixRoots[layout.stateCount - 1],
    outputRoot: roots[layout.outputState],
    output,
  }
}

/** The trace tree holding states 0..t (zeros after). */
export function prefixTree(trace: Trace, t: number): MerkleTree {
  if (t < 0 || t >= trace.layout.stateCount) throw new TraceIndexError({ what: 'state', index: t, size: trace.layout.stateCount })
  return merkleTree(trace.tensorTrees.slice(0, t + 1).map((tree) => tree.root), trace.layout.traceDepth)
}

/** Siblings of state `state` in the prefix tree at `t`. */
export function statePath(trace: Trace, t: number, state: number): Hex[] {
  return merkleProof(prefixTree(trace, t), state)
}
