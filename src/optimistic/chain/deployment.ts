import { readFile } from 'node:fs/promises'
import type { Contract, ContractRunner, Signer } from 'ethers'
import type { IrModel } from '../../ir/types.js'
import { type CompiledModel, type ModelSource, resolveModel } from '../../model.js'
import { artifactPaths } from '../../prove/paths.js'
import { writeJsonAtomic } from '../../util/fs.js'
import { checkDisputeBudget, type TxCost } from '../budget.js'
import { DEFAULT_GAME_PARAMETERS } from '../defaults.js'
import { gameContract, registerModel } from './client.js'
import { type GameModelConfig, type GameParameters, gameModelConfig } from '../config.js'
import { deployOptimistic } from './contracts.js'
import type { Hex } from '../../util/hex.js'
import { DeploymentMismatchError, OptimisticDeploymentNotFoundError } from './errors.js'
import { commitParams, type ParamsCommitment } from '../params.js'

export { DEFAULT_GAME_PARAMETERS } from '../defaults.js'

export type BondsAndClocks = Omit<GameParameters, 'executor'>

/** `DIR/optimistic.json`: where the game lives and how the model is registered in it. */
export interface OptimisticDeployment {
  chainId: bigint
  /** The registry (VerimlRegistry) whose model ids and owner the game follows. */
  hubAddress: string
  gameAddress: string
  executorAddress: string
  /** The model's id in the game and the hub: the IR hash (manifest.json's modelId). */
  modelId: Hex
  /** The compiled model's id (manifest.json), so a folder recompiled since is caught; equals modelId. */
  buildModelId: Hex
  paramsRoot: Hex
  claimBond: bigint
  challengeBond: bigint
  challengeWindow: bigint
  moveTimeout: bigint
  /** Watchers scan claims from here. */
  deployBlock: number
  gasUsed: { hub: bigint; game: bigint; executor: bigint; register: bigint }
  /** The dispute transaction nearest its budget (`disputeBudget`), as checked before deploying. */
  worstDisputeTx?: TxCost
}

export const optimisticPath = (dir: string) => artifactPaths(dir).optimistic

/** The integer IR of a compiled folder and its parameter commitment. */
export interface OptimisticModel {
  dir: string
  model: IrModel
  params: ParamsCommitment
  buildModelId: Hex
  /** The build it came from, loaded once: `runModel({ model: compiled })` reads nothing again. */
  compiled: CompiledModel
}

export interface LoadOptimisticModelParameters {
  /** A loaded model or its build folder (of either target: a zk build holds the same IR). */
  model: ModelSource
}

export type LoadOptimisticModelReturnType = OptimisticModel

export async function loadOptimisticModel(p: LoadOptimisticModelParameters): Promise<LoadOptimisticModelReturnType> {
  // Any target: a zk build holds the same IR, an optimistic build only the IR.
  const compiled = await resolveModel(p.model)
  return {
    dir: compiled.dir,
    model: compiled.ir,
    params: commitParams(compiled.ir),
    buildModelId: compiled.modelId,
    compiled,
  }
}

export interface DeployOptimisticModelParameters {
  /** A loaded model or its build folder; `optimistic.json` is written there. */
  model: ModelSource
  /** The hub's owner when `hubAddress` is given (only it registers models). */
  runner: Signer
  chainId: bigint
  parameters?: Partial<BondsAndClocks>
  /** An existing hub (VerimlRegistry) to follow; by default a new one owned by `runner`. */
  hubAddress?: string
}

export type DeployOptimisticModelReturnType = OptimisticDeployment

/** Deploys executor + game, registers the compiled model, writes `DIR/optimistic.json` atomically. */
export async function deployOptimisticModel(
  p: DeployOptimisticModelParameters,
): Promise<DeployOptimisticModelReturnType> {
  const m = await loadOptimisticModel({ model: p.model })
  const deployment = await deployOptimisticCommitment({
    params: m.params,
    modelName: m.model.name,
    buildModelId: m.buildModelId,
    runner: p.runner,
    chainId: p.chainId,
    parameters: p.parameters,
    hubAddress: p.hubAddress,
  })
  await writeJsonAtomic(m.compiled.paths.optimistic, deployment)
  return deployment
}

export interface DeployOptimisticCommitmentParameters {
  params: ParamsCommitment
  /** For errors: the model's name. */
  modelName: string
  /** Id of the model the parameters commit to (the build folder's, or `modelId(ir)`): its id in the game. */
  buildModelId: Hex
  /** The hub's owner when `hubAddress` is given (only it registers models). */
  runner: Signer
  chainId: bigint
  parameters?: Partial<BondsAndClocks>
  /** An existing hub (VerimlRegistry) to follow; by default a new one owned by `runner`. */
  hubAddress?: string
}

/**
 * Deploys executor + game and registers a committed model; writes nothing (the demo deploys
 * models it never compiled to a folder). Refuses, before sending anything, a model with a
 * dispute transaction that may exceed DISPUTE_BUDGET: DisputeBudgetError names the
 * transaction, the step and its ONNX origin (such a dispute could not be played on chain,
 * so a cheater's claim on it could not be rejected).
 */
export async function deployOptimisticCommitment(
  p: DeployOptimisticCommitmentParameters,
): Promise<OptimisticDeployment> {
  const budget = checkDisputeBudget(p.params, p.modelName)
  const game = { ...DEFAULT_GAME_PARAMETERS, ...p.parameters }
  const deployed = await deployOptimistic(p.runner, { hubAddress: p.hubAddress })
  const config = gameModelConfig(p.params, { executor: deployed.executorAddress, ...game })
  const contract = gameContract(deployed.gameAddress, p.runner)
  // One id for every path: the game keys the model by the IR hash, as the hub does.
  const registered = await registerModel(contract, p.buildModelId, config)
  const deployBlock = await p.runner.provider!.getBlockNumber()
  return {
    chainId: p.chainId,
    hubAddress: deployed.hubAddress,
    gameAddress: deployed.gameAddress,
    executorAddress: deployed.executorAddress,
    modelId: registered.modelId,
    buildModelId: p.buildModelId,
    paramsRoot: p.params.paramsRoot,
    ...game,
    deployBlock,
    gasUsed: { ...deployed.gasUsed, register: registered.gasUsed },
    worstDisputeTx: budget.worst,
  }
}

const BIGINT_FIELDS = ['chainId', 'claimBond', 'challengeBond', 'challengeWindow', 'moveTimeout'] as const

export async function loadOptimisticDeployment(dir: string): Promise<OptimisticDeployment> {
  const path = optimisticPath(dir)
  const text = await readFile(path, 'utf8').catch((cause) => {
    throw new OptimisticDeploymentNotFoundError({
      path,
      reason: (cause as { code?: string }).code === 'ENOENT' ? 'no such file' : 'cannot be read',
      cause,
    })
  })
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(text) as Record<string, unknown>
  } catch (cause) {
    throw new OptimisticDeploymentNotFoundError({ path, reason: 'not valid JSON', cause })
  }
  for (const key of [
    'hubAddress',
    'gameAddress',
    'executorAddress',
    'modelId',
    'buildModelId',
    'deployBlock',
    ...BIGINT_FIELDS,
  ]) {
    if (raw[key] === undefined)
      throw new OptimisticDeploymentNotFoundError({ path, reason: `field "${key}" is missing` })
  }
  const gas = raw.gasUsed as Record<string, string> | undefined
  return {
    ...(raw as unknown as OptimisticDeployment),
    chainId: BigInt(raw.chainId as string),
    claimBond: BigInt(raw.claimBond as string),
    challengeBond: BigInt(raw.challengeBond as string),
    challengeWindow: BigInt(raw.challengeWindow as string),
    moveTimeout: BigInt(raw.moveTimeout as string),
    deployBlock: Number(raw.deployBlock),
    gasUsed: {
      hub: BigInt(gas?.hub ?? 0),
      game: BigInt(gas?.game ?? 0),
      executor: BigInt(gas?.executor ?? 0),
      register: BigInt(gas?.register ?? 0),
    },
  }
}

/** The model's ModelConfig as registered under `deployment.modelId`. */
export function deployedConfig(m: OptimisticModel, d: OptimisticDeployment): GameModelConfig {
  return gameModelConfig(m.params, {
    executor: d.executorAddress,
    claimBond: d.claimBond,
    challengeBond: d.challengeBond,
    challengeWindow: d.challengeWindow,
    moveTimeout: d.moveTimeout,
  })
}

export interface OpenDeploymentParameters {
  /** The build folder holding `optimistic.json` (named in errors). */
  dir: string
  deployment: OptimisticDeployment
  /**
   * The compiled model, checked against the deployment and the game. Without it only the chain
   * and the game's code are checked: finalising and withdrawing need no model.
   */
  model?: OptimisticModel
  runner: ContractRunner
  chainId: bigint
}

/**
 * Checks that a deployment fits the connected chain, the game is there, and (given the model)
 * that the deployment fits the compiled folder and the game holds the model with the committed
 * parameters. Returns the game connected to `runner`.
 */
export async function openDeployment(p: OpenDeploymentParameters): Promise<Contract> {
  const { deployment: d, model: m } = p
  const path = optimisticPath(p.dir)
  const mismatch = (what: string, expected: string, actual: string, hint: string) =>
    new DeploymentMismatchError({ path, what, expected, actual, hint })
  if (m && d.buildModelId !== m.buildModelId)
    throw mismatch(
      'compiled model',
      d.buildModelId,
      m.buildModelId,
      'The folder was recompiled since the game was deployed: run `veriml op deploy` again.',
    )
  if (d.chainId !== p.chainId)
    throw mismatch(
      'chain',
      String(d.chainId),
      String(p.chainId),
      'Pass the --rpc of the chain the game was deployed to.',
    )
  const game = gameContract(d.gameAddress, p.runner)
  if ((await p.runner.provider!.getCode(d.gameAddress)) === '0x')
    throw mismatch(
      'a game at',
      d.gameAddress,
      'no contract code there',
      // Redeploying helps a claimant; a game's claims and credit are gone with it.
      m
        ? 'The chain was reset or --rpc points elsewhere: run `veriml op deploy` again.'
        : 'The chain was reset or --rpc points elsewhere.',
    )
  if (!m) return game
  const onChain = await game.model(d.modelId)
  if (onChain.paramsRoot !== m.params.paramsRoot)
    throw mismatch(
      'parameters root',
      m.params.paramsRoot,
      String(onChain.paramsRoot),
      'The game does not hold this model: run `veriml op deploy` again.',
    )
  return game
}
