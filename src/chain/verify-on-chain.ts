import type { JsonRpcProvider, TransactionReceipt } from 'ethers'
import { type SnarkjsGroth16Proof, calldata } from './calldata.js'
import { decodeRegistryError, verimlRegistry, verimlRegistryInterface } from './contracts.js'
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
        gasLimit = ((await registry.verifyInference.estimateGas(...callArgs)) * (100n + GAS_MARGIN_PERCENT)) / 100n
      } else {
        // Dry-run at the caller's limit so that a too-low limit shows as VerifierOutOfGas
        // here, with the registry's error, rather than as a bare failed receipt.
        await registry.verifyInference.staticCall(...callArgs, { gasLimit: parameters.gasLimit })
        gasLimit = parameters.gasLimit
      }
    } catch (error) {
      const typed = decodeRegistryError(error, context)
      if (typed instanceof ProofRejectedError && parameters.onRejected === 'return') {
        return { accepted: false, inferenceId: args.inferenceId, rejection: typed }
      }
      throw typed
    }

    let receipt: TransactionReceipt | null
    try {
      const tx = await registry.verifyInference.send(...callArgs, { gasLimit })
      receipt = await tx.wait()
    } catch (error) {
      // A receipt with status 0 carries no revert data; replay the call to learn why
      // (typically someone recorded the same inference between estimation and inclusion).
      const replayed = await registry.verifyInference.staticCall(...callArgs).then(
        () => undefined,
        (e: unknown) => decodeRegistryError(e, context),
      )
      throw replayed ?? decodeRegistryError(error, context)
    }
    if (!receipt) throw new ChainTransactionError({ action: 'verifyInference', reason: 'no receipt' })

    const event = receipt.logs
      .map((log) =>
        log.address.toLowerCase() === registryAddress.toLowerCase() ? verimlRegistryInterface.parseLog(log) : null,
      )
      .find((parsed) => parsed?.name === 'InferenceVerified')
    // INVARIANT: the registry's id is the one computed off chain, or the encodings disagree.
    if (!event || event.args.inferenceId !== args.inferenceId) {
      throw new ChainTransactionError({
        action: 'verifyInference',
        reason: `expected InferenceVerified(${args.inferenceId}), got ${event ? event.args.inferenceId : 'no event'}`,
      })
    }
    return {
      accepted: true,
      inferenceId: args.inferenceId,
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
