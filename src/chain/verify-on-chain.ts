import { type JsonRpcProvider, type TransactionReceipt, ZeroAddress } from 'ethers'
import { type SnarkjsGroth16Proof, calldata, inferenceId } from './calldata.js'
import { type VerimlRegistryContract, decodeRegistryError, verimlRegistry } from './contracts.js'
import { loadDeployment } from './deploy.js'
import { ChainTransactionError, ContractNotDeployedError, ProofRejectedError } from './errors.js'
import { connect, walletFor } from './rpc.js'

export interface VerifyOnChainParameters {
  rpcUrl: string
  /** Else env VERIML_PRIVATE_KEY. */
  privateKey?: string
  /** deployment.json written by deployModel; or give registryAddress + modelId. */
  deploymentPath?: string
  registryAddress?: string
  modelId?: string
  proof: SnarkjsGroth16Proof
  publicSignals: readonly (string | bigint)[]
  /** Estimated through the registry when omitted (the registry reverts on `false`, so estimation is exact). */
  gasLimit?: bigint
  /** 'return' turns a rejected proof into `{ accepted: false }`; every other failure still throws. */
  onRejected?: 'throw' | 'return'
}

export type VerifyOnChainReturnType =
  | { accepted: true; inferenceId: string; gasUsed: bigint; txHash: string; blockNumber: number }
  | { accepted: false; inferenceId: string; rejection: ProofRejectedError }

/** Head room over the estimate: state may change between estimation and inclusion. */
const GAS_MARGIN_PERCENT = 10n

/** Sends `verifyInference` for a snarkjs proof and returns the recorded inference. */
export async function verifyOnChain(parameters: VerifyOnChainParameters): Promise<VerifyOnChainReturnType> {
  const deployment = parameters.deploymentPath ? await loadDeployment(parameters.deploymentPath) : undefined
  const registryAddress = parameters.registryAddress ?? deployment?.registry.address
  const modelId = parameters.modelId ?? deployment?.modelId
  if (!registryAddress || !modelId) {
    throw new ChainTransactionError({
      action: 'verifyInference',
      reason: 'give deploymentPath, or registryAddress and modelId',
    })
  }
  const args = calldata(parameters.proof, parameters.publicSignals, modelId)
  const { rpcUrl } = parameters
  const { provider, chainId } = await connect(rpcUrl)
  try {
    await requireCode(provider, registryAddress, chainId, rpcUrl)
    const wallet = walletFor(provider, parameters.privateKey)
    const registry = verimlRegistry(registryAddress, wallet)
    const callArgs = [modelId, args.a, args.b, args.c, args.pubSignals] as const
    // The statement id needs the model's input signal count; an unregistered model is named below.
    const model = await registry.model(modelId)
    const statementId = inferenceId(modelId, args.pubSignals, Number(model.inputSignalCount))
    const access = await verifierAccessList(registry, modelId)
    const context = {
      action: 'verifyInference',
      rpcUrl,
      modelId,
      gasLimit: parameters.gasLimit,
      account: wallet.address,
    }

    let gasLimit: bigint
    try {
      if (parameters.gasLimit === undefined) {
        gasLimit =
          ((await registry.verifyInference.estimateGas(...callArgs, access)) * (100n + GAS_MARGIN_PERCENT)) / 100n
      } else {
        // Dry-run at the caller's limit so that a too-low limit shows as VerifierOutOfGas
        // here, with the registry's error, rather than as a bare failed receipt.
        await registry.verifyInference.staticCall(...callArgs, { ...access, gasLimit: parameters.gasLimit })
        gasLimit = parameters.gasLimit
      }
    } catch (error) {
      const typed = decodeRegistryError(error, context)
      if (typed instanceof ProofRejectedError && parameters.onRejected === 'return') {
        return { accepted: false, inferenceId: statementId, rejection: typed }
      }
      throw typed
    }

    let receipt: TransactionReceipt | null
    try {
      const tx = await registry.verifyInference.send(...callArgs, { ...access, gasLimit })
      receipt = await tx.wait()
    } catch (error) {
      // A receipt with status 0 carries no revert data; replay the call to learn why
      // (typically someone recorded the same inference between estimation and inclusion).
      const replayed = await registry.verifyInference.staticCall(...callArgs, access).then(
        () => undefined,
        (e: unknown) => decodeRegistryError(e, context),
      )
      throw replayed ?? decodeRegistryError(error, context)
    }
    if (!receipt) throw new ChainTransactionError({ action: 'verifyInference', reason: 'no receipt' })

    // INVARIANT: the registry recorded this statement under the id computed off chain, with
    // these outputs, or the encodings disagree (the record says which statement and outputs).
    const [, outputsHash] = await registry.statementIdOf(modelId, args.pubSignals)
    if (!(await registry.outputsMatch(statementId, outputsHash))) {
      throw new ChainTransactionError({
        action: 'verifyInference',
        reason: `the transaction succeeded but the registry holds no record of ${statementId} with these outputs`,
      })
    }
    return {
      accepted: true,
      inferenceId: statementId,
      gasUsed: receipt.gasUsed,
      txHash: receipt.hash,
      blockNumber: receipt.blockNumber,
    }
  } finally {
    provider.destroy()
  }
}

async function requireCode(provider: JsonRpcProvider, address: string, chainId: bigint, rpcUrl: string): Promise<void> {
  let code: string
  try {
    code = await provider.getCode(address)
  } catch (error) {
    throw decodeRegistryError(error, { action: 'read registry code', rpcUrl })
  }
  if (code === '0x') throw new ContractNotDeployedError({ contract: 'VerimlRegistry', address, chainId })
}

/**
 * The registry calls the model's verifier, a cold account: naming it in the transaction's
 * access list (EIP-2930) costs 2,400 up front and 100 at the call instead of 2,600 there.
 * Nothing for a model that is not registered (the registry's own error then says so) or when
 * the registry cannot be read (the transaction's error will say why).
 */
async function verifierAccessList(registry: VerimlRegistryContract, modelId: string) {
  const verifier = await registry.model(modelId).then(
    (m) => m.verifier,
    () => ZeroAddress,
  )
  return verifier === ZeroAddress ? {} : { accessList: [{ address: verifier, storageKeys: [] }] }
}
