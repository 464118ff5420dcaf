/**
 * Setup file of the slow project: compileSolidity answers a compile it has already done, in
 * this run or an earlier one, from test/helpers/solc-cache.ts's cache (solc-js is the same
 * deterministic compiler either way). The tests still compile every source they deploy: once.
 */
import { vi } from 'vitest'
import { cachedCompileSolidity } from './helpers/solc-cache.js'

vi.mock('../src/chain/solc.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/chain/solc.js')>()
  return { ...actual, compileSolidity: cachedCompileSolidity(actual) }
})
