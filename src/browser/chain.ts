/**
 * The registry call from a page: `verifyInference` sent through ethers by an account the node
 * holds unlocked (a local `veriml node`/anvil dev account) or a wallet's provider. No private
 * key ever reaches the page: the node (or the wallet) signs.
 */
import { BrowserProvider, Contract, type Eip1193Provider, JsonRpcProvider, type JsonRpcSigner } from 'ethers'
import { calldata } from '../chain/calldata.js'
import { verimlRegistryAbi } from '../chain/contracts.js'
import type { SnarkjsGroth16Proof } from '../prove/proof.js'
import { BaseError, type BaseErrorParameters } from '../errors.js'

/** The node has no account to send from, or the transaction failed. */
export class BrowserChainError extends BaseError {
  override name = 'BrowserChainError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

export interface RecordOnChainParameters {
  /** A JSON-RPC URL whose node holds an unlocked account (eth_accounts), or an EIP-1193 wallet. */
  rpc: string | Eip1193Provider
  registry: string
  modelId: string
  proof: SnarkjsGroth16Proof
  publicSignals: readonly string[]
}

export interface RecordOnChainReturnType {
  txHash: string
  gasUsed: bigint
  blockNumber: number
  inferenceId: string
  from: string
}

export async function recordOnChain(p: RecordOnChainParameters): Promise<RecordOnChainReturnType> {
  const signer = await signerOf(p.rpc)
  const registry = new Contract(p.registry, verimlRegistryAbi, signer)
  // The statement id needs the model's input signal count (its input part), as registered.
  const { inputSignalCount } = (await registry.getFunction('model').staticCall(p.modelId)) as {
    inputSignalCount: bigint
  }
  const args = calldata(p.proof, p.publicSignals, p.modelId, Number(inputSignalCount))
  const tx = await registry.getFunction('verifyInference').send(p.modelId, args.a, args.b, args.c, args.pubSignals)
  const receipt = await tx.wait()
  if (receipt?.status !== 1)
    throw new BrowserChainError({ problem: `verifyInference reverted (transaction ${tx.hash})` })
  return {
    txHash: tx.hash,
    gasUsed: receipt.gasUsed,
    blockNumber: receipt.blockNumber,
    inferenceId: args.inferenceId!,
    from: await signer.getAddress(),
  }
}

async function signerOf(rpc: string | Eip1193Provider): Promise<JsonRpcSigner> {
  if (typeof rpc !== 'string') return new BrowserProvider(rpc).getSigner()
  const provider = new JsonRpcProvider(rpc)
  const accounts = (await provider.send('eth_accounts', [])) as string[]
  if (accounts.length === 0)
    throw new BrowserChainError({
      problem: `the node at ${rpc} holds no unlocked account`,
      details: ['Use a local dev node (`veriml node`, anvil) or a wallet: the page never takes a private key.'],
    })
  return provider.getSigner(accounts[0])
}
