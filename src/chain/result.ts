import { readFile } from 'node:fs/promises'
import { Contract } from 'ethers'
import type { ModelSource } from '../model.js'
import { statementCommitments } from '../ir/commitment.js'
import { artifactPaths } from '../prove/paths.js'
import { runModel } from '../prove/prove.js'
import { statementIdFor } from './calldata.js'
import { SETTLEMENTS, type Settlement, verimlRegistryAbi } from './contracts.js'
import { ChainTransactionError } from './errors.js'
import { connect } from './rpc.js'

export interface ReadResultParameters {
  /** A build folder (either target). */
  dir: string
  /** The input, as for `veriml run`. */
  input: unknown
  rpcUrl: string
  /** The registry (hub); by default the one the folder's optimistic.json or deployment.json names. */
  registryAddress?: string
}

export interface ReadResultReturnType {
  modelId: string
  registryAddress: string
  /** keccak256 of the packed input words (the proof's input signals, the claim's input). */
  inputCommitment: string
  statementId: string
  settlement: Settlement
  /** Seconds; undefined when not settled. */
  at?: number
  /** The reference executor's outputs on the input. */
  outputs: bigint[][]
  /** Whether the recorded outputs are the reference executor's (false when not settled). */
  outputsMatch: boolean
}

/**
 * The registry's result of the statement (the folder's model, `input`): how it was settled and
 * whether its outputs are the reference executor's. The input commitment is the packed input
 * words', the statement of an optimistic claim and of a proof with a public input (a hashed
 * input's proof commits to its Poseidon hash instead: such a statement is not found here).
 */
export async function readResult(p: ReadResultParameters): Promise<ReadResultReturnType> {
  const run = await runModel({ model: p.dir satisfies ModelSource, input: p.input })
  const { inputCommitment, outputsHash } = statementCommitments(run.ir, run.inputs, run.outputs)
  const modelId = run.manifest.modelId
  const registryAddress = p.registryAddress ?? (await registryOf(p.dir))
  const statementId = statementIdFor(modelId, inputCommitment)
  const { provider } = await connect(p.rpcUrl)
  try {
    const hub = new Contract(registryAddress, verimlRegistryAbi, provider)
    const [how, at] = (await hub.resultOf(modelId, inputCommitment)) as [bigint, bigint, string]
    const matches = (await hub.outputsMatch(statementId, outputsHash)) as boolean
    const settlement = SETTLEMENTS[Number(how)]
    return {
      modelId,
      registryAddress,
      inputCommitment,
      statementId,
      settlement,
      ...(settlement === 'none' ? {} : { at: Number(at) }),
      outputs: run.outputs,
      outputsMatch: matches,
    }
  } finally {
    provider.destroy()
  }
}

/** The hub the folder was deployed to: optimistic.json's, else deployment.json's registry. */
async function registryOf(dir: string): Promise<string> {
  const paths = artifactPaths(dir)
  for (const [path, pick] of [
    [paths.optimistic, (j: Record<string, unknown>) => j.hubAddress],
    [paths.deployment, (j: Record<string, unknown>) => (j.registry as { address?: unknown } | undefined)?.address],
  ] as const) {
    const text = await readFile(path, 'utf8').catch(() => undefined)
    const address = text === undefined ? undefined : pick(JSON.parse(text) as Record<string, unknown>)
    if (typeof address === 'string') return address
  }
  throw new ChainTransactionError({
    action: 'resultOf',
    reason: `${dir} has no optimistic.json or deployment.json naming a registry: pass --registry ADDRESS`,
  })
}
