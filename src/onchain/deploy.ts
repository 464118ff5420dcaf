import { type Contract, ContractFactory, type InterfaceAbi, type Signer } from 'ethers'
import { SETTLEMENT_CODE, verimlRegistry } from '../chain/contracts.js'
import type { IrModel } from '../ir/types.js'
import { modelId as irModelId } from '../ir/serialize.js'
import { hexOf } from '../util/hex.js'
import { dataContractInitCode, hubArtifact, onchainArtifacts, onchainModelContract, splitProgram } from './contracts.js'
import { encodeProgram } from './encode.js'
import { decodeOnchainRevert } from './client.js'

export interface DeployOnchainModelParameters {
  /** Pays for the deployment (an ethers Wallet, or any signer with a provider). */
  signer: Signer
  model: IrModel
  /** The hub (VerimlRegistry) to record results in; by default a new one owned by `signer`. */
  hub?: string
  /**
   * Bind the model contract as the model's on-chain settler in the hub (default true: `signer`
   * must be the hub's owner). False leaves the binding to the owner: until then a run reverts
   * (NotSettler).
   */
  bind?: boolean
}

export interface DeployOnchainModelReturnType {
  /** The OnchainModel contract to call. */
  address: string
  contract: Contract
  modelId: `0x${string}`
  /** The hub its runs record in. */
  hub: string
  /** The data contracts holding the program, in order. */
  chunks: string[]
  programBytes: number
  /** hub: deploying a new hub (0 for a given one); bind: bindSettler (0 when not bound). */
  gasUsed: { chunks: bigint; model: bigint; hub: bigint; bind: bigint; total: bigint }
}

async function deployed(factory: ContractFactory, action: string, args: unknown[]) {
  try {
    const contract = (await (await factory.deploy(...args)).waitForDeployment()) as Contract
    const receipt = await contract.deploymentTransaction()!.wait()
    return { address: await contract.getAddress(), gasUsed: receipt!.gasUsed }
  } catch (error) {
    throw decodeOnchainRevert(action, error)
  }
}

/** A new hub (VerimlRegistry) owned by `signer`. */
export async function deployHub(signer: Signer): Promise<{ address: string; gasUsed: bigint }> {
  const hub = hubArtifact()
  const factory = new ContractFactory(hub.abi as InterfaceAbi, hub.bytecode, signer)
  return deployed(factory, 'deploy VerimlRegistry', [await signer.getAddress()])
}

/** The given hub, or a new one owned by the signer. */
async function hubOf(p: DeployOnchainModelParameters): Promise<{ address: string; gasUsed: bigint }> {
  return p.hub ? { address: p.hub, gasUsed: 0n } : deployHub(p.signer)
}

/**
 * Deploys a model to run on chain outright: its program (encodeProgram) as data contracts of at
 * most 24,575 bytes each, one transaction each, then the OnchainModel contract naming the hub,
 * the model's IR hash and the chunks, and (unless `bind` is false) binds it in the hub as the
 * model's on-chain settler, so its runs are the hub's records.
 */
export async function deployOnchainModel(p: DeployOnchainModelParameters): Promise<DeployOnchainModelReturnType> {
  const program = encodeProgram(p.model)
  const modelId = irModelId(p.model)
  const hub = await hubOf(p)
  const chunks: string[] = []
  let chunkGas = 0n
  for (const chunk of splitProgram(program)) {
    const receipt = await (await p.signer.sendTransaction({ data: hexOf(dataContractInitCode(chunk)) })).wait()
    if (!receipt?.contractAddress) throw decodeOnchainRevert('deploy a program chunk', new Error('no contract address'))
    chunks.push(receipt.contractAddress)
    chunkGas += receipt.gasUsed
  }
  const { model } = onchainArtifacts()
  const factory = new ContractFactory(model.abi as InterfaceAbi, model.bytecode, p.signer)
  const { address, gasUsed: modelGas } = await deployed(factory, 'deploy OnchainModel', [hub.address, modelId, chunks])
  let bindGas = 0n
  if (p.bind !== false) {
    try {
      const tx = await verimlRegistry(hub.address, p.signer).bindSettler(modelId, address, SETTLEMENT_CODE.onchain)
      bindGas = (await tx.wait())!.gasUsed
    } catch (error) {
      throw decodeOnchainRevert('bindSettler', error)
    }
  }
  return {
    address,
    contract: onchainModelContract(address, p.signer),
    modelId,
    hub: hub.address,
    chunks,
    programBytes: program.length,
    gasUsed: {
      chunks: chunkGas,
      model: modelGas,
      hub: hub.gasUsed,
      bind: bindGas,
      total: chunkGas + modelGas + hub.gasUsed + bindGas,
    },
  }
}
