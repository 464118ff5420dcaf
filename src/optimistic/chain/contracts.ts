import { fileURLToPath } from 'node:url'
import { type ContractRunner, ContractFactory, Interface, type InterfaceAbi } from 'ethers'
import { type CompiledContract, compileSolidity } from '../../chain/solc.js'

const SOURCES = fileURLToPath(new URL('../../../verifier-contracts', import.meta.url))

/** The optimistic game, its one-step executor and the hub, compiled once per process (solc-js takes seconds). */
export interface OptimisticArtifacts {
  game: CompiledContract
  executor: CompiledContract
  /** VerimlRegistry: the model ids and the owner the game follows. */
  hub: CompiledContract
  /** Every custom error the game, the executor or the hub can revert with, for decoding. */
  errors: Interface
}

let cached: OptimisticArtifacts | undefined

export function optimisticArtifacts(): OptimisticArtifacts {
  if (cached) return cached
  const { contracts } = compileSolidity({
    baseDir: SOURCES,
    files: ['optimistic/OptimisticGame.sol', 'optimistic/IntegerOneStep.sol', 'VerimlRegistry.sol'],
  })
  const game = contracts.OptimisticGame
  const executor = contracts.IntegerOneStep
  const seen = new Set<string>()
  const errorFragments = [...game.abi, ...executor.abi, ...contracts.VerimlRegistry.abi].filter((f) => {
    const item = f as { type: string; name: string; inputs: { type: string }[] }
    const sig = `${item.name}(${item.inputs?.map((i) => i.type).join(',')})`
    if (item.type !== 'error' || seen.has(sig)) return false
    seen.add(sig)
    return true
  })
  cached = { game, executor, hub: contracts.VerimlRegistry, errors: new Interface(errorFragments as InterfaceAbi) }
  return cached
}

export interface DeployOptimisticReturnType {
  hubAddress: string
  gameAddress: string
  executorAddress: string
  gasUsed: { hub: bigint; game: bigint; executor: bigint }
}

export interface DeployOptimisticOptions {
  /** The hub (VerimlRegistry) the game follows; by default a new one owned by `runner`. */
  hubAddress?: string
}

/**
 * Deploys executor + game (and, without `hubAddress`, a hub owned by `runner`). Only the hub's
 * owner can register models in the game, so with a given hub `runner` must be its owner to
 * register.
 */
export async function deployOptimistic(
  runner: ContractRunner & { getAddress(): Promise<string> },
  options: DeployOptimisticOptions = {},
): Promise<DeployOptimisticReturnType> {
  const { game, executor, hub } = optimisticArtifacts()
  const deploy = async (c: CompiledContract, args: unknown[]) => {
    const contract = await new ContractFactory(c.abi as InterfaceAbi, c.bytecode, runner).deploy(...args)
    const receipt = await contract.deploymentTransaction()!.wait()
    return { address: await contract.getAddress(), gasUsed: receipt!.gasUsed }
  }
  const h = options.hubAddress
    ? { address: options.hubAddress, gasUsed: 0n }
    : await deploy(hub, [await runner.getAddress()])
  const e = await deploy(executor, [])
  const g = await deploy(game, [h.address])
  return {
    hubAddress: h.address,
    gameAddress: g.address,
    executorAddress: e.address,
    gasUsed: { hub: h.gasUsed, game: g.gasUsed, executor: e.gasUsed },
  }
}
