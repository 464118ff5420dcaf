import type { Contract, ContractEventName, EventLog, Log, Provider } from 'ethers'

/**
 * Public RPC endpoints refuse `eth_getLogs` over wide block ranges (typically 2,000–10,000
 * blocks, or a result-size cap); every log query of the agents goes through these bounded chunks.
 */
export const MAX_LOG_RANGE = 2_000

/** [from, to] split into consecutive inclusive ranges of at most `maxRange` blocks. */
export function blockRanges(fromBlock: number, toBlock: number, maxRange = MAX_LOG_RANGE): [number, number][] {
  const ranges: [number, number][] = []
  for (let from = fromBlock; from <= toBlock; from += maxRange)
    ranges.push([from, Math.min(toBlock, from + maxRange - 1)])
  return ranges
}

/** `contract.queryFilter` over [fromBlock, toBlock] in chunks of at most `maxRange` blocks, oldest first. */
export async function queryLogs(
  contract: Contract,
  event: ContractEventName,
  fromBlock: number,
  toBlock: number,
  maxRange = MAX_LOG_RANGE,
): Promise<(EventLog | Log)[]> {
  const logs: (EventLog | Log)[] = []
  for (const [from, to] of blockRanges(fromBlock, toBlock, maxRange))
    logs.push(...(await contract.queryFilter(event, from, to)))
  return logs
}

/**
 * The first block whose timestamp is ≥ `timestamp` (binary search, ~log2(head) header reads):
 * a claim's block from its `createdAt`, so its log is found with one narrow query instead of a
 * scan from genesis. `head` when no block is that recent.
 */
export async function firstBlockAtOrAfter(provider: Provider, timestamp: bigint, head?: number): Promise<number> {
  let hi = head ?? (await provider.getBlockNumber())
  let lo = 0
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    const block = await provider.getBlock(mid)
    if (BigInt(block!.timestamp) >= timestamp) hi = mid
    else lo = mid + 1
  }
  return lo
}
