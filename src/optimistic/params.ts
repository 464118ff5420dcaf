import type {
  DivOp,
  GatherOp,
  IrModel,
  LinearOp,
  LookupOp,
  MaxOp,
  MulOp,
  OpKind,
  PrimitiveOp,
  RequantOp,
} from '../ir/types.js'
import {
  divPairLeaf,
  EMPTY_TERMS_ROOT,
  linearRowLeaf,
  maxRowLeaf,
  mulPairLeaf,
  OP_KIND,
  type StepHeader,
  stepHeaderLeaf,
  writeLinearTermLeaf,
} from './abi.js'
import { OptimisticModelError } from './errors.js'
import type { TraceLayout } from './layout.js'
import { checkClaimSize, traceLayout } from './layout.js'
import { checkTotalOnLane } from './lane-check.js'
import { depthFor, type MerkleTree, merkleTree, wordOf, wordRootInPlace, wordTree, ZERO_WORD } from './merkle.js'
import { type Hex, hexOf } from '../util/hex.js'

/**
 * The model parameter commitment: a Merkle tree over one `StepHeader` per step. A header
 * names the op, its operand states and sizes, small constants, and `opRoot`, the root of a
 * tree of per-element parameters (a gather index per output element, a mul's operand pair
 * (left, right), a div's (num, den), a lookup's table entries; a linear or max row as (bias,)
 * termCount and termsRoot, the root of its terms) so a one-step proof reveals only the
 * parameters of the element, or the one term, it re-executes. Term trees are not kept: a proof rebuilds its
 * row's (`termTree`).
 */
export interface ParamsCommitment {
  layout: TraceLayout
  headers: StepHeader[]
  /** Per step: the tree under `opRoot` (null for requant and isqrt, which have no per-element parameters). */
  opTrees: (MerkleTree | null)[]
  headerTree: MerkleTree
  paramsRoot: string
  /** Per step: its ONNX origin (for errors and the dispute budget). */
  origins: string[]
  /** Per step: the most terms in one row (linear, max), 0 for the other ops. */
  maxTerms: number[]
}

/** Extracts row j of a linear op. */
export function linearRow(op: LinearOp, j: number): { bias: bigint; cols: number[]; vals: bigint[] } {
  const cols: number[] = []
  const vals: bigint[] = []
  for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++) {
    cols.push(op.cols[k])
    vals.push(op.vals[k])
  }
  return { bias: op.bias[j], cols, vals }
}

/** The committed row of a linear or max element: its fold start, terms and their root. */
export interface FoldRowOf {
  /** linear: the bias; max: 0 (the fold starts at type(int256).min). */
  bias: bigint
  termCount: number
  termsRoot: Hex
}

let leafBuffer = new Uint8Array(32 * 1024)

/** The leaves of row `row`'s terms, in rowPtr order, in a shared buffer with room for the whole tree. */
function termLeaves(op: LinearOp | MaxOp, row: number): { words: Uint8Array; count: number } {
  const [from, to] = [op.rowPtr[row], op.rowPtr[row + 1]]
  const count = to - from
  const need = 32 * 2 ** depthFor(count)
  if (leafBuffer.length < need) leafBuffer = new Uint8Array(need)
  const words = leafBuffer.subarray(0, need)
  if (op.op === 'linear') {
    for (let k = from; k < to; k++) writeLinearTermLeaf(op.cols[k], op.vals[k], words, 32 * (k - from))
  } else {
    words.fill(0, 0, 32 * count)
    const view = new DataView(words.buffer, words.byteOffset)
    for (let k = from; k < to; k++) view.setUint32(32 * (k - from) + 28, op.cols[k])
  }
  return { words, count }
}

/** termsRoot of a row (zero for an empty row), computed without keeping the tree. */
export function termsRootOf(op: LinearOp | MaxOp, row: number): Hex {
  const { words, count } = termLeaves(op, row)
  return count === 0 ? EMPTY_TERMS_ROOT : hexOf(wordRootInPlace(words, count))
}

/** The whole term tree of one row, rebuilt on demand for a fold proof. */
export function termTree(op: LinearOp | MaxOp, row: number): MerkleTree {
  const { words, count } = termLeaves(op, row)
  return wordTree(words.subarray(0, 32 * count), depthFor(count))
}

export function foldRowOf(op: LinearOp | MaxOp, row: number): FoldRowOf {
  return {
    bias: op.op === 'linear' ? op.bias[row] : 0n,
    termCount: op.rowPtr[row + 1] - op.rowPtr[row],
    termsRoot: termsRootOf(op, row),
  }
}

type OpCommitment = { opTree: MerkleTree | null; consts: bigint[] }
type Fail = (reason: string) => OptimisticModelError

/** The largest div shift: 2^(shift+1) is then still a positive int256. */
export const DIV_MAX_SHIFT = 253

const INT256_LIMIT = 1n << 255n
const INT256_LOW = -INT256_LIMIT
function checkInt256(values: readonly bigint[], what: string, fail: Fail): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v < INT256_LOW || v >= INT256_LIMIT) throw fail(`${what} ${v} does not fit in int256`)
  }
}

const commitOp: {
  [K in OpKind]: (
    op: Extract<PrimitiveOp, { op: K }>,
    outputSize: number,
    operandCount: number,
    fail: Fail,
  ) => OpCommitment
} = {
  linear: (op, outputSize, operandCount, fail) => {
    if (op.bias.length !== outputSize || op.rowPtr.length !== outputSize + 1)
      throw fail('linear rows do not match its output size')
    if (op.cols.some((c) => c < 0 || c >= operandCount)) throw fail('a linear column is outside its operands')
    checkInt256(op.vals, 'linear weight', fail)
    checkInt256(op.bias, 'linear bias', fail)
    const leaves = Array.from({ length: outputSize }, (_, j) =>
      linearRowLeaf(op.bias[j], op.rowPtr[j + 1] - op.rowPtr[j], termsRootOf(op, j)),
    )
    return { opTree: merkleTree(leaves), consts: [] }
  },
  requant: (op: RequantOp, outputSize, operandCount, fail) => {
    // Solidity needs 2^(shift-1) to be a positive int256.
    if (op.shift < 0 || op.shift > 255) throw fail(`requant shift ${op.shift} is outside [0, 255]`)
    if (operandCount !== outputSize) throw fail('requant is elementwise: its output must match its operand')
    const consts = [
      op.mul,
      BigInt(op.shift),
      op.zeroPoint,
      op.lo === null ? 0n : 1n,
      op.lo ?? 0n,
      op.hi === null ? 0n : 1n,
      op.hi ?? 0n,
    ]
    // An 8th constant only for half-even, so half-up headers (and model ids) stay as they were.
    if (op.rounding === 'half-even') consts.push(1n)
    checkInt256(consts, 'requant constant', fail)
    return { opTree: null, consts }
  },
  gather: (op: GatherOp, outputSize, operandCount, fail) => {
    if (op.index.length !== outputSize) throw fail('gather index map does not match its output size')
    if (op.index.some((i) => i < -1 || i >= operandCount)) throw fail('a gather index is outside its operands')
    checkInt256([op.fill], 'gather fill', fail)
    return { opTree: merkleTree(Array.from(op.index, (i) => wordOf(BigInt(i)))), consts: [op.fill] }
  },
  max: (op: MaxOp, outputSize, operandCount, fail) => {
    if (op.rowPtr.length !== outputSize + 1) throw fail('max rows do not match its output size')
    const leaves = Array.from({ length: outputSize }, (_, i) => {
      const cols = op.cols.subarray(op.rowPtr[i], op.rowPtr[i + 1])
      if (cols.length === 0) throw fail(`max row ${i} is empty`)
      if (cols.some((c) => c < 0 || c >= operandCount)) throw fail(`a column of max row ${i} is outside its operands`)
      return maxRowLeaf(cols.length, termsRootOf(op, i))
    })
    return { opTree: merkleTree(leaves), consts: [] }
  },
  lookup: (op: LookupOp, outputSize, operandCount, fail) => {
    if (operandCount !== outputSize) throw fail('lookup is elementwise: its output must match its operand')
    if (op.table.length === 0) throw fail('lookup table is empty')
    checkInt256([op.offset, ...op.table], 'lookup constant', fail)
    return { opTree: merkleTree(op.table.map(wordOf)), consts: [op.offset, BigInt(op.table.length)] }
  },
  mul: (op: MulOp, outputSize, operandCount, fail) => {
    if (op.left.length !== outputSize || op.right.length !== outputSize)
      throw fail('mul index maps do not match its output size')
    const leaves = Array.from({ length: outputSize }, (_, i) => {
      const [a, b] = [op.left[i], op.right[i]]
      if (a < 0 || a >= operandCount || b < 0 || b >= operandCount)
        throw fail(`mul element ${i} reads x[${a}] · x[${b}], outside its ${operandCount} operand elements`)
      return mulPairLeaf(a, b)
    })
    // The products' range is checked over the whole model afterwards (checkTotalOnLane).
    return { opTree: merkleTree(leaves), consts: [] }
  },
  div: (op: DivOp, outputSize, operandCount, fail) => {
    // The executor multiplies by the constant 2^(shift+1), which must be a positive int256;
    // that 2^(shift+1)·a + d fits is checked per element over the whole lane (checkTotalOnLane).
    if (!Number.isInteger(op.shift) || op.shift < 0 || op.shift > DIV_MAX_SHIFT)
      throw fail(`div shift ${op.shift} is outside [0, ${DIV_MAX_SHIFT}]`)
    if (op.num.length !== outputSize || op.den.length !== outputSize)
      throw fail('div index maps do not match its output size')
    const leaves = Array.from({ length: outputSize }, (_, i) => {
      const [n, d] = [op.num[i], op.den[i]]
      if (n < -1 || n >= operandCount || d < 0 || d >= operandCount)
        throw fail(`div element ${i} reads x[${n}] / x[${d}], outside its ${operandCount} operand elements`)
      return divPairLeaf(n, d)
    })
    return { opTree: merkleTree(leaves), consts: [BigInt(op.shift)] }
  },
  isqrt: (_op, outputSize, operandCount, fail) => {
    if (operandCount !== outputSize) throw fail('isqrt is elementwise: its output must match its operand')
    // Its operands' sign is checked over the whole model afterwards (checkTotalOnLane).
    return { opTree: null, consts: [] }
  },
}

export function commitParams(model: IrModel, layout: TraceLayout = traceLayout(model)): ParamsCommitment {
  const headers: StepHeader[] = []
  const opTrees: (MerkleTree | null)[] = []
  const maxTerms: number[] = []
  model.steps.forEach((step, i) => {
    const fail: Fail = (reason) =>
      new OptimisticModelError({ model: model.name, reason: `step ${i} ("${step.origin}"): ${reason}` })
    const inputStates = step.op.inputs.map((id) => layout.positionOf.get(id)!)
    const inputSizes = inputStates.map((s) => layout.stateSizes[s])
    const outputSize = layout.stateSizes[layout.inputCount + i]
    const operandCount = inputSizes.reduce((a, b) => a + b, 0)
    const commit = commitOp[step.op.op] as (op: PrimitiveOp, n: number, m: number, f: Fail) => OpCommitment
    const c = commit(step.op, outputSize, operandCount, fail)
    opTrees.push(c.opTree)
    maxTerms.push(step.op.op === 'linear' || step.op.op === 'max' ? widestRow(step.op.rowPtr) : 0)
    headers.push({
      kind: OP_KIND[step.op.op],
      outputSize,
      inputStates,
      inputSizes,
      opRoot: c.opTree?.root ?? ZERO_WORD,
      consts: c.consts,
    })
  })
  // After the per-op checks: the bounds analysis assumes well-formed ops.
  checkTotalOnLane(model, layout)
  checkClaimSize(model, layout)
  const headerTree = merkleTree(headers.map(stepHeaderLeaf))
  return {
    layout,
    headers,
    opTrees,
    headerTree,
    paramsRoot: headerTree.root,
    origins: model.steps.map((s) => s.origin),
    maxTerms,
  }
}

function widestRow(rowPtr: Int32Array): number {
  let widest = 0
  for (let j = 0; j + 1 < rowPtr.length; j++) widest = Math.max(widest, rowPtr[j + 1] - rowPtr[j])
  return widest
}
