import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ContractFactory, type TransactionReceipt, type Wallet } from 'ethers'
import { type PackLayout, publicSignalCount } from '../circuit/packing.js'
import { writeJsonAtomic } from '../util/fs.js'
import {
  type ModelConfigStruct,
  type PackLayoutStruct,
  VISIBILITY_CODE,
  type Visibility,
  decodeRegistryError,
  verimlRegistry,
} from './contracts.js'
import {
  ContractNotDeployedError,
  DeploymentNotFoundError,
  InsufficientFundsError,
  PublicSignalCountError,
  VerifierExportError,
} from './errors.js'
import { connect, walletFor } from './rpc.js'
import { type CompilerSettings, compileSolidity } from './solc.js'
import { GENERATOR } from '../prove/manifest.js'
import { EXPORT_MANIFEST, type VerifierExportManifest } from './verifier.js'

export interface ModelRegistration {
  inputVisibility: Visibility
  outputVisibility: Exclude<Visibility, 'private'>
  /** Required when the input is public. */
  inputLayout?: PackLayout
  /** Required when the output is public. */
  outputLayout?: PackLayout
  /** Private weights (`--weights hashed`): their Poseidon commitment, the last public signal of every proof. */
  weightCommitment?: bigint
}

export interface DeployModelParameters {
  rpcUrl: string
  /** Else env VERIML_PRIVATE_KEY. */
  privateKey?: string
  /** A folder written by exportVerifier (its export.json names the verifier and model id). */
  exportDir: string
  registration: ModelRegistration
  /** Register in this registry instead of deploying a new one (the key must be its owner). */
  registryAddress?: string
  /** Where deployment.json goes; written only once every transaction succeeded. */
  deploymentPath: string
}

export interface DeployedContract {
  address: string
  txHash: string
  gasUsed: bigint
}

export interface Deployment {
  version: 1
  generator: string
  chainId: bigint
  modelId: string
  deployer: string
  compiler: CompilerSettings
  registry: { address: string; reused: boolean; txHash?: string; gasUsed?: bigint }
  verifier: DeployedContract & { contractName: string }
  registration: {
    txHash: string
    gasUsed: bigint
    publicSignalCount: number
    inputVisibility: Visibility
    outputVisibility: Visibility
    inputLayout?: PackLayout
    outputLayout?: PackLayout
    weightCommitment?: bigint
  }
  deployedAt: string
}

const ZERO_LAYOUT: PackLayoutStruct = { count: 0, laneBits: 0, lanesPerElement: 0, lo: 0n }

/** Public signals implied by a registration: input part, then output part, then the weight commitment if any. */
export function registrationSignalCount(r: ModelRegistration): number {
  const layouts = (visibility: Visibility, layout: PackLayout | undefined, what: string): PackLayout[] => {
    if (visibility !== 'public') return []
    if (!layout) throw new RangeError(`a public ${what} needs its PackLayout`)
    return [layout]
  }
  return publicSignalCount({
    input: r.inputVisibility,
    inputLayouts: layouts(r.inputVisibility, r.inputLayout, 'input'),
    output: r.outputVisibility,
    outputLayouts: layouts(r.outputVisibility, r.outputLayout, 'output'),
    weightCommitment: r.weightCommitment !== undefined,
  })
}

function modelConfig(verifier: string, r: ModelRegistration): ModelConfigStruct {
  const struct = (visibility: Visibility, layout: PackLayout | undefined): PackLayoutStruct =>
    visibility === 'public' && layout
      ? { count: layout.count, laneBits: layout.laneBits, lanesPerElement: layout.lanesPerElement, lo: layout.lo }
      : ZERO_LAYOUT
  return {
    verifier,
    inputVisibility: VISIBILITY_CODE[r.inputVisibility],
    outputVisibility: VISIBILITY_CODE[r.outputVisibility],
    inputLayout: struct(r.inputVisibility, r.inputLayout),
    outputLayout: struct(r.outputVisibility, r.outputLayout),
    weightCommitment: r.weightCommitment ?? 0n,
  }
}

async function readManifest(exportDir: string): Promise<VerifierExportManifest> {
  const path = join(exportDir, EXPORT_MANIFEST)
  try {
    return JSON.parse(await readFile(path, 'utf8')) as VerifierExportManifest
  } catch (error) {
    throw new VerifierExportError({
      zkeyPath: exportDir,
      reason: `no readable ${EXPORT_MANIFEST}: run exportVerifier first`,
      cause: error,
    })
  }
}

async function mined(
  receiptPromise: Promise<TransactionReceipt | null>,
  action: string,
  rpcUrl: string,
): Promise<TransactionReceipt> {
  try {
    const receipt = await receiptPromise
    if (!receipt) throw new Error('no receipt')
    return receipt
  } catch (error) {
    throw decodeRegistryError(error, { action, rpcUrl })
  }
}

async function deployContract(
  wallet: Wallet,
  compiled: { abi: readonly unknown[]; bytecode: string },
  args: unknown[],
  action: string,
  rpcUrl: string,
): Promise<DeployedContract> {
  let txHash: string
  let receipt: TransactionReceipt
  try {
    const factory = new ContractFactory(compiled.abi as never[], compiled.bytecode, wallet)
    const contract = await factory.deploy(...args)
    const tx = contract.deploymentTransaction()
    if (!tx) throw new Error('no deployment transaction')
    txHash = tx.hash
    receipt = await mined(tx.wait(), action, rpcUrl)
  } catch (error) {
    throw decodeRegistryError(error, { action, rpcUrl, account: wallet.address })
  }
  if (!receipt.contractAddress)
    throw decodeRegistryError(new Error('receipt has no contract address'), { action, rpcUrl })
  return { address: receipt.contractAddress, txHash, gasUsed: receipt.gasUsed }
}

/**
 * Deploys a model's verifier (and a registry unless one is given), registers the model and
 * writes deployment.json. The file is written once, atomically, after the last transaction
 * succeeded: a failed deployment leaves no deployment.json behind (or the previous one).
 */
export async function deployModel(parameters: DeployModelParameters): Promise<Deployment> {
  const { rpcUrl, registration } = parameters
  const manifest = await readManifest(parameters.exportDir)
  const expected = registrationSignalCount(registration)
  // Checked before any gas is spent; the registry's arity probe would also refuse it.
  if (expected !== manifest.publicSignalCount) {
    throw new PublicSignalCountError({
      modelId: manifest.modelId,
      expected: manifest.publicSignalCount,
      actual: expected,
    })
  }

  const { provider, chainId } = await connect(rpcUrl)
  try {
    const wallet = walletFor(provider, parameters.privateKey)
    // Checked before anything is compiled or sent: an empty account is the common mistake.
    const balance = await provider.getBalance(wallet.address).catch((e: unknown) => {
      throw decodeRegistryError(e, { action: 'read the deployer balance', rpcUrl })
    })
    if (balance === 0n)
      throw new InsufficientFundsError({ action: 'deploy', account: wallet.address, balance, chainId })
    const compiled = compileSolidity({ baseDir: parameters.exportDir, files: manifest.files })
    const verifierArtifact = compiled.contracts[`${manifest.verifierFile}:${manifest.contractName}`]
    const registryArtifact = compiled.contracts['VerimlRegistry.sol:VerimlRegistry']

    let registryInfo: Deployment['registry']
    if (parameters.registryAddress) {
      const code = await provider.getCode(parameters.registryAddress).catch((e: unknown) => {
        throw decodeRegistryError(e, { action: 'read registry code', rpcUrl })
      })
      if (code === '0x')
        throw new ContractNotDeployedError({ contract: 'VerimlRegistry', address: parameters.registryAddress, chainId })
      registryInfo = { address: parameters.registryAddress, reused: true }
    } else {
      const deployed = await deployContract(wallet, registryArtifact, [wallet.address], 'deploy VerimlRegistry', rpcUrl)
      registryInfo = { ...deployed, reused: false }
    }

    const verifier = await deployContract(wallet, verifierArtifact, [], `deploy ${manifest.contractName}`, rpcUrl)
    const registry = verimlRegistry(registryInfo.address, wallet)
    const config = modelConfig(verifier.address, registration)
    const context = { action: 'registerModel', rpcUrl, modelId: manifest.modelId, account: wallet.address }
    let registeredCount: bigint
    let receipt: TransactionReceipt
    try {
      // Dry-run first: a revert then carries the registry's custom error, which a mined
      // failed transaction's receipt does not.
      registeredCount = await registry.registerModel.staticCall(manifest.modelId, config)
      const tx = await registry.registerModel(manifest.modelId, config)
      receipt = await mined(tx.wait(), 'registerModel', rpcUrl)
    } catch (error) {
      throw decodeRegistryError(error, context)
    }

    const deployment: Deployment = {
      version: 1,
      generator: GENERATOR,
      chainId,
      modelId: manifest.modelId,
      deployer: wallet.address,
      compiler: compiled.compiler,
      registry: registryInfo,
      verifier: { ...verifier, contractName: manifest.contractName },
      registration: {
        txHash: receipt.hash,
        gasUsed: receipt.gasUsed,
        publicSignalCount: Number(registeredCount),
        inputVisibility: registration.inputVisibility,
        outputVisibility: registration.outputVisibility,
        inputLayout: registration.inputVisibility === 'public' ? registration.inputLayout : undefined,
        outputLayout: registration.outputVisibility === 'public' ? registration.outputLayout : undefined,
        ...(registration.weightCommitment === undefined ? {} : { weightCommitment: registration.weightCommitment }),
      },
      deployedAt: new Date().toISOString(),
    }
    await writeJsonAtomic(parameters.deploymentPath, deployment)
    return deployment
  } finally {
    provider.destroy()
  }
}

/** Reads deployment.json (bigints come back from their decimal strings). */
export async function loadDeployment(path: string): Promise<Deployment> {
  let raw: string
  try {
    raw = await readFile(path, 'utf8')
  } catch (error) {
    throw new DeploymentNotFoundError({ path, reason: 'file not found', cause: error })
  }
  let parsed: Deployment
  try {
    parsed = JSON.parse(raw) as Deployment
  } catch (error) {
    throw new DeploymentNotFoundError({ path, reason: 'not valid JSON', cause: error })
  }
  if (parsed?.version !== 1 || typeof parsed.registry?.address !== 'string' || typeof parsed.modelId !== 'string') {
    throw new DeploymentNotFoundError({ path, reason: 'not a veriml deployment (version 1)' })
  }
  const layout = (l: PackLayout | undefined) => (l ? { ...l, lo: BigInt(l.lo) } : undefined)
  return {
    ...parsed,
    chainId: BigInt(parsed.chainId),
    registry: {
      ...parsed.registry,
      gasUsed: parsed.registry.gasUsed === undefined ? undefined : BigInt(parsed.registry.gasUsed),
    },
    verifier: { ...parsed.verifier, gasUsed: BigInt(parsed.verifier.gasUsed) },
    registration: {
      ...parsed.registration,
      gasUsed: BigInt(parsed.registration.gasUsed),
      inputLayout: layout(parsed.registration.inputLayout),
      outputLayout: layout(parsed.registration.outputLayout),
      weightCommitment:
        parsed.registration.weightCommitment === undefined ? undefined : BigInt(parsed.registration.weightCommitment),
    },
  }
}
