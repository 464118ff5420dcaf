import { type JsonRpcProvider, Wallet } from 'ethers'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import type { IrModel } from '../../src/ir/types.js'
import { gameContract, registerModel } from '../../src/optimistic/client.js'
import { type GameModelConfig, gameModelConfig } from '../../src/optimistic/config.js'
import { deployOptimistic } from '../../src/optimistic/contracts.js'
import type { Hex } from '../../src/optimistic/merkle.js'
import { commitParams, type ParamsCommitment } from '../../src/optimistic/params.js'

export const CLAIM_BOND = 10n ** 18n
export const CHALLENGE_BOND = 5n * 10n ** 17n
export const WINDOW = 3_600n
export const MOVE_TIMEOUT = 600n

export interface GameFixture {
  anvil: AnvilInstance
  provider: JsonRpcProvider
  wallets: Wallet[]
  gameAddress: string
  executorAddress: string
  gameAs(wallet: Wallet): ReturnType<typeof gameContract>
}

export async function startChain(): Promise<AnvilInstance> {
  return startAnvil({ accounts: 10 })
}

/** A fresh game and executor on `anvil`, so each test starts from an empty balance sheet. */
export async function deployGame(anvil: AnvilInstance): Promise<GameFixture> {
  const wallets = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
  const { gameAddress, executorAddress } = await deployOptimistic(wallets[0])
  return {
    anvil, provider: anvil.provider, wallets, gameAddress, executorAddress,
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
    executor: f.executorAddress, claimBond: CLAIM_BOND, challengeBond: CHALLENGE_BOND, challengeWindow: WINDOW, moveTimeout: MOVE_TIMEOUT,
  })
  const { modelId } = await registerModel(f.gameAs(f.wallets[0]), config)
  return { model, params, config, modelId }
}

export async function advanceTime(provider: JsonRpcProvider, seconds: bigint): Promise<void> {
  await provider.send('evm_increaseTime', [Number(seconds)])
  await provider.send('evm_mine', [])
}
