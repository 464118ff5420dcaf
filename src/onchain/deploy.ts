import { type Contract, ContractFactory, type InterfaceAbi, type Signer } from 'ethers'
import type { IrModel } from '../ir/types.js'
import { modelId as irModelId } from '../ir/serialize.js'
import { hexOf } from '../util/hex.js'
import { dataContractInitCode, onchainArtifacts, onchainModelContract, splitProgram } from './contracts.js'
import { encodeProgram } from './encode.js'
import { decodeOnchainRevert } from './client.js'

export interface DeployOnchainModelParameters {
  /** Pays for the deployment (an ethers Wallet, or any signer with a provider). */
  signer: Signer
  model: IrModel
}

export interface DeployOnchainModelReturnType {
  /** The OnchainModel contract to call. */
  address: string
  contract: Contract
  modelId: `0x${string}`
  /** The data contracts holding the program, in order. */
  chunks: string[]
  programBytes: number
  gasUsed: { chunks: bigint; model: bigint; total: bigint }
}

/**
 * Deploys a model to run on chain outright: its program (encodeProgram) as data contracts of at
 * most 24,575 bytes each, one transaction each, then the OnchainModel contract naming them and
 * the model's IR hash.
 */
export async function deployOnchainModel(p: DeployOnchainModelParameters): Promise<DeployOnchainModelReturnType> {
  const program = encodeProgram(p.model)
  const modelId = irModelId(p.model)
  const chunks: string[] = []
  let chunkGas = 0n
  for (const chunk of splitProgram(program)) {
    const receipt = await (await p.signer.sendTransaction({ data: hexOf(dataContractInitCode(chunk)) })).wait()
    if (!receipt?.contractAddress) throw decodeOnchainRevert('deploy a program chunk', new Error('no contract address'))
    chunks.push(receipt.contractAddress)
    chunkGas += receipt.gasUsed
  }
  const { model } = onchainArtifacts()
  let deployed: Contract
  try {
    const factory = new ContractFactory(model.abi as InterfaceAbi, model.bytecode, p.signer)
    deployed = (await (await factory.deploy(modelId, chunks)).waitForDeployment()) as Contract
  } catch (error) {
    throw decodeOnchainRevert('deploy OnchainModel', error)
  }
  const receipt = await deployed.deploymentTransaction()!.wait()
  const address = await deployed.getAddress()
  const modelGas = receipt!.gasUsed
  return {
    address,
    contract: onchainModelContract(address, p.signer),
    modelId,
    chunks,
    programBytes: program.length,
    gasUsed: { chunks: chunkGas, model: modelGas, total: chunkGas + modelGas },
  }
}
