import { fileURLToPath } from 'node:url'
import { type ContractRunner, Contract, Interface, type InterfaceAbi } from 'ethers'
import { type CompiledContract, compileSolidity } from '../chain/solc.js'
import { CHUNK_BYTES, MAX_CODE_BYTES } from './encode.js'

const SOURCES = fileURLToPath(new URL('../../verifier-contracts', import.meta.url))

export interface OnchainArtifacts {
  model: CompiledContract
  /** Every custom error the model contract can revert with (its own, the program's, IntegerOps', the hub's record). */
  errors: Interface
}

/**
 * The errors of the hub's `record` (a run) and `bindSettler` (a deploy), from
 * IVerimlRegistryTypes.sol and Owned.sol, named here so decoding needs no compile of the registry.
 */
const HUB_ERRORS = [
  'error NotSettler(bytes32 modelId, address caller)',
  'error ConflictingProof(bytes32 statementId)',
  'error InvalidSettler(bytes32 modelId, address settler, uint8 how)',
  'error NotOwner(address caller)',
  'error ZeroModelId()',
]

let cached: OnchainArtifacts | undefined

/** OnchainModel compiled once per process (solc-js takes seconds). */
export function onchainArtifacts(): OnchainArtifacts {
  if (cached) return cached
  const { contracts } = compileSolidity({ baseDir: SOURCES, files: ['onchain/OnchainModel.sol'] })
  const seen = new Set<string>()
  const fragments = ['OnchainModel', 'OnchainProgram', 'ProgramInputs', 'ProgramReader', 'LanePacking', 'IntegerOps']
    .flatMap((name) => contracts[name].abi)
    .filter((f) => {
      const item = f as { type: string; name: string; inputs: { type: string }[] }
      const sig = `${item.name}(${item.inputs?.map((i) => i.type).join(',')})`
      if (item.type !== 'error' || seen.has(sig)) return false
      seen.add(sig)
      return true
    })
  const errors = new Interface([...new Interface(fragments as InterfaceAbi).fragments, ...HUB_ERRORS])
  cached = { model: contracts.OnchainModel, errors }
  return cached
}

let hubCached: CompiledContract | undefined

/** The hub (VerimlRegistry), compiled on first use: only to deploy a new one. */
export function hubArtifact(): CompiledContract {
  hubCached ??= compileSolidity({ baseDir: SOURCES, files: ['VerimlRegistry.sol'] }).contracts.VerimlRegistry
  return hubCached
}

export function onchainModelContract(address: string, runner: ContractRunner): Contract {
  return new Contract(address, onchainArtifacts().model.abi as InterfaceAbi, runner)
}

/** The program split into chunks of at most CHUNK_BYTES. */
export function splitProgram(program: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let i = 0; i < program.length; i += CHUNK_BYTES) chunks.push(program.subarray(i, i + CHUNK_BYTES))
  return chunks.length > 0 ? chunks : [new Uint8Array(0)]
}

/**
 * Creation code of a data contract whose code is 0x00 ‖ data: a 12-byte prefix that copies the
 * rest of itself to memory and returns it.
 *   PUSH2 n  DUP1  PUSH1 12  PUSH1 0  CODECOPY  PUSH1 0  RETURN     (n = data length + 1)
 */
export function dataContractInitCode(data: Uint8Array): Uint8Array {
  const n = data.length + 1
  if (n > MAX_CODE_BYTES) throw new RangeError(`a chunk of ${data.length} bytes is over EIP-170's limit`)
  const prefix = [0x61, n >> 8, n & 0xff, 0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3]
  const code = new Uint8Array(prefix.length + n)
  code.set(prefix)
  code.set(data, prefix.length + 1)
  return code
}
