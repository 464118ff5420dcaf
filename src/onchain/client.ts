import { revertData } from '../util/revert-data.js'
import type { Contract } from 'ethers'
import { solidityPackedKeccak256 } from 'ethers'
import { modelId } from '../ir/serialize.js'
import type { IrModel } from '../ir/types.js'
import { type Hex, hexOf } from '../util/hex.js'
import { encodeProgram } from './encode.js'
import { onchainArtifacts } from './contracts.js'
import { OnchainRevertError } from './errors.js'

/** A revert of the on-chain model becomes an OnchainRevertError naming its custom error. */
export function decodeOnchainRevert(action: string, error: unknown): OnchainRevertError {
  const data = revertData(error)
  const parsed = data ? onchainArtifacts().errors.parseError(data) : null
  const errorName = parsed ? parsed.name : data ? `unknown(${data.slice(0, 10)})` : 'unknown'
  return new OnchainRevertError({ action, errorName, args: parsed ? [...parsed.args] : [], cause: error })
}

/** The contract's input: the model's inputs concatenated in order. */
export const flatInput = (inputs: readonly (readonly bigint[])[]): bigint[] => inputs.flat()

/** keccak256 of the input as given (abi.encodePacked int256[]): the statement's input commitment. */
export function inputCommitment(inputs: readonly (readonly bigint[])[]): Hex {
  return solidityPackedKeccak256(['int256[]'], [flatInput(inputs)])
}

/** The model's outputs on `inputs`, computed by the contract (a call: nothing is recorded). */
export async function executeOnchain(model: Contract, inputs: readonly (readonly bigint[])[]): Promise<bigint[][]> {
  try {
    const outputs = (await model.execute(flatInput(inputs))) as bigint[][]
    return outputs.map((o) => [...o])
  } catch (error) {
    throw decodeOnchainRevert('execute', error)
  }
}

export interface RunOnchainReturnType {
  inputCommitment: Hex
  /** The outputs, concatenated in order. */
  outputs: bigint[]
  gasUsed: bigint
  hash: string
}

/** Runs the model on `inputs` in one transaction and records the result. */
export async function runOnchain(
  model: Contract,
  inputs: readonly (readonly bigint[])[],
): Promise<RunOnchainReturnType> {
  const flat = flatInput(inputs)
  try {
    const [commitment, outputs] = (await model.run.staticCall(flat)) as [Hex, bigint[]]
    const receipt = await (await model.run(flat)).wait()
    return { inputCommitment: commitment, outputs: [...outputs], gasUsed: receipt.gasUsed, hash: receipt.hash }
  } catch (error) {
    throw decodeOnchainRevert('run', error)
  }
}

export interface OnchainResult {
  recorded: boolean
  submitter: string
  blockNumber: bigint
  outputs: bigint[]
}

/** The recorded result of an input commitment (recorded false when there is none). */
export async function onchainResultOf(model: Contract, commitment: Hex): Promise<OnchainResult> {
  const [recorded, submitter, blockNumber, outputs] = (await model.resultOf(commitment)) as [
    boolean,
    string,
    bigint,
    bigint[],
  ]
  return { recorded, submitter, blockNumber, outputs: [...outputs] }
}

/**
 * Whether the deployed contract runs `model`: its model id is the model's IR hash and its data
 * contracts hold exactly the model's program. The deployer names the model id; this is how a
 * consumer checks the claim before trusting the contract's results.
 */
export async function onchainProgramMatches(contract: Contract, model: IrModel): Promise<boolean> {
  const [id, program] = (await Promise.all([contract.modelId(), contract.program()])) as [Hex, Hex]
  return id === modelId(model) && program === hexOf(encodeProgram(model))
}
