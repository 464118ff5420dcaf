import { AbiCoder, keccak256 } from 'ethers'
import type { OpKind } from '../ir/types.js'
import { type Hex, hexOf, writeHex } from '../util/hex.js'
import { keccakBytes, keccakHex, wordOf, writeInt256, ZERO_WORD } from './merkle.js'

/** ABI types shared with `verifier-contracts/optimistic` (structs as tuples, same field order). */
export const STEP_HEADER =
  'tuple(uint8 kind,uint32 outputSize,uint32[] inputStates,uint32[] inputSizes,bytes32 opRoot,int256[] consts)'
export const ELEMENT_OPENING = 'tuple(int256 value,bytes32[] elementPath,bytes32[] statePath)'
export const GATHER_BODY = `tuple(int256 source,bytes32[] indexPath,${ELEMENT_OPENING} x)`
export const LOOKUP_BODY = `tuple(${ELEMENT_OPENING} x,int256 entry,bytes32[] entryPath)`
export const MUL_BODY = `tuple(uint256 left,uint256 right,bytes32[] pairPath,${ELEMENT_OPENING} a,${ELEMENT_OPENING} b)`
/** div: the element's (num, den) columns, num = -1 for the constant 1 (then `a` is empty). */
export const DIV_BODY = `tuple(int256 num,uint256 den,bytes32[] pairPath,${ELEMENT_OPENING} a,${ELEMENT_OPENING} d)`
/** `executor.foldRow` body: a linear or max row's leaf fields and its path under opRoot. */
export const FOLD_ROW = 'tuple(int256 bias,uint256 termCount,bytes32 termsRoot,bytes32[] rowPath)'
/** `executor.foldStep` body: one term of a row, its path under termsRoot, and its operand element. */
export const FOLD_TERM = `tuple(uint256 col,int256 val,bytes32[] termPath,${ELEMENT_OPENING} x)`
export const STEP_QUERY =
  'tuple(bytes32 paramsRoot,uint256 stepCount,uint256 stateCount,uint256 stepIndex,uint256 statePosition,bytes32 preStateRoot,uint256 element,uint256 outputSize,uint256 inputCount,tuple(uint8 laneBits,int256 lo)[] inputLayouts)'
export const FOLD_QUERY = `tuple(${STEP_QUERY} step,uint256 term,uint256 termCount,bytes32 termsRoot,int256 acc)`
export const MODEL_CONFIG =
  'tuple(bytes32 paramsRoot,address executor,uint32 inputCount,uint32[] outputStates,tuple(uint8 laneBits,int256 lo)[] outputLayouts,tuple(uint8 laneBits,int248 lo,int256 hi)[] inputLayouts,uint32[] stateSizes,uint96 claimBond,uint96 challengeBond,uint64 challengeWindow,uint64 moveTimeout)'
export const CLAIM_KEY =
  'tuple(bytes32 modelId,bytes32 inputRoot,bytes32 inputHash,bytes32 traceRoot,bytes32 outputsHash,address claimant)'

/** Phases of `Phase` in GameTypes.sol, by ordinal. */
export const PHASES = [
  'None',
  'Propose',
  'Choose',
  'Reveal',
  'Open',
  'Pick',
  'Step',
  'FoldPropose',
  'FoldChoose',
  'FoldStep',
  'Resolved',
] as const
export type PhaseName = (typeof PHASES)[number]
export const CLAIM_STATUSES = ['None', 'Pending', 'Finalized', 'Rejected', 'Superseded'] as const
export type ClaimStatusName = (typeof CLAIM_STATUSES)[number]

export { OP_KIND } from '../ir/op-codes.js'

/** Ops whose element is a fold over a committed row of terms (level 3 of a dispute). */
export const FOLD_KINDS: ReadonlySet<OpKind> = new Set(['linear', 'max'])

/** `type(int256).min`: the start of a max fold. */
export const INT256_MIN = -(1n << 255n)

export const abi = AbiCoder.defaultAbiCoder()

export interface StepHeader {
  kind: number
  outputSize: number
  inputStates: number[]
  inputSizes: number[]
  opRoot: Hex
  consts: bigint[]
}

export function stepHeaderLeaf(h: StepHeader): Hex {
  return keccak256(abi.encode([STEP_HEADER], [h]))
}

const scratch96 = new Uint8Array(96)
const scratch64 = new Uint8Array(64)

/** keccak256(abi.encode(int256 bias, uint256 termCount, bytes32 termsRoot)): one row of a linear op. */
export function linearRowLeaf(bias: bigint, termCount: number, termsRoot: Hex): Hex {
  writeInt256(bias, scratch96, 0)
  writeInt256(BigInt(termCount), scratch96, 32)
  writeHex(termsRoot, scratch96, 64)
  return keccakHex(scratch96)
}

/** keccak256(abi.encode(uint256 termCount, bytes32 termsRoot)): one row (pooling window) of a max op. */
export function maxRowLeaf(termCount: number, termsRoot: Hex): Hex {
  writeInt256(BigInt(termCount), scratch64, 0)
  writeHex(termsRoot, scratch64, 32)
  return keccakHex(scratch64)
}

/** Writes keccak256(abi.encode(uint256 col, int256 val)), a linear term leaf, at `out[offset]`. */
export function writeLinearTermLeaf(col: number, val: bigint, out: Uint8Array, offset: number): void {
  scratch64.fill(0, 0, 28)
  scratch64[28] = col >>> 24
  scratch64[29] = (col >>> 16) & 0xff
  scratch64[30] = (col >>> 8) & 0xff
  scratch64[31] = col & 0xff
  writeInt256(val, scratch64, 32)
  out.set(keccakBytes(scratch64), offset)
}

/** keccak256(abi.encode(uint256 col, int256 val)): one term (column, weight) of a linear row. */
export function linearTermLeaf(col: number, val: bigint): Hex {
  const out = new Uint8Array(32)
  writeLinearTermLeaf(col, val, out, 0)
  return hexOf(out)
}

/** bytes32(col): a max term leaf (raw, as the executor checks it at a fixed depth). */
export function maxTermLeaf(col: number): Hex {
  return wordOf(BigInt(col))
}

/** termsRoot of an empty row. */
export const EMPTY_TERMS_ROOT: Hex = ZERO_WORD

/** keccak256(abi.encode(uint256 left, uint256 right)): the operand columns of one mul element. */
export function mulPairLeaf(left: number, right: number): Hex {
  return keccak256(abi.encode(['uint256', 'uint256'], [left, right]))
}

/**
 * keccak256(abi.encode(int256 num, uint256 den)): the operand columns of one div element (num
 * signed: -1 is the constant 1, a reciprocal).
 */
export function divPairLeaf(num: number, den: number): Hex {
  return keccak256(abi.encode(['int256', 'uint256'], [num, den]))
}
