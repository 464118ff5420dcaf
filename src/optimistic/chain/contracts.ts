import { fileURLToPath } from 'node:url'
import { type ContractRunner, ContractFactory, Interface, type InterfaceAbi } from 'ethers'
import { type CompiledContract, compileSolidity } from '../../chain/solc.js'

const SOURCES = fileURLToPath(new URL('../../../verifier-contracts/optimistic', import.meta.url))

/** The optimistic game and its one-step executor, compiled once per process (solc-js takes seconds). */
export interface OptimisticArtifacts {
  game: CompiledContract
  executor: CompiledContract
  /** Every custom error either contract can revert with, for decoding. */
  errors: Interface
}

let cached: OptimisticArtifacts | undefined

export function optimisticArtifacts(): OptimisticArtifacts {
  if (cached) return cached
  const { contracts } = compileSolidity({ baseDir: SOURCES, files: ['OptimisticGame.sol', 'IntegerOneStep.sol'] })
  const game = contracts.OptimisticGame
  const executor = contracts.IntegerOneStep
  const seen = new Set<string>()
  const errorFragments = [...game.abi, ...executor.abi].filter((f) => {
    const item = f as { type: string; name: string; inputs: { type: string }[] }
    const sig = `${item.name}(${item.inputs?.map((i) => i.type).join(',')})`
    if (item.type !== 'error' || seen.has(sig)) return false
    seen.add(sig)
    return true
  })
  cached = { game, executor, errors: new Interface(errorFragments as InterfaceAbi) }
  return cached
}

export interface DeployOptimisticReturnType {
  gameAddress: string
  executorAddress: string
  gasUsed: { game: bigint; executor: bigint }
}

export async function deployOptimistic(runner: ContractRunner): Promise<DeployOptimisticReturnType> {
  const { game, executor } = optimisticArtifacts()
  const deploy = async (c: CompiledContract) => {
    const contract = await new ContractFactory(c.abi as InterfaceAbi, c.bytecode, runner).deploy()
    const receipt = await contract.deploymentTransaction()!.wait()
    return { address: await contract.getAddress(), gasUsed: receipt!.gasUsed }
  }
  const e = await deploy(executor)
  const g = await deploy(game)
  return { gameAddress: g.address, executorAddress: e.address, gasUsed: { game: g.gasUsed, executor: e.gasUsed } }
}
