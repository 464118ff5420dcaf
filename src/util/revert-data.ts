/** Finds the revert data ethers attached to a failed call, wherever the node put it. */
export function revertData(error: unknown): string | undefined {
  const seen = new Set<unknown>()
  const stack: unknown[] = [error]
  while (stack.length > 0) {
    const e = stack.pop()
    if (e === null || typeof e !== 'object' || seen.has(e)) continue
    seen.add(e)
    const record = e as Record<string, unknown>
    if (typeof record.data === 'string' && /^0x[0-9a-fA-F]{8}/.test(record.data)) return record.data
    stack.push(record.data, record.error, record.info, record.cause)
  }
  return undefined
}
