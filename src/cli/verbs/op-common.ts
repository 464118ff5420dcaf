import { readFile } from 'node:fs/promises'
import { FLAG, type Flags } from '../flags.js'
import { UsageError } from '../format.js'

/** What the `op` verbs share: their default endpoint, flag definitions and small parsers. */

export const DEFAULT_RPC = 'http://127.0.0.1:8545'

/** The op verbs have no embedded chain: an unreachable endpoint means start one or point --rpc elsewhere. */
export const OP_RPC_HINT = `Check --rpc (default ${DEFAULT_RPC}), or start a local chain there with \`veriml node\`.`

/** Flags of the op verbs, each declared once. */
export const OP_FLAG = {
  rpc: { ...FLAG.rpc, help: `JSON-RPC endpoint (default ${DEFAULT_RPC})` },
  'private-key': FLAG['private-key'],
  input: { ...FLAG.input, help: 'input JSON, as for `veriml run`' },
  'poll-ms': FLAG['poll-ms'],
} as const

export const out = (line: string) => console.log(line)
export const eth = (wei: bigint) => `${Number(wei) / 1e18} ETH`
/** Output tensors as one JSON line (bigints as strings). */
export const tensorsJson = (tensors: bigint[][]) => JSON.stringify(tensors.map((t) => t.map(String)))

export function integerFlag(flags: Flags, name: string): bigint | undefined {
  const v = flags[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d+$/.test(v))
    throw new UsageError(`--${name} must be a non-negative integer; got "${String(v)}"`)
  return BigInt(v)
}

export const pollMs = (flags: Flags) => Number(integerFlag(flags, 'poll-ms') ?? 1_000n)

export async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((cause) => {
    throw new UsageError(`cannot read ${path}`, { cause })
  })
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new UsageError(`${path} is not valid JSON`, { cause })
  }
}
