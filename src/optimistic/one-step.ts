import type { DivOp, GatherOp, IrModel, LinearOp, LookupOp, MaxOp, MulOp, OpKind, PrimitiveOp } from '../ir/types.js'
import {
  abi,
  DIV_BODY,
  ELEMENT_OPENING,
  FOLD_KINDS,
  FOLD_ROW,
  FOLD_TERM,
  GATHER_BODY,
  INT256_MIN,
  LOOKUP_BODY,
  MUL_BODY,
  STEP_HEADER,
  type StepHeader,
} from './abi.js'
import { FoldRequiredError, TraceIndexError } from './errors.js'
import { laneWordOf } from './input.js'
import type { Hex } from '../util/hex.js'
import { type MerkleTree, merkleProof, valueOfWord } from './merkle.js'
import { foldRowOf, type ParamsCommitment, termTree } from './params.js'
import { prefixTree, type Trace } from './trace.js'

/**
 * One-step proofs, as `IntegerOneStep` checks them, for one element of one step: the step
 * header with its path in the parameter tree, the element's op parameters with their path
 * under `opRoot`, and operand elements with their paths in the pre-state (the prefix trace
 * tree before the step), all taken from `trace` — the prover's view of the agreed pre-state.
 * requant, gather, lookup, mul, div and isqrt elements are re-executed whole (`valueAt`); a
 * linear or max element is a fold over its row's terms, proven one term at a time (`foldRow`,
 * `foldStep`).
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

export interface ElementOpening {
  value: bigint
  elementPath: Hex[]
  statePath: Hex[]
}

/**
 * Element `index` of operand `operand`. An input state is committed as the tree of its packed
 * words: the opening carries the word holding the lane (the executor decodes the lane).
 */
function openElement(ctx: ProofContext, operand: number, index: number): ElementOpening {
  const state = ctx.header.inputStates[operand]
  const tree = ctx.trace.tensorTrees[state]
  const statePath = merkleProof(ctx.pre, state)
  if (state < ctx.trace.layout.inputCount) {
    const { word } = laneWordOf(ctx.trace.layout.inputLayouts[state], index)
    return { value: valueOfWord(tree.layers[0][word]), elementPath: merkleProof(tree, word), statePath }
  }
  return { value: ctx.trace.states[state][index], elementPath: merkleProof(tree, index), statePath }
}

/** Column `col` of the concatenated operands as (operand, index), located by the committed sizes. */
function locate(header: StepHeader, col: number): [number, number] {
  let offset = col
  let operand = 0
  while (offset >= header.inputSizes[operand]) offset -= header.inputSizes[operand++]
  return [operand, offset]
}

/** The opening of no element (a gather fill, a reciprocal's numerator). */
const EMPTY_OPENING: ElementOpening = { value: 0n, elementPath: [], statePath: [] }

type ValueKind = Exclude<OpKind, 'linear' | 'max'>
const bodyOf: {
  [K in ValueKind]: (op: Extract<PrimitiveOp, { op: K }>, ctx: ProofContext) => { type: string; body: unknown }
} = {
  requant: (_op, ctx) => ({ type: ELEMENT_OPENING, body: openElement(ctx, 0, ctx.element) }),
  gather: (op: GatherOp, ctx) => {
    const source = op.index[ctx.element]
    let x = EMPTY_OPENING
    if (source >= 0) x = openElement(ctx, ...locate(ctx.header, source))
    return { type: GATHER_BODY, body: { source: BigInt(source), indexPath: merkleProof(ctx.opTree!, ctx.element), x } }
  },
  lookup: (op: LookupOp, ctx) => {
    const x = openElement(ctx, 0, ctx.element)
    const v = ctx.trace.states[ctx.header.inputStates[0]][ctx.element]
    // The prover's pre-state may hold an x outside the table (a cheater's): the proof then
    // names the nearest end, and the executor refuses the x itself.
    const at = v < op.offset ? 0 : Math.min(Number(v - op.offset), op.table.length - 1)
    return { type: LOOKUP_BODY, body: { x, entry: op.table[at], entryPath: merkleProof(ctx.opTree!, at) } }
  },
  mul: (op: MulOp, ctx) => {
    const [left, right] = [op.left[ctx.element], op.right[ctx.element]]
    const a = openElement(ctx, ...locate(ctx.header, left))
    const b = openElement(ctx, ...locate(ctx.header, right))
    return { type: MUL_BODY, body: { left, right, pairPath: merkleProof(ctx.opTree!, ctx.element), a, b } }
  },
  div: (op: DivOp, ctx) => {
    const [num, den] = [op.num[ctx.element], op.den[ctx.element]]
    // A reciprocal (num = -1) divides the constant 1: no numerator to open.
    const a = num < 0 ? EMPTY_OPENING : openElement(ctx, ...locate(ctx.header, num))
    const d = openElement(ctx, ...locate(ctx.header, den))
    return { type: DIV_BODY, body: { num, den, pairPath: merkleProof(ctx.opTree!, ctx.element), a, d } }
  },
  isqrt: (_op, ctx) => ({ type: ELEMENT_OPENING, body: openElement(ctx, 0, ctx.element) }),
}

function contextOf({ model, params, trace, stepIndex, element }: BuildOneStepProofParameters): {
  ctx: ProofContext
  op: PrimitiveOp
} {
  const step = model.steps[stepIndex]
  if (!step) throw new TraceIndexError({ what: 'step', index: stepIndex, size: model.steps.length })
  const header = params.headers[stepIndex]
  if (element < 0 || element >= header.outputSize)
    throw new TraceIndexError({ what: `element of step ${stepIndex}`, index: element, size: header.outputSize })
  const position = params.layout.inputCount + stepIndex
  return {
    ctx: { header, opTree: params.opTrees[stepIndex], trace, pre: prefixTree(trace, position - 1), element },
    op: step.op,
  }
}

function encodeProof(ctx: ProofContext, params: ParamsCommitment, stepIndex: number, type: string, body: unknown): Hex {
  return abi.encode(
    ['uint8', STEP_HEADER, 'bytes32[]', type],
    [ctx.header.kind, ctx.header, merkleProof(params.headerTree, stepIndex), body],
  )
}

/** Whether elements of this op are proven by a fold (`startFold`, level 3) rather than `step`. */
export function isFoldOp(op: PrimitiveOp): op is LinearOp | MaxOp {
  return FOLD_KINDS.has(op.op)
}

/** The `executor.valueAt` proof of a requant, gather, lookup, mul, div or isqrt element; FoldRequiredError for linear and max. */
export function buildOneStepProof(p: BuildOneStepProofParameters): Hex {
  const { ctx, op } = contextOf(p)
  if (isFoldOp(op)) throw new FoldRequiredError({ stepIndex: p.stepIndex, op: op.op })
  const build = bodyOf[op.op] as (op: PrimitiveOp, c: ProofContext) => { type: string; body: unknown }
  const { type, body } = build(op, ctx)
  return encodeProof(ctx, p.params, p.stepIndex, type, body)
}

function foldOp(p: BuildOneStepProofParameters): { ctx: ProofContext; op: LinearOp | MaxOp } {
  const { ctx, op } = contextOf(p)
  if (!isFoldOp(op)) throw new FoldRequiredError({ stepIndex: p.stepIndex, op: op.op, fold: false })
  return { ctx, op }
}

/** The `executor.foldRow` proof (`startFold`): the element's row leaf fields and its path under opRoot. */
export function buildFoldRowProof(p: BuildOneStepProofParameters): Hex {
  const { ctx, op } = foldOp(p)
  const row = foldRowOf(op, p.element)
  return encodeProof(ctx, p.params, p.stepIndex, FOLD_ROW, { ...row, rowPath: merkleProof(ctx.opTree!, p.element) })
}

/** The `executor.foldStep` proof of term `term` of the element's row: the term, its path under termsRoot, its operand. */
export function buildFoldStepProof(p: BuildOneStepProofParameters & { term: number }): Hex {
  const { ctx, op } = foldOp(p)
  const [from, to] = [op.rowPtr[p.element], op.rowPtr[p.element + 1]]
  if (p.term < 0 || p.term >= to - from)
    throw new TraceIndexError({
      what: `term of step ${p.stepIndex} element ${p.element}`,
      index: p.term,
      size: to - from,
    })
  const col = op.cols[from + p.term]
  const val = op.op === 'linear' ? op.vals[from + p.term] : 0n
  const x = openElement(ctx, ...locate(ctx.header, col))
  return encodeProof(ctx, p.params, p.stepIndex, FOLD_TERM, {
    col,
    val,
    termPath: merkleProof(termTree(op, p.element), p.term),
    x,
  })
}

/**
 * The fold of a linear or max element over `trace`'s operands: accs[k] is the result after the
 * first k terms (accs[0] the bias, or type(int256).min for max), so accs[termCount] is the
 * element. This is what an honest party proposes and agrees with at level 3.
 */
export function foldAccs(
  model: IrModel,
  params: ParamsCommitment,
  trace: Trace,
  stepIndex: number,
  element: number,
): bigint[] {
  const op = model.steps[stepIndex]?.op
  if (!op || !isFoldOp(op)) throw new FoldRequiredError({ stepIndex, op: op?.op ?? 'none', fold: false })
  const header = params.headers[stepIndex]
  const x = (col: number) => {
    const [operand, index] = locate(header, col)
    return trace.states[header.inputStates[operand]][index]
  }
  const accs = [op.op === 'linear' ? op.bias[element] : INT256_MIN]
  for (let k = op.rowPtr[element]; k < op.rowPtr[element + 1]; k++) {
    const acc = accs[accs.length - 1]
    if (op.op === 'linear') accs.push(acc + op.vals[k] * x(op.cols[k]))
    else {
      const v = x(op.cols[k])
      accs.push(v > acc ? v : acc)
    }
  }
  return accs
}

export interface StepQuery {
  paramsRoot: Hex
  stepCount: number
  stateCount: number
  stepIndex: number
  statePosition: number
  preStateRoot: Hex
  element: number
  outputSize: number
  inputCount: number
  /** Each input state's lane layout. */
  inputLayouts: { laneBits: number; lo: bigint }[]
}

/** The `StepQuery` the game passes to the executor, as the game derives it (pre-state from `trace`). */
export function stepQuery(params: ParamsCommitment, trace: Trace, stepIndex: number, element: number): StepQuery {
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
    inputCount: layout.inputCount,
    inputLayouts: layout.inputLayouts.map((l) => ({ laneBits: l.laneBits, lo: l.lo })),
  }
}

export interface FoldQuery {
  step: StepQuery
  term: number
  termCount: number
  termsRoot: Hex
  acc: bigint
}

/** The `FoldQuery` of term `term` of a fold element, its accumulator `acc` (the agreed one). */
export function foldQuery(
  model: IrModel,
  params: ParamsCommitment,
  trace: Trace,
  stepIndex: number,
  element: number,
  term: number,
  acc: bigint,
): FoldQuery {
  const op = model.steps[stepIndex].op
  if (!isFoldOp(op)) throw new FoldRequiredError({ stepIndex, op: op.op, fold: false })
  const { termCount, termsRoot } = foldRowOf(op, element)
  return { step: stepQuery(params, trace, stepIndex, element), term, termCount, termsRoot, acc }
}
