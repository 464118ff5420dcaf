import type { GatherOp, IrModel, LinearOp, LookupOp, MaxOp, MulOp, OpKind, PrimitiveOp } from '../ir/types.js'
import { abi, ELEMENT_OPENING, GATHER_BODY, LINEAR_BODY, LOOKUP_BODY, MAX_BODY, MUL_BODY, STEP_HEADER, type StepHeader } from './abi.js'
import { TraceIndexError } from './errors.js'
import { type Hex, type MerkleTree, merkleProof } from './merkle.js'
import { linearRow, type ParamsCommitment } from './params.js'
import { prefixTree, type Trace } from './trace.js'

/**
 * Builds the one-step proof `IntegerOneStep.valueAt` checks for element `element` of step
 * `stepIndex`: the step header with its path in the parameter tree, the element's op
 * parameters with their path under `opRoot`, and the operands with their paths in the
 * pre-state (the prefix trace tree before the step), all taken from `trace` — the prover's
 * view of the agreed pre-state.
 */
export interface BuildOneStepProofParameters {
  model: IrModel
  params: ParamsCommitment
  trace: Trace
  stepIndex: number
  element: number
}

interface ProofContext {
  header: StepHeader
  opTree: MerkleTree | null
  trace: Trace
  pre: MerkleTree
  element: number
}

interface ElementOpening {
  value: bigint
  elementPath: Hex[]
  statePath: Hex[]
}

function openElement(ctx: ProofContext, operand: number, index: number): ElementOpening {
  const state = ctx.header.inputStates[operand]
  return {
    value: ctx.trace.states[state][index],
    elementPath: merkleProof(ctx.trace.tensorTrees[state], index),
    statePath: merkleProof(ctx.pre, state),
  }
}

/** Column `col` of the concatenated operands as (operand, index), located by the committed sizes. */
function locate(ctx: ProofContext, col: number): [number, number] {
  let offset = col
  let operand = 0
  while (offset >= ctx.header.inputSizes[operand]) offset -= ctx.header.inputSizes[operand++]
  return [operand, offset]
}

const bodyOf: { [K in OpKind]: (op: Extract<PrimitiveOp, { op: K }>, ctx: ProofContext) => { type: string; body: unknown } } = {
  linear: (op: LinearOp, ctx) => {
    const row = linearRow(op, ctx.element)
    const inputs = ctx.header.inputStates.map((state) => ({ values: ctx.trace.states[state], statePath: merkleProof(ctx.pre, state) }))
    return { type: LINEAR_BODY, body: { ...row, rowPath: merkleProof(ctx.opTree!, ctx.element), inputs } }
  },
  requant: (_op, ctx) => ({ type: ELEMENT_OPENING, body: openElement(ctx, 0, ctx.element) }),
  gather: (op: GatherOp, ctx) => {
    const source = op.index[ctx.element]
    let x: ElementOpening = { value: 0n, elementPath: [], statePath: [] }
    if (source >= 0) x = openElement(ctx, ...locate(ctx, source))
    return { type: GATHER_BODY, body: { source: BigInt(source), indexPath: merkleProof(ctx.opTree!, ctx.element), x } }
  },
  max: (op: MaxOp, ctx) => {
    const cols = Array.from(op.cols.subarray(op.rowPtr[ctx.element], op.rowPtr[ctx.element + 1]))
    // Each operand's state path once; each element only its path inside its tensor.
    const operands = ctx.header.inputStates.map((state) => ({ root: ctx.trace.tensorTrees[state].root, statePath: merkleProof(ctx.pre, state) }))
    const xs = cols.map((c) => {
      const [operand, index] = locate(ctx, c)
      const state = ctx.header.inputStates[operand]
      return { value: ctx.trace.states[state][index], elementPath: merkleProof(ctx.trace.tensorTrees[state], index) }
    })
    return { type: MAX_BODY, body: { cols, rowPath: merkleProof(ctx.opTree!, ctx.element), operands, xs } }
  },
  lookup: (op: LookupOp, ctx) => {
    const x = openElement(ctx, 0, ctx.element)
    // The prover's pre-state may hold an x outside the table (a cheater's): the proof then
    // names the nearest end, and the executor refuses the x itself.
    const at = x.value < op.offset ? 0 : Math.min(Number(x.value - op.offset), op.table.length - 1)
    return { type: LOOKUP_BODY, body: { x, entry: op.table[at], entryPath: merkleProof(ctx.opTree!, at) } }
  },
  mul: (op: MulOp, ctx) => {
    // Two full element openings (not max's shared operand roots): a product reads two
    // elements, often of two tensors, so a second state path costs about what a root would.
    const [left, right] = [op.left[ctx.element], op.right[ctx.element]]
    const a = openElement(ctx, ...locate(ctx, left))
    const b = openElement(ctx, ...locate(ctx, right))
    return { type: MUL_BODY, body: { left, right, pairPath: merkleProof(ctx.opTree!, ctx.element), a, b } }
  },
}

export function buildOneStepProof({ model, params, trace, stepIndex, element }: BuildOneStepProofParameters): Hex {
  const step = model.steps[stepIndex]
  if (!step) throw new TraceIndexError({ what: 'step', index: stepIndex, size: model.steps.length })
  const header = params.headers[stepIndex]
  if (element < 0 || element >= header.outputSize) throw new TraceIndexError({ what: `element of step ${stepIndex}`, index: element, size: header.outputSize })
  const position = params.layout.inputCount + stepIndex
  const ctx: ProofContext = { header, opTree: params.opTrees[stepIndex], trace, pre: prefixTree(trace, position - 1), element }
  const build = bodyOf[step.op.op] as (op: PrimitiveOp, c: ProofContext) => { type: string; body: unknown }
  const { type, body } = build(step.op, ctx)
  return abi.encode(['uint8', STEP_HEADER, 'bytes32[]', type], [header.kind, header, merkleProof(params.headerTree, stepIndex), body])
}

/** The `StepQuery` the game passes to the executor, as the game derives it (pre-state from `trace`). */
export function stepQuery(params: ParamsCommitment, trace: Trace, stepIndex: number, element: number) {
  const { layout } = params
  const statePosition = layout.inputCount + stepIndex
  return {
    paramsRoot: params.paramsRoot,
    stepCount: layout.stepCount,
    stateCount: layout.stateCount,
    stepIndex,
    statePosition,
    preStateRoot: trace.prefixRoots[statePosition - 1],
    element,
    outputSize: layout.stateSizes[statePosition],
  }
}
