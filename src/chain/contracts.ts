import { revertData } from '../util/revert-data.js'
import {
  type BaseContract,
  Contract,
  type ContractRunner,
  type ContractTransactionResponse,
  type Overrides,
  type ErrorDescription,
  Interface,
  isError,
} from 'ethers'
import { BaseError } from '../errors.js'
import type { G2Point, Uint2 } from '../prove/proof.js'
import {
  ChainTransactionError,
  InferenceNotRecordedError,
  InferenceReplayError,
  InsufficientFundsError,
  InvalidRegistrationError,
  ModelAlreadyRegisteredError,
  ModelNotRegisteredError,
  ProofRejectedError,
  PublicSignalCountError,
  RegistryOwnerError,
  RpcUnreachableError,
  VerifierOutOfGasError,
  WeightCommitmentMismatchError,
} from './errors.js'

/**
 * ABIs of the contracts in verifier-contracts/, in ethers' human-readable form. A test
 * compares them with what solc produces from the sources, so they cannot drift.
 */
export const verimlRegistryAbi = [
  'constructor(address initialOwner)',
  'error ElementTooWide(bool isInput, uint256 elementBits, uint256 maxBits)',
  'error EmptyLayout(bool isInput, uint32 count, uint16 laneBits, uint16 lanesPerElement)',
  'error ConflictingProof(bytes32 statementId)',
  'error InferenceAlreadyRecorded(bytes32 inferenceId)',
  'error InvalidSettler(bytes32 modelId, address settler, uint8 how)',
  'error NotSettler(bytes32 modelId, address caller)',
  'error InferenceNotRecorded(bytes32 inferenceId)',
  'error LaneRangeOverflow(bool isInput, int256 lo, uint16 laneBits)',
  'error LayoutForUnpackedPart(bool isInput, uint8 visibility)',
  'error ModelAlreadyRegistered(bytes32 modelId, address verifier)',
  'error ModelNotRegistered(bytes32 modelId)',
  'error NotOwner(address caller)',
  'error NotPendingOwner(address caller)',
  'error OutputNotExposed()',
  'error PartNotPublic(bytes32 modelId, bool isInput)',
  'error ProofRejected(bytes32 modelId)',
  'error PublicSignalCountMismatch(bytes32 modelId, uint256 expected, uint256 actual)',
  'error SignalNotInField(uint256 index, uint256 value)',
  'error TooManyPublicSignals(uint256 count)',
  'error VerifierCallFailed(bytes32 modelId, address verifier)',
  'error VerifierHasNoCode(address verifier)',
  'error VerifierOutOfGas(bytes32 modelId)',
  'error VerifierProbeFailed(address verifier, uint256 publicSignalCount)',
  'error WeightCommitmentMismatch(bytes32 modelId, uint256 expected, uint256 actual)',
  'error ZeroAddress()',
  'error ZeroModelId()',
  'event ModelRegistered(bytes32 indexed modelId, address indexed verifier, uint16 publicSignalCount, uint8 inputVisibility, uint8 outputVisibility)',
  'event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner)',
  'event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)',
  'event ResultRecorded(bytes32 indexed statementId, bytes32 indexed modelId, bytes32 inputCommitment, uint8 how, bytes32 outputsHash)',
  'event SettlerBound(bytes32 indexed modelId, address indexed settler, uint8 how)',
  'function PACK_BITS() view returns (uint256)',
  'function SNARK_SCALAR_FIELD() view returns (uint256)',
  'function VERIFY_GAS_BASE() view returns (uint256)',
  'function VERIFY_GAS_PER_SIGNAL() view returns (uint256)',
  'function acceptOwnership()',
  'function decodeInputs(bytes32 modelId, uint256[] pubSignals) view returns (int256[])',
  'function decodeOutputs(bytes32 modelId, uint256[] pubSignals) view returns (int256[])',
  'function bindSettler(bytes32 modelId, address settler, uint8 how)',
  'function gameOf(bytes32 modelId) view returns (address)',
  'function outputsMatch(bytes32 statementId, bytes32 outputsHash) view returns (bool)',
  'function record(bytes32 modelId, bytes32 inputCommitment, bytes32 outputsHash) returns (uint8 how, bool agrees)',
  'function result(bytes32 statementId) view returns (uint8 how, uint40 at, bytes32 outputsHash)',
  'function resultOf(bytes32 modelId, bytes32 inputCommitment) view returns (uint8 how, uint40 at, bytes32 outputsHash)',
  'function settlerOf(bytes32 modelId, address settler) view returns (uint8)',
  'function statementIdFor(bytes32 modelId, bytes32 inputCommitment) pure returns (bytes32)',
  'function statementIdOf(bytes32 modelId, uint256[] pubSignals) view returns (bytes32 statementId, bytes32 outputsHash)',
  'function inputLayout(bytes32 modelId) view returns ((uint32 count, uint16 laneBits, uint16 lanesPerElement, int256 lo))',
  'function isRecorded(bytes32 statementId) view returns (bool)',
  'function model(bytes32 modelId) view returns ((address verifier, bytes4 selector, uint16 publicSignalCount, uint16 inputSignalCount, uint8 inputVisibility, uint8 outputVisibility, bool hashedWeights))',
  'function outputLayout(bytes32 modelId) view returns ((uint32 count, uint16 laneBits, uint16 lanesPerElement, int256 lo))',
  'function owner() view returns (address)',
  'function pendingOwner() view returns (address)',
  'function registerModel(bytes32 modelId, (address verifier, uint8 inputVisibility, uint8 outputVisibility, (uint32 count, uint16 laneBits, uint16 lanesPerElement, int256 lo) inputLayout, (uint32 count, uint16 laneBits, uint16 lanesPerElement, int256 lo) outputLayout, uint256 weightCommitment) config) returns (uint16 publicSignalCount)',
  'function splitSignals(bytes32 modelId, uint256[] pubSignals) view returns (uint256[] inputPart, uint256[] outputPart)',
  'function transferOwnership(address newOwner)',
  'function weightCommitment(bytes32 modelId) view returns (uint256)',
  'function verifyInference(bytes32 modelId, uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[] pubSignals) returns (bytes32 inferenceId)',
  'function checkInference(bytes32 modelId, uint256[2] a, uint256[2][2] b, uint256[2] c, uint256[] pubSignals) view returns (bytes32 inferenceId, int256[] outputs)',
] as const

export const inferenceConsumerAbi = [
  'constructor(address registry_, bytes32 modelId_)',
  'error ConflictingClass(bytes32 inputKey, uint256 recorded, uint256 claimed)',
  'error InferenceNotVerified(bytes32 inferenceId)',
  'error ModelNotUsable(bytes32 modelId)',
  'event Classified(bytes32 indexed inputKey, bytes32 indexed inferenceId, uint256 classIndex, int256 score)',
  'function classOf(bytes32 inputKey) view returns (bool known, uint256 classIndex)',
  'function consume(uint256[] pubSignals) returns (uint256 classIndex)',
  'function modelId() view returns (bytes32)',
  'function registry() view returns (address)',
] as const

/** snarkjs's generated verifier for a model with `publicSignalCount` public signals. */
export function groth16VerifierAbi(publicSignalCount: number) {
  return [
    `function verifyProof(uint256[2] _pA, uint256[2][2] _pB, uint256[2] _pC, uint256[${publicSignalCount}] _pubSignals) view returns (bool)`,
  ] as const
}

/** The Solidity enum `IVerimlRegistryTypes.Settlement`, by value: how a statement was settled. */
export const SETTLEMENTS = ['none', 'proof', 'optimistic', 'onchain'] as const
export type Settlement = (typeof SETTLEMENTS)[number]
export const SETTLEMENT_CODE = { none: 0, proof: 1, optimistic: 2, onchain: 3 } as const satisfies Record<
  Settlement,
  number
>

/** Matches the Solidity enum `VerimlRegistry.Visibility`. */
export const VISIBILITY_CODE = { private: 0, public: 1, hashed: 2 } as const
export type Visibility = keyof typeof VISIBILITY_CODE
const VISIBILITY_NAME = Object.fromEntries(Object.entries(VISIBILITY_CODE).map(([name, code]) => [code, name]))

export interface PackLayoutStruct {
  count: number | bigint
  laneBits: number | bigint
  lanesPerElement: number | bigint
  lo: bigint
}

export interface ModelConfigStruct {
  verifier: string
  inputVisibility: number
  outputVisibility: number
  inputLayout: PackLayoutStruct
  outputLayout: PackLayoutStruct
  /** 0n: weights are circuit constants; else the Poseidon weight commitment every proof's last signal must equal. */
  weightCommitment: bigint
}

/** A contract write: call it to send, or use `staticCall` / `estimateGas` to dry-run. */
export interface WriteMethod<A extends unknown[], R> {
  (...args: A | [...A, Overrides]): Promise<ContractTransactionResponse>
  staticCall(...args: A | [...A, Overrides]): Promise<R>
  estimateGas(...args: A | [...A, Overrides]): Promise<bigint>
  send(...args: A | [...A, Overrides]): Promise<ContractTransactionResponse>
}

export type VerimlRegistryContract = BaseContract & {
  registerModel: WriteMethod<[modelId: string, config: ModelConfigStruct], bigint>
  verifyInference: WriteMethod<[modelId: string, a: Uint2, b: G2Point, c: Uint2, pubSignals: bigint[]], string>
  checkInference: WriteMethod<
    [modelId: string, a: Uint2, b: G2Point, c: Uint2, pubSignals: bigint[]],
    [string, bigint[]]
  >
  transferOwnership: WriteMethod<[newOwner: string], void>
  acceptOwnership: WriteMethod<[], void>
  owner(): Promise<string>
  pendingOwner(): Promise<string>
  isRecorded(statementId: string): Promise<boolean>
  statementIdOf(modelId: string, pubSignals: bigint[]): Promise<[statementId: string, outputsHash: string]>
  statementIdFor(modelId: string, inputCommitment: string): Promise<string>
  outputsMatch(statementId: string, outputsHash: string): Promise<boolean>
  /** how: SETTLEMENTS[how]; outputsHash: its top 208 bits (low 48 bits zero). */
  result(statementId: string): Promise<[how: bigint, at: bigint, outputsHash: string]>
  resultOf(modelId: string, inputCommitment: string): Promise<[how: bigint, at: bigint, outputsHash: string]>
  gameOf(modelId: string): Promise<string>
  settlerOf(modelId: string, settler: string): Promise<bigint>
  bindSettler: WriteMethod<[modelId: string, settler: string, how: number], void>
  record: WriteMethod<[modelId: string, inputCommitment: string, outputsHash: string], [how: bigint, agrees: boolean]>
  model(modelId: string): Promise<{
    verifier: string
    selector: string
    publicSignalCount: bigint
    inputSignalCount: bigint
    inputVisibility: bigint
    outputVisibility: bigint
    hashedWeights: boolean
  }>
  weightCommitment(modelId: string): Promise<bigint>
  inputLayout(modelId: string): Promise<{ count: bigint; laneBits: bigint; lanesPerElement: bigint; lo: bigint }>
  outputLayout(modelId: string): Promise<{ count: bigint; laneBits: bigint; lanesPerElement: bigint; lo: bigint }>
  splitSignals(modelId: string, pubSignals: bigint[]): Promise<[bigint[], bigint[]]>
  decodeOutputs(modelId: string, pubSignals: bigint[]): Promise<bigint[]>
  decodeInputs(modelId: string, pubSignals: bigint[]): Promise<bigint[]>
}

export type InferenceConsumerContract = BaseContract & {
  consume: WriteMethod<[pubSignals: bigint[]], bigint>
  classOf(inputKey: string): Promise<[boolean, bigint]>
  modelId(): Promise<string>
  registry(): Promise<string>
}

export const verimlRegistryInterface = Interface.from(verimlRegistryAbi)

export function verimlRegistry(address: string, runner: ContractRunner): VerimlRegistryContract {
  return new Contract(address, verimlRegistryAbi, runner) as unknown as VerimlRegistryContract
}

export function inferenceConsumer(address: string, runner: ContractRunner): InferenceConsumerContract {
  return new Contract(address, inferenceConsumerAbi, runner) as unknown as InferenceConsumerContract
}

export interface ErrorContext {
  /** What was being done, e.g. "verifyInference". */
  action: string
  rpcUrl: string
  modelId?: string
  gasLimit?: bigint
  /** The sender, named when it cannot pay. */
  account?: string
}

export { revertData } from '../util/revert-data.js'

function isNetworkError(error: unknown): boolean {
  if (isError(error, 'NETWORK_ERROR') || isError(error, 'TIMEOUT')) return true
  const text = `${(error as { message?: unknown })?.message ?? ''} ${String((error as { cause?: unknown })?.cause ?? '')}`
  return /ECONNREFUSED|ECONNRESET|fetch failed|socket hang up/i.test(text)
}

/**
 * Turns a failed registry call into veriml's typed error: the registry's custom errors map
 * one to one, connection failures to RpcUnreachableError; the rest is wrapped once.
 */
export function decodeRegistryError(error: unknown, context: ErrorContext): BaseError {
  if (error instanceof BaseError) return error
  if (isNetworkError(error)) return new RpcUnreachableError({ rpcUrl: context.rpcUrl, cause: error })
  // No cause kept: ethers' message quotes the whole signed transaction (tens of KB of hex).
  if (isError(error, 'INSUFFICIENT_FUNDS'))
    return new InsufficientFundsError({ action: context.action, account: context.account })
  const data = revertData(error)
  const parsed = data === undefined ? null : verimlRegistryInterface.parseError(data)
  if (parsed) {
    const args = parsed.args
    switch (parsed.name) {
      case 'ModelNotRegistered':
        return new ModelNotRegisteredError({ modelId: args[0] as string })
      case 'PublicSignalCountMismatch':
        return new PublicSignalCountError({
          modelId: args[0] as string,
          expected: Number(args[1]),
          actual: Number(args[2]),
        })
      case 'ProofRejected':
        return new ProofRejectedError({ modelId: args[0] as string, cause: error })
      case 'SignalNotInField':
        // A non-canonical signal is simply not a statement the verifier could accept.
        return new ProofRejectedError({ modelId: context.modelId ?? 'unknown', cause: error })
      case 'VerifierOutOfGas':
        return new VerifierOutOfGasError({ modelId: args[0] as string, gasLimit: context.gasLimit, cause: error })
      case 'InferenceAlreadyRecorded':
        return new InferenceReplayError({ inferenceId: args[0] as string, cause: error })
      case 'InferenceNotRecorded':
        return new InferenceNotRecordedError({ inferenceId: args[0] as string })
      case 'WeightCommitmentMismatch':
        return new WeightCommitmentMismatchError({
          modelId: args[0] as string,
          expected: args[1] as bigint,
          actual: args[2] as bigint,
          cause: error,
        })
      case 'ModelAlreadyRegistered':
        return new ModelAlreadyRegisteredError({ modelId: args[0] as string, verifier: args[1] as string })
      case 'NotOwner':
        return new RegistryOwnerError({
          action: context.action,
          caller: args[0] as string,
          role: 'owner',
          cause: error,
        })
      case 'NotPendingOwner':
        return new RegistryOwnerError({
          action: context.action,
          caller: args[0] as string,
          role: 'pending owner',
          cause: error,
        })
    }
    const refusal = registrationRefusal(parsed)
    if (refusal !== undefined) {
      return new InvalidRegistrationError({
        action: context.action,
        errorName: parsed.name,
        reason: refusal,
        cause: error,
      })
    }
    return new ChainTransactionError({
      action: context.action,
      reason: `reverted with ${parsed.signature} ${args.join(', ')}`,
      cause: error,
    })
  }
  const reason =
    (error as { shortMessage?: string; message?: string })?.shortMessage ?? String((error as Error)?.message ?? error)
  return new ChainTransactionError({ action: context.action, reason, cause: error })
}

/** Why registerModel refused a configuration, in words (undefined: not a registration error). */
function registrationRefusal({ name, args }: ErrorDescription): string | undefined {
  const part = () => (args[0] ? 'input' : 'output')
  switch (name) {
    case 'ZeroModelId':
      return 'the zero model id is reserved'
    case 'VerifierHasNoCode':
      return `no contract code at the verifier address ${args[0]}`
    case 'OutputNotExposed':
      return 'the model output is private, so a proof would show nothing usable: make it public or hashed'
    case 'LayoutForUnpackedPart':
      return `the ${part()} is ${VISIBILITY_NAME[Number(args[1])]}, yet a packing layout was given (it must be all zero)`
    case 'EmptyLayout':
      return `the public ${part()} has an empty packing layout (count ${args[1]}, laneBits ${args[2]}, lanesPerElement ${args[3]}: each must be positive)`
    case 'ElementTooWide':
      return `a packed ${part()} element takes ${args[1]} bits, more than the ${args[2]} a field element holds without wrapping`
    case 'LaneRangeOverflow':
      return `the public ${part()}'s values from ${args[1]} over ${args[2]}-bit lanes would not fit int256`
    case 'TooManyPublicSignals':
      return `the configuration implies ${args[0]} public signals, more than 65535`
    case 'VerifierProbeFailed':
      return `the verifier at ${args[0]} does not answer verifyProof with ${args[1]} public signals as a snarkjs Groth16 verifier does`
  }
  return undefined
}
