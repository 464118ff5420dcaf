import type { Contract } from 'ethers'
import { connect, walletFor } from '../../chain/rpc.js'
import { type ModelSource, modelDir } from '../../model.js'
import { runModel } from '../../prove/prove.js'
import type { Hex } from '../../util/hex.js'
import { type Trace, buildTrace } from '../trace.js'
import { submitClaim } from './client.js'
import {
  type OptimisticDeployment,
  type OptimisticModel,
  loadOptimisticDeployment,
  loadOptimisticModel,
  openDeployment,
} from './deployment.js'
import type { GameContext } from './rounds.js'

/**
 * One party's session with a deployed model: `optimistic.json`, the compiled model and the
 * chain, each read once and checked against each other, the game connected to the signer.
 * What `veriml op claim|challenge|watch` (a model) and `op finalize|withdraw` (none) start from.
 */

export interface ConnectToGameParameters {
  /** The build folder holding `optimistic.json`. */
  dir: string
  rpcUrl: string
  /** The signer's key; else env VERIML_PRIVATE_KEY. */
  privateKey?: string
}

export interface ConnectToGameReturnType {
  deployment: OptimisticDeployment
  /** The game, connected to the signer. */
  game: Contract
  /** The signer's address. */
  address: string
}

/** optimistic.json + chain only (no model needed: finalising, withdrawing): the game connected to the signer. */
export async function connectToGame(p: ConnectToGameParameters): Promise<ConnectToGameReturnType> {
  const deployment = await loadOptimisticDeployment(p.dir)
  const { provider, chainId } = await connect(p.rpcUrl)
  const wallet = walletFor(provider, p.privateKey)
  const game = await openDeployment({ dir: p.dir, deployment, runner: wallet, chainId })
  return { deployment, game, address: wallet.address }
}

export interface ConnectToModelParameters {
  /** A loaded model or its build folder, which holds `optimistic.json`. */
  model: ModelSource
  rpcUrl: string
  /** The signer's key; else env VERIML_PRIVATE_KEY. */
  privateKey?: string
}

export interface ConnectToModelReturnType {
  deployment: OptimisticDeployment
  model: OptimisticModel
  /** What the agents (defend, challenge, watch) play with. */
  ctx: GameContext
  address: string
}

/** optimistic.json + compiled model + chain, checked against each other; the game connected to the signer. */
export async function connectToModel(p: ConnectToModelParameters): Promise<ConnectToModelReturnType> {
  const dir = modelDir(p.model)
  // optimistic.json first: a folder never deployed says so before anything else is read.
  const deployment = await loadOptimisticDeployment(dir)
  const model = await loadOptimisticModel({ model: p.model })
  const { provider, chainId } = await connect(p.rpcUrl)
  const wallet = walletFor(provider, p.privateKey)
  const game = await openDeployment({ dir, deployment, model, runner: wallet, chainId })
  const ctx: GameContext = {
    game,
    modelId: deployment.modelId,
    model: model.model,
    params: model.params,
    challengeBond: deployment.challengeBond,
    challengeWindow: deployment.challengeWindow,
  }
  return { deployment, model, ctx, address: wallet.address }
}

export interface PostClaimParameters {
  /** The model, loaded (`connectToModel` holds it as `model.compiled`) or its build folder. */
  model: ModelSource
  deployment: OptimisticDeployment
  /** The game, connected to the claimant's signer. */
  game: Contract
  /** The input, as `veriml run` takes it. */
  input: unknown
}

export interface PostClaimReturnType {
  claimId: Hex
  /** What the claimant defends the claim with (`defendClaim`). */
  key: Awaited<ReturnType<typeof submitClaim>>['key']
  trace: Trace
  gasUsed: bigint
  /** The block before the claim: a defender scans for disputes from here. */
  fromBlock: number
}

/** Runs the model on the input, builds its trace and posts the claim with the deployment's bond. */
export async function postClaim(p: PostClaimParameters): Promise<PostClaimReturnType> {
  const run = await runModel({ model: p.model, input: p.input })
  const trace = buildTrace(run.ir, run.inputs)
  const fromBlock = await p.game.runner!.provider!.getBlockNumber()
  const submitted = await submitClaim(p.game, p.deployment.modelId, trace, p.deployment.claimBond)
  return { claimId: submitted.claimId, key: submitted.key, trace, gasUsed: submitted.gasUsed, fromBlock }
}
