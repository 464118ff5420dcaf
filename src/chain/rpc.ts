import { JsonRpcProvider, Network, Wallet } from 'ethers'
import { MissingPrivateKeyError, RpcUnreachableError } from './errors.js'

/**
 * One raw JSON-RPC request with a timeout. Used before any ethers provider exists: an
 * ethers provider without `staticNetwork` retries network detection forever in the
 * background, so reachability is established first, by hand.
 */
export async function rpcRequest(
  rpcUrl: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 2_000,
): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`)
  const body = (await response.json()) as { result?: unknown; error?: { message?: string } }
  if (body.error) throw new Error(`JSON-RPC error: ${body.error.message ?? JSON.stringify(body.error)}`)
  return body.result
}

export interface ConnectReturnType {
  provider: JsonRpcProvider
  chainId: bigint
}

/** Checks the endpoint answers `eth_chainId`, then builds a provider pinned to that chain. */
export async function connect(
  rpcUrl: string,
  { timeoutMs = 5_000 }: { timeoutMs?: number } = {},
): Promise<ConnectReturnType> {
  let chainId: bigint
  try {
    chainId = BigInt((await rpcRequest(rpcUrl, 'eth_chainId', [], timeoutMs)) as string)
  } catch (error) {
    throw new RpcUnreachableError({ rpcUrl, cause: error })
  }
  const provider = new JsonRpcProvider(rpcUrl, undefined, {
    staticNetwork: Network.from(chainId),
    // ethers reuses identical requests for 250 ms by default, which hands back a stale
    // nonce to a second transaction sent right after the first one is mined.
    cacheTimeout: -1,
  })
  return { provider, chainId }
}

/**
 * Why a private key string is unusable, in words that never quote it (null: well formed).
 * Checked by hand, before ethers sees the key: ethers' own errors quote the value they reject.
 */
export function privateKeyProblem(key: string): string | null {
  const body = key.startsWith('0x') || key.startsWith('0X') ? key.slice(2) : key
  if (!/^[0-9a-fA-F]*$/.test(body))
    return `it contains characters that are not hex digits (${key.length} characters given)`
  if (body.length !== 64) return `it has ${body.length} hex digits, a private key has 64`
  if (/^0+$/.test(body)) return 'it is zero'
  return null
}

/**
 * The signing key: the parameter, else env VERIML_PRIVATE_KEY. Never logged, and never part
 * of an error message or an error's cause: a malformed key is described (length, characters),
 * never quoted, and ethers' error for a key it still refuses is dropped, not kept as a cause.
 * The embedded node's dev keys are passed in explicitly by whoever started that node, never
 * defaulted to here.
 */
export function walletFor(provider: JsonRpcProvider, privateKey?: string): Wallet {
  const fromEnv = privateKey === undefined
  const key = (privateKey ?? process.env.VERIML_PRIVATE_KEY)?.trim()
  const source = fromEnv ? 'VERIML_PRIVATE_KEY' : '--private-key'
  if (key === undefined || key === '')
    throw new MissingPrivateKeyError({ reason: 'none given and VERIML_PRIVATE_KEY is unset' })
  const problem = privateKeyProblem(key)
  if (problem) throw new MissingPrivateKeyError({ reason: `the key from ${source} is not a private key: ${problem}` })
  try {
    return new Wallet(key.startsWith('0x') ? key : `0x${key}`, provider)
  } catch {
    // INVARIANT: no cause: ethers' message would quote the key.
    throw new MissingPrivateKeyError({
      reason: `the key from ${source} is not a valid secp256k1 private key (out of the curve's range)`,
    })
  }
}
