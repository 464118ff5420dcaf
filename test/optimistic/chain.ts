import { Contract, ContractFactory, type InterfaceAbi, JsonRpcProvider, Network, Wallet } from 'ethers'
import { type AnvilInstance, type StartAnvilParameters, startAnvil } from '../../src/chain/anvil.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { fileURLToPath } from 'node:url'
import type { IrModel } from '../../src/ir/types.js'
import { modelId as irModelId } from '../../src/ir/serialize.js'
import { call, gameContract, registerModel } from '../../src/optimistic/chain/client.js'
import { type GameModelConfig, gameModelConfig } from '../../src/optimistic/config.js'
import { deployOptimistic, optimisticArtifacts } from '../../src/optimistic/chain/contracts.js'
import type { Hex } from '../../src/util/hex.js'
import {
  buildFoldRowProof,
  buildFoldStepProof,
  buildOneStepProof,
  isFoldOp,
  stepQuery,
} from '../../src/optimistic/one-step.js'
import { commitParams, type ParamsCommitment } from '../../src/optimistic/params.js'
import type { Trace } from '../../src/optimistic/trace.js'
import type { GameContext } from '../../src/optimistic/chain/watch.js'

export const CLAIM_BOND = 10n ** 18n
export const CHALLENGE_BOND = 5n * 10n ** 17n
export const WINDOW = 3_600n
export const MOVE_TIMEOUT = 600n

export interface GameFixture {
  anvil: AnvilInstance
  provider: JsonRpcProvider
  wallets: Wallet[]
  /** The hub (VerimlRegistry) the game follows, owned by wallets[0]. */
  hubAddress: string
  gameAddress: string
  executorAddress: string
  gameAs(wallet: Wallet): ReturnType<typeof gameContract>
}

export async function startChain(): Promise<AnvilInstance> {
  return startQuickAnvil({ accounts: 10 })
}

/**
 * A provider that asks again for a receipt anvil has not indexed yet. anvil answers
 * eth_sendRawTransaction before its automining task has mined the transaction; ethers'
 * `wait()` then re-checks the receipt only on a later block, and if the block with the
 * transaction was already the latest when it started listening, only on the block after it:
 * never, on a quiet node (a test hung on this). A mined transaction's receipt is there within
 * milliseconds, so a few retries close the race; a hash that is never mined still gets null.
 */
class QuickProvider extends JsonRpcProvider {
  override async getTransactionReceipt(hash: string): ReturnType<JsonRpcProvider['getTransactionReceipt']> {
    for (let attempt = 0; ; attempt++) {
      const receipt = await super.getTransactionReceipt(hash)
      if (receipt || attempt === RECEIPT_RETRIES) return receipt
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
const RECEIPT_RETRIES = 50

/**
 * An anvil whose provider answers without ethers' waits, for tests that send thousands of
 * requests one after another. ethers holds every request 10 ms (batchStallTime) to batch it
 * with others, and when a receipt is not there at once it polls again only after 4 s
 * (pollingInterval): about 150 ms per transaction and 13 ms per call against 15-45 ms and
 * 2-5 ms here (measured). Only the transport changes: the same requests, in the same order,
 * to the same node (and a receipt asked again until it is there: QuickProvider). Concurrent
 * requests in one tick are still batched (stall 0).
 */
export async function startQuickAnvil(parameters: StartAnvilParameters = {}): Promise<AnvilInstance> {
  const node = await startAnvil(parameters)
  const provider = new QuickProvider(node.rpcUrl, undefined, {
    staticNetwork: Network.from(node.chainId),
    cacheTimeout: -1,
    batchStallTime: 0,
  })
  provider.pollingInterval = 20
  return {
    ...node,
    provider,
    stop: async () => {
      provider.destroy()
      await node.stop()
    },
  }
}

/** A fresh game and executor on `anvil`, so each test starts from an empty balance sheet. */
export async function deployGame(anvil: AnvilInstance): Promise<GameFixture> {
  const wallets = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
  const { hubAddress, gameAddress, executorAddress } = await deployOptimistic(wallets[0])
  return {
    anvil,
    provider: anvil.provider,
    wallets,
    hubAddress,
    gameAddress,
    executorAddress,
    gameAs: (wallet) => gameContract(gameAddress, wallet),
  }
}

export interface RegisteredModel {
  model: IrModel
  params: ParamsCommitment
  config: GameModelConfig
  modelId: Hex
}

export async function registerTestModel(f: GameFixture, model: IrModel): Promise<RegisteredModel> {
  const params = commitParams(model)
  const config = gameModelConfig(params, {
    executor: f.executorAddress,
    claimBond: CLAIM_BOND,
    challengeBond: CHALLENGE_BOND,
    challengeWindow: WINDOW,
    moveTimeout: MOVE_TIMEOUT,
  })
  // One id for every path: the IR hash, as the hub and a build's manifest name the model.
  const { modelId } = await registerModel(f.gameAs(f.wallets[0]), irModelId(model), config)
  return { model, params, config, modelId }
}

/** What an agent (watcher, claimant) of a registered test model needs, acting as `wallet`. */
export const ctxOf = (f: GameFixture, m: RegisteredModel, wallet: Wallet, challengeWindow = WINDOW): GameContext => ({
  game: f.gameAs(wallet),
  modelId: m.modelId,
  model: m.model,
  params: m.params,
  challengeBond: CHALLENGE_BOND,
  challengeWindow,
})

export async function advanceTime(provider: JsonRpcProvider, seconds: bigint): Promise<void> {
  await provider.send('evm_increaseTime', [Number(seconds)])
  await provider.send('evm_mine', [])
}

/**
 * The executor's value of element `element` of step `stepIndex`, through the committed proofs:
 * `valueAt` for requant, gather, lookup, mul, div and isqrt; for linear and max, `foldRow` then one
 * `foldStep` per term, each from the executor's previous result.
 */
export async function executeElement(
  executor: Contract,
  model: IrModel,
  params: ParamsCommitment,
  trace: Trace,
  stepIndex: number,
  element: number,
): Promise<bigint> {
  const p = { model, params, trace, stepIndex, element }
  const q = stepQuery(params, trace, stepIndex, element)
  if (!isFoldOp(model.steps[stepIndex].op))
    return call<bigint>('valueAt', () => executor.valueAt(q, buildOneStepProof(p)))
  const [init, termCount, termsRoot] = await call<[bigint, bigint, Hex]>('foldRow', () =>
    executor.foldRow(q, buildFoldRowProof(p)),
  )
  let acc = init
  for (let term = 0; term < Number(termCount); term++) {
    const f = { step: q, term, termCount, termsRoot, acc }
    acc = await call<bigint>('foldStep', () => executor.foldStep(f, buildFoldStepProof({ ...p, term })))
  }
  return acc
}

/** The executor deployed with the game of `f`, for direct calls. */
export function executorOf(f: { executorAddress: string; provider: JsonRpcProvider }): Contract {
  return new Contract(f.executorAddress, optimisticArtifacts().executor.abi as InterfaceAbi, f.provider)
}

/**
 * An anvil with the deployed one-step executor, and (`harness`) test/optimistic/OpsHarness.sol,
 * which calls the IntegerOps library directly: what the differential one-step tests run against.
 */
export async function executorOnAnvil(
  opts: { harness?: boolean } = {},
): Promise<{ anvil: AnvilInstance; executor: Contract; harness: Contract | null }> {
  const anvil = await startQuickAnvil()
  const wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
  const { executorAddress } = await deployOptimistic(wallet)
  const executor = new Contract(executorAddress, optimisticArtifacts().executor.abi as InterfaceAbi, anvil.provider)
  if (!opts.harness) return { anvil, executor, harness: null }
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const h = compileSolidity({ baseDir: root, files: ['test/optimistic/OpsHarness.sol'] }).contracts.OpsHarness
  const harness = (await (
    await new ContractFactory(h.abi as InterfaceAbi, h.bytecode, wallet).deploy()
  ).waitForDeployment()) as Contract
  return { anvil, executor, harness }
}
