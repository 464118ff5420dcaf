import { revertData } from '../util/revert-data.js'
import type { Contract, ContractRunner } from 'ethers'
import { verimlRegistry } from '../chain/contracts.js'
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
  /** keccak256 of the packed input words: with the model id, the hub's statement. */
  inputCommitment: Hex
  /** keccak256 of the packed output words, as the hub records it. */
  outputsHash: Hex
  /** The outputs, concatenated in order. */
  outputs: bigint[]
  gasUsed: bigint
  hash: string
}

/** Runs the model on `inputs` in one transaction and records the result in the hub. */
export async function runOnchain(
  model: Contract,
  inputs: readonly (readonly bigint[])[],
): Promise<RunOnchainReturnType> {
  const flat = flatInput(inputs)
  try {
    const [commitment, outputsHash, outputs] = (await model.run.staticCall(flat)) as [Hex, Hex, bigint[]]
    const receipt = await (await model.run(flat)).wait()
    return {
      inputCommitment: commitment,
      outputsHash,
      outputs: [...outputs],
      gasUsed: receipt.gasUsed,
      hash: receipt.hash,
    }
  } catch (error) {
    throw decodeOnchainRevert('run', error)
  }
}

export interface OnchainResult {
  /** How the statement was settled (IVerimlResults: 0 none yet, 1 proof, 2 optimistic, 3 on chain). */
  how: number
  /** When (seconds). */
  at: bigint
  /** keccak256 of the packed output words, its low 48 bits cleared (the hub keeps the top 208). */
  outputsHash: Hex
}

/** The hub's record of the statement (the contract's model, `commitment`), read through the contract's hub. */
export async function onchainResultOf(model: Contract, commitment: Hex): Promise<OnchainResult> {
  const [hub, id] = (await Promise.all([model.hub(), model.modelId()])) as [string, Hex]
  // The runner that just read the model (a call without one would have thrown above).
  const [how, at, outputsHash] = await verimlRegistry(hub, model.runner as ContractRunner).resultOf(id, commitment)
  return { how: Number(how), at, outputsHash }
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
