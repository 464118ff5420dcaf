import { AbiCoder, keccak256 } from 'ethers'
import type { OpKind } from '../ir/types.js'
import type { Hex } from './merkle.js'

/** ABI types shared with `verifier-contracts/optimistic` (structs as tuples, same field order). */
export const STEP_HEADER = 'tuple(uint8 kind,uint32 outputSize,uint32[] inputStates,uint32[] inputSizes,bytes32 opRoot,int256[] consts)'
export const TENSOR_OPENING = 'tuple(int256[] values,bytes32[] statePath)'
export const ELEMENT_OPENING = 'tuple(int256 value,bytes32[] elementPath,bytes32[] statePath)'
export const LINEAR_BODY = `tuple(int256 bias,uint256[] cols,int256[] vals,bytes32[] rowPath,${TENSOR_OPENING}[] inputs)`
export const GATHER_BODY = `tuple(int256 source,bytes32[] indexPath,${ELEMENT_OPENING} x)`
export const ROOT_OPENING = 'tuple(bytes32 root,bytes32[] statePath)'
export const VALUE_OPENING = 'tuple(int256 value,bytes32[] elementPath)'
export const MAX_BODY = `tuple(uint256[] cols,bytes32[] rowPath,${ROOT_OPENING}[] operands,${VALUE_OPENING}[] xs)`
export const LOOKUP_BODY = `tuple(${ELEMENT_OPENING} x,int256 entry,bytes32[] entryPath)`
export const MUL_BODY = `tuple(uint256 left,uint256 right,bytes32[] pairPath,${ELEMENT_OPENING} a,${ELEMENT_OPENING} b)`
export const MODEL_CONFIG =
  'tuple(bytes32 paramsRoot,address executor,uint32 inputCount,uint32 outputState,uint8 inputLaneBytes,bool inputSigned,uint32[] stateSizes,uint96 claimBond,uint96 challengeBond,uint64 challengeWindow,uint64 moveTimeout)'
export const CLAIM_KEY = 'tuple(bytes32 modelId,bytes32 inputRoot,bytes32 inputHash,bytes32 traceRoot,bytes32 outputRoot,address claimant)'

/** Op kind numbers, as `IntegerOps.KIND_*`. A new primitive fails to type-check here. */
export const OP_KIND: { [K in OpKind]: number } = { linear: 0, requant: 1, gather: 2, max: 3, lookup: 4, mul: 5 }

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

/** keccak256(abi.encode(int256 bias, uint256[] cols, int256[] vals)): one row of a linear op. */
export function linearRowLeaf(bias: bigint, cols: readonly number[], vals: readonly bigint[]): Hex {
  return keccak256(abi.encode(['int256', 'uint256[]', 'int256[]'], [bias, cols, vals]))
}

/** keccak256(abi.encode(uint256[] cols)): one row (pooling window) of a max op. */
export function maxRowLeaf(cols: readonly number[]): Hex {
  return keccak256(abi.encode(['uint256[]'], [cols]))
}

/** keccak256(abi.encode(uint256 left, uint256 right)): the operand columns of one mul element. */
export function mulPairLeaf(left: number, right: number): Hex {
  return keccak256(abi.encode(['uint256', 'uint256'], [left, right]))
}
