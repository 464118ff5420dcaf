import { execute } from '../ir/execute.js'
import type { IrModel } from '../ir/types.js'
import { TraceIndexError } from './errors.js'
import { inputStateWords, inputWordTree } from './input.js'
import type { TraceLayout } from './layout.js'
import { traceLayout } from './layout.js'
import type { Hex } from '../util/hex.js'
import { hashPair, type MerkleTree, merkleProof, merkleTree, tensorTree, wordTree } from './merkle.js'

/**
 * The execution trace and its commitments. A step state's commitment is its tensor root; an
 * input state's is the root of its packed 32-byte words (the claim computes it from calldata).
 * The prefix root at t is the trace tree with states 0..t and zero leaves after, so agreeing
 * on the prefix root at t means agreeing on every state up to t. The trace root is the prefix
 * root at the last state; the input root the prefix root at the last input.
 */
export interface Trace {
  layout: TraceLayout
  /** Values of every state, by trace position. */
  states: bigint[][]
  /** Input states: the word trees of their packed lanes; step states: the tensor trees. */
  tensorTrees: MerkleTree[]
  /** prefixRoots[t] = root of the trace tree holding states 0..t. */
  prefixRoots: Hex[]
  inputRoot: Hex
  traceRoot: Hex
  /** Tensor roots of the outputs (`layout.outputStates`), in order. */
  outputRoots: Hex[]
  outputs: bigint[][]
}

const INT256_DOMAIN = { lo: -(1n << 255n), hi: (1n << 255n) - 1n }

/**
 * The honest trace: the reference executor's states. `anyInput`: skip the executor's check of
 * the declared input domains (the game itself refuses a posted value outside them, so a
 * watcher replaying a posted input never needs it; its trace commitment refuses them too).
 */
export function buildTrace(
  model: IrModel,
  inputs: readonly (readonly bigint[])[],
  options: { anyInput?: boolean } = {},
): Trace {
  const layout = traceLayout(model)
  const { values } = execute(
    options.anyInput ? { ...model, inputs: model.inputs.map((i) => ({ ...i, ...INT256_DOMAIN })) } : model,
    inputs,
  )
  const states = [...model.inputs.map((i) => values.get(i.id)!), ...model.steps.map((s) => values.get(s.output.id)!)]
  return traceFromStates(layout, states)
}

/** Prefix roots of the trace tree filled leaf by leaf with `roots`. */
function prefixRootsOf(roots: readonly Hex[], depth: number): Hex[] {
  // Incremental: the prefix root at t differs from the one at t-1 in leaf t only.
  const layers = merkleTree([], depth).layers.map((layer) => [...layer])
  const prefixRoots: Hex[] = []
  for (let t = 0; t < roots.length; t++) {
    layers[0][t] = roots[t]
    for (let level = 1, i = t >> 1; level <= depth; level++, i >>= 1) {
      layers[level][i] = hashPair(layers[level - 1][2 * i], layers[level - 1][2 * i + 1])
    }
    prefixRoots.push(layers[depth][0])
  }
  return prefixRoots
}

/**
 * Commitments to any sequence of states (an honest trace, or a cheater's). Input values must
 * be in their declared domains (InputEncodingError): a claim cannot post others.
 */
export function traceFromStates(layout: TraceLayout, states: readonly (readonly bigint[])[]): Trace {
  if (states.length !== layout.stateCount)
    throw new TraceIndexError({ what: 'state count', index: states.length, size: layout.stateCount + 1 })
  const tensorTrees = states.map((s, t) =>
    t < layout.inputCount ? inputWordTree(layout.inputLayouts[t], s) : tensorTree(s),
  )
  const roots = tensorTrees.map((t) => t.root)
  const prefixRoots = prefixRootsOf(roots, layout.traceDepth)
  return {
    layout,
    states: states.map((s) => [...s]),
    tensorTrees,
    prefixRoots,
    inputRoot: prefixRoots[layout.inputCount - 1],
    traceRoot: prefixRoots[layout.stateCount - 1],
    outputRoots: layout.outputStates.map((s) => roots[s]),
    outputs: layout.outputStates.map((s) => [...states[s]]),
  }
}

/**
 * `ClaimKey.inputRoot` as `OptimisticGame.claim` computes it from a packed input: the trace
 * tree holding the word-tree roots of the input states (zeros after). Throws
 * InputEncodingError on a wrong length (the claim reverts on it too).
 */
export function inputRootOf(layout: TraceLayout, packed: Hex | Uint8Array): Hex {
  return merkleTree(
    inputStateWords(layout, packed).map((words) => wordTree(words).root),
    layout.traceDepth,
  ).root
}

/** The trace tree holding states 0..t (zeros after). */
export function prefixTree(trace: Trace, t: number): MerkleTree {
  if (t < 0 || t >= trace.layout.stateCount)
    throw new TraceIndexError({ what: 'state', index: t, size: trace.layout.stateCount })
  return merkleTree(
    trace.tensorTrees.slice(0, t + 1).map((tree) => tree.root),
    trace.layout.traceDepth,
  )
}

/** Siblings of state `state` in the prefix tree at `t`. */
export function statePath(trace: Trace, t: number, state: number): Hex[] {
  return merkleProof(prefixTree(trace, t), state)
}
