import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { type ModelSource, type ZkModel, modelDir, resolveModel } from '../model.js'
import { artifactPaths, proofPaths } from '../prove/paths.js'
import { type AnvilInstance, startAnvil } from './anvil.js'
import { ProofFormatError, type SnarkjsGroth16Proof } from '../prove/proof.js'
import { type Deployment, type ModelRegistration, deployModel, loadDeployment } from './deploy.js'
import { InsufficientFundsError } from './errors.js'
import { readInputFile } from '../util/external.js'

async function readJson(path: string, what: string): Promise<unknown> {
  const text = (await readInputFile(path, what, 64 * 2 ** 20)).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    throw new ProofFormatError({ field: path, reason: 'not valid JSON' })
  }
}
import { connect, walletFor } from './rpc.js'
import { decodeRegistryError } from './contracts.js'
import { type VerifierTemplate, exportVerifier } from './verifier.js'
import { type VerifyOnChainReturnType, verifyOnChain } from './verify-on-chain.js'

/** Chain ids of local development nodes (anvil, hardhat, ganache): insecure keys are fine there. */
export const LOCAL_CHAIN_IDS = new Set([31337n, 1337n])

/** Dev (insecure) keys headed for a chain that is not a local development one. */
export class InsecureSetupError extends BaseError {
  override name = 'InsecureSetupError'
  readonly chainId: bigint
  constructor(p: BaseErrorParameters & { chainId: bigint }) {
    super(`refusing to deploy INSECURE dev keys to chain ${p.chainId}, which is not a local development chain`, {
      details: [
        'Run `veriml setup DIR --ptau FILE` with a ceremony powers-of-tau file, or pass --allow-insecure-setup if you really mean it.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.chainId = p.chainId
  }
}

/** A public-signal layout the registry cannot decode. */
export class UnsupportedLayoutError extends BaseError {
  override name = 'UnsupportedLayoutError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

/** The registry's view of a compiled model: visibilities and pack layouts of its public signals. */
export function registrationOf(model: ZkModel): ModelRegistration {
  const { layout } = model.manifest
  const { input, output } = layout.visibility
  if ((input === 'public' && layout.inputs.length !== 1) || (output === 'public' && layout.outputs.length !== 1)) {
    throw new UnsupportedLayoutError({
      problem: 'the registry decodes one public input tensor and one public output tensor',
      details: [
        'Compile with --input-visibility hashed (or --output-visibility hashed) for models with several inputs or outputs.',
      ],
    })
  }
  return {
    inputVisibility: input,
    outputVisibility: output,
    inputLayout: input === 'public' ? layout.inputs[0] : undefined,
    outputLayout: output === 'public' ? layout.outputs[0] : undefined,
    ...(layout.weights?.commitment === undefined ? {} : { weightCommitment: BigInt(layout.weights.commitment) }),
  }
}

export interface DeployBuildParameters {
  /** A set-up model or its build folder. */
  model: ModelSource
  rpcUrl: string
  privateKey?: string
  registryAddress?: string
  allowInsecureSetup?: boolean
  /** Where deployment.json goes (default: the build folder). */
  deploymentPath?: string
  /** Groth16 verifier template (default veriml's). */
  verifier?: VerifierTemplate
}

export type DeployBuildReturnType = Deployment

/** Exports the model's verifier, deploys it (and a registry), registers the model, writes deployment.json. */
export async function deployBuild(p: DeployBuildParameters): Promise<DeployBuildReturnType> {
  // The verifier is exported from the zkey: it must be this build's.
  const model = await resolveModel(p.model, { target: 'zk', check: ['zkey'] })
  const { manifest, paths } = model
  const { chainId, provider } = await connect(p.rpcUrl)
  try {
    if (manifest.setup?.insecure && !LOCAL_CHAIN_IDS.has(chainId) && !p.allowInsecureSetup)
      throw new InsecureSetupError({ chainId })
    // The key and its funds are checked before anything is written into the build folder.
    const wallet = walletFor(provider, p.privateKey)
    const balance = await provider.getBalance(wallet.address).catch((e: unknown) => {
      throw decodeRegistryError(e, { action: 'read the deployer balance', rpcUrl: p.rpcUrl })
    })
    if (balance === 0n)
      throw new InsufficientFundsError({ action: 'deploy', account: wallet.address, balance, chainId })
  } finally {
    provider.destroy()
  }
  // The key was checked above: the export is given its path, not the model (which would hash it again).
  await exportVerifier({
    zkeyPath: paths.zkey,
    modelId: manifest.modelId,
    modelName: manifest.modelName,
    outDir: paths.contracts,
    insecure: manifest.setup?.insecure,
    verifier: p.verifier,
  })
  return deployModel({
    rpcUrl: p.rpcUrl,
    privateKey: p.privateKey,
    exportDir: paths.contracts,
    registration: registrationOf(model),
    registryAddress: p.registryAddress,
    deploymentPath: p.deploymentPath ?? paths.deployment,
  })
}

export interface VerifyBuildOnChainParameters {
  /** A set-up model or its build folder (with --rpc, only its deployment.json is read). */
  model: ModelSource
  proofDir: string
  /** A JSON-RPC endpoint with an existing deployment.json; omitted: an embedded anvil on 127.0.0.1. */
  rpcUrl?: string
  privateKey?: string
}

export type VerifyBuildOnChainReturnType = VerifyOnChainReturnType & { deployment: Deployment; embedded: boolean }

/**
 * Verifies a proof folder through the model's registry. Without an RPC URL it starts a
 * local anvil, deploys there, verifies and always stops the node.
 */
export async function verifyBuildOnChain(p: VerifyBuildOnChainParameters): Promise<VerifyBuildOnChainReturnType> {
  const pp = proofPaths(p.proofDir)
  const proof = (await readJson(pp.proof, 'proof')) as SnarkjsGroth16Proof
  const publicSignals = (await readJson(pp.public, 'public signals')) as string[]
  if (!Array.isArray(publicSignals))
    throw new ProofFormatError({ field: 'public.json', reason: 'expected a JSON array of decimal strings' })
  if (p.rpcUrl) {
    // An existing deployment: the build itself is not loaded (its deployment.json says where the verifier is).
    const deploymentPath = artifactPaths(modelDir(p.model)).deployment
    const deployment = await loadDeployment(deploymentPath)
    const r = await verifyOnChain({
      rpcUrl: p.rpcUrl,
      privateKey: p.privateKey,
      deploymentPath,
      proof,
      publicSignals,
      onRejected: 'return',
    })
    return { ...r, deployment, embedded: false }
  }
  let node: AnvilInstance | undefined
  const scratch = await mkdtemp(join(tmpdir(), 'veriml-chain-'))
  try {
    node = await startAnvil()
    const privateKey = node.accounts[0].privateKey
    const deploymentPath = join(scratch, 'deployment.json')
    const deployment = await deployBuild({ model: p.model, rpcUrl: node.rpcUrl, privateKey, deploymentPath })
    const r = await verifyOnChain({
      rpcUrl: node.rpcUrl,
      privateKey,
      deploymentPath,
      proof,
      publicSignals,
      onRejected: 'return',
    })
    return { ...r, deployment, embedded: true }
  } finally {
    await node?.stop()
    await rm(scratch, { recursive: true, force: true })
  }
}
