import { type Provider, type TransactionRequest, type TransactionResponse, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { modelId, modelId as irModelId } from '../../src/ir/serialize.js'
import { sendBatch } from '../../src/optimistic/chain/batch.js'
import { deployOptimisticCommitment } from '../../src/optimistic/chain/deployment.js'
import { DisputeBudgetError } from '../../src/optimistic/errors.js'
import { gameContract, readClaim, registerModel } from '../../src/optimistic/chain/client.js'
import { gameModelConfig } from '../../src/optimistic/config.js'
import { blockRanges, firstBlockAtOrAfter, MAX_LOG_RANGE } from '../../src/optimistic/chain/logs.js'
import type { Hex } from '../../src/util/hex.js'
import { commitParams } from '../../src/optimistic/params.js'
import { claimsOf, disputesOf, gameNow } from '../../src/optimistic/chain/remote.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { defendClaim, defendClaims, type WatchEvent, watchClaims } from '../../src/optimistic/chain/watch.js'
import {
  advanceTime,
  CHALLENGE_BOND,
  CLAIM_BOND,
  ctxOf,
  deployGame,
  type GameFixture,
  MOVE_TIMEOUT,
  registerTestModel,
  type RegisteredModel,
  startChain,
  WINDOW,
} from './chain.js'
import { manyOperandsModel } from './fixtures.js'
import { tinyModel } from './models.js'
import { lyingTrace, postClaim } from './scenario.js'

const INPUT = [[9n, 8n, -7n, 6n, -5n, 4n]]
/** Moves anyone may send (the outcome is fixed by the proofs): what a copier can race. */
const COPYABLE = ['step', 'startFold', 'foldStep', 'finalize']

/**
 * A signer whose first transaction calling one of `names` is copied by `copier` and mined just
 * before its own: the agent's transaction passed its estimate, then loses the race on chain.
 */
class CopiedWallet extends Wallet {
  copied: string[] = []
  constructor(
    privateKey: string,
    provider: Provider,
    private readonly copier: Wallet,
    private readonly selectors: Map<string, string>,
  ) {
    super(privateKey, provider)
  }
  override async sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const name = this.selectors.get(String(tx.data).slice(0, 10))
    if (name && this.copied.length === 0) {
      this.copied.push(name)
      await (await this.copier.sendTransaction({ to: tx.to, data: tx.data })).wait()
    }
    return super.sendTransaction(tx)
  }
}

function selectorsOf(f: GameFixture, names: string[]): Map<string, string> {
  const iface = f.gameAs(f.wallets[0]).interface
  return new Map(
    names.flatMap((n) => (iface.getFunction(n) ? [[iface.getFunction(n)!.selector, n] as [string, string]] : [])),
  )
}

const errorsOf = (events: WatchEvent[]) => events.filter((e) => e.type === 'error')

/** The shortest challenge window the game accepts (MIN_CLOCK). */
const QUIET_WINDOW = 60n
/** Seconds of the window left to wait on the wall clock after the claim (see quietClaim). */
const QUIET_WAIT = 5

/**
 * A claim on its own anvil, defended from the start of the file while the other tests run:
 * after the claim, nothing mines a block (no evm_mine, no other transaction), so the latest
 * block's time stays at the claim's while the defender waits. The node's clock is set back
 * before the game is deployed, and forward to the wall clock again right after the claim
 * (evm_setTime, evm_increaseTime: neither mines a block): the claim reads as posted
 * QUIET_WINDOW - QUIET_WAIT seconds ago, so the wall clock passes its window QUIET_WAIT
 * seconds after it, not 60. The defender's own clock is the real one, untouched.
 */
async function quietClaim() {
  const node = await startChain()
  const behind = Number(QUIET_WINDOW) - QUIET_WAIT
  await node.provider.send('evm_setTime', [Math.floor(Date.now() / 1000) - behind])
  const f = await deployGame(node)
  const model = tinyModel()
  const params = commitParams(model)
  const config = gameModelConfig(params, {
    executor: f.executorAddress,
    claimBond: CLAIM_BOND,
    challengeBond: CHALLENGE_BOND,
    challengeWindow: QUIET_WINDOW,
    moveTimeout: MOVE_TIMEOUT,
  })
  const { modelId } = await registerModel(f.gameAs(f.wallets[0]), irModelId(model), config)
  const m: RegisteredModel = { model, params, config, modelId }
  const claimant = f.wallets[1]
  const honest = buildTrace(model, INPUT)
  const { claimId, key } = await postClaim(f, m, claimant, honest)
  const claimBlock = (await f.provider.getBlock('latest'))!
  await node.provider.send('evm_increaseTime', [behind])
  const events: WatchEvent[] = []
  const defence = defendClaim({
    ...ctxOf(f, m, claimant, QUIET_WINDOW),
    claimId,
    key,
    trace: honest,
    fromBlock: claimBlock.number,
    pollMs: 500,
    maxPolls: 240,
    onEvent: (e) => events.push(e),
  })
  return { node, provider: f.provider, claimId, claimBlock, events, defence }
}
let quiet: ReturnType<typeof quietClaim>
beforeAll(() => {
  quiet = quietClaim()
  quiet.catch(() => {})
})
afterAll(async () => (await quiet.catch(() => undefined))?.node.stop())

describe('agents keep going (anvil)', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('a watcher whose move is copied by someone else reads the lost race as settled, wins, and goes on to the next claim', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const [, cheater, , copier] = f.wallets
    const watcher = new CopiedWallet(f.wallets[2].privateKey, f.provider, copier, selectorsOf(f, COPYABLE))
    const fromBlock = await f.provider.getBlockNumber()
    const events: WatchEvent[] = []
    const controller = new AbortController()
    const watching = watchClaims({
      ...ctxOf(f, m, watcher),
      fromBlock,
      pollMs: 50,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    })
    for (const delta of [50n, 7n]) {
      const lie = lyingTrace(m, INPUT, m.params.layout.inputCount, 0, delta, true)
      const { claimId, key } = await postClaim(f, m, cheater, lie)
      const defended = await defendClaim({
        ...ctxOf(f, m, cheater),
        claimId,
        key,
        trace: lie,
        fromBlock,
        pollMs: 50,
        maxPolls: 400,
      })
      expect(defended.status).toBe('Rejected')
    }
    controller.abort()
    const summary = await watching
    expect(watcher.copied).toHaveLength(1)
    expect(summary.disputes).toHaveLength(2)
    expect(summary.disputes.every((d) => !d.claimantWon)).toBe(true)
    expect(errorsOf(events)).toEqual([])
    // The copier paid gas and gained nothing: the dispute pays the challenger, not the sender.
    expect(await f.gameAs(copier).credit(copier.address)).toBe(0n)
    // Each win: the challenge bond back and half the claim bond (the other half is burned).
    expect(await f.gameAs(copier).credit(watcher.address)).toBe(2n * (CLAIM_BOND / 2n + CHALLENGE_BOND))
    expect(await f.gameAs(copier).burned()).toBe(2n * (CLAIM_BOND - CLAIM_BOND / 2n))
  }, 60_000)

  it('a claimant whose finalize is raced by another sender sees the claim finalised, with no error', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const claimant = new CopiedWallet(f.wallets[1].privateKey, f.provider, f.wallets[3], selectorsOf(f, ['finalize']))
    const fromBlock = await f.provider.getBlockNumber()
    const honest = buildTrace(m.model, INPUT)
    const { claimId, key } = await postClaim(f, m, claimant, honest)
    await advanceTime(f.provider, WINDOW + 1n)
    const events: WatchEvent[] = []
    const r = await defendClaim({
      ...ctxOf(f, m, claimant),
      claimId,
      key,
      trace: honest,
      fromBlock,
      pollMs: 50,
      maxPolls: 20,
      onEvent: (e) => events.push(e),
    })
    expect(claimant.copied).toEqual(['finalize'])
    expect(r.status).toBe('Finalized')
    expect(events).toEqual([])
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND)
  }, 30_000)

  it('under a flood of 30 false claims every one is disputed and rejected, and a claim posted late in the flood is challenged while the flood is still being played', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const [, cheater, watcher, , late] = f.wallets
    const fromBlock = await f.provider.getBlockNumber()
    const events: WatchEvent[] = []
    const controller = new AbortController()
    const watching = watchClaims({
      ...ctxOf(f, m, watcher),
      fromBlock,
      pollMs: 100,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    })
    const flood = []
    for (let i = 0; i < 30; i++) {
      const trace = lyingTrace(m, INPUT, m.params.layout.inputCount + (i % 3), i % 3, BigInt(i + 1), true)
      flood.push({ ...(await postClaim(f, m, cheater, trace)), trace })
    }
    // One defender, one signer, all 30 disputes: its moves go out together every poll.
    const defending = defendClaims({ ...ctxOf(f, m, cheater), claims: flood, fromBlock, pollMs: 100, maxPolls: 1_500 })
    const challenged = () => events.filter((e) => e.type === 'challenged').length
    for (let i = 0; i < 300 && challenged() < 30; i++) await new Promise((r) => setTimeout(r, 50))
    expect(challenged()).toBe(30)
    const lateLie = lyingTrace(m, INPUT, m.params.layout.inputCount, 1, 3n, true)
    const lateClaim = await postClaim(f, m, late, lateLie)
    const lateDefence = defendClaim({
      ...ctxOf(f, m, late),
      claimId: lateClaim.claimId,
      key: lateClaim.key,
      trace: lateLie,
      fromBlock,
      pollMs: 100,
      maxPolls: 1_500,
    })
    const [floodResult, lateResult] = await Promise.all([defending, lateDefence])
    controller.abort()
    const summary = await watching
    expect(Object.values(floodResult.status)).toEqual(Array(30).fill('Rejected'))
    expect(lateResult.status).toBe('Rejected')
    const lateChallenge = events.findIndex((e) => e.type === 'challenged' && e.claimId === lateClaim.claimId)
    const resolvedBefore = events.slice(0, lateChallenge).filter((e) => e.type === 'resolved').length
    expect(lateChallenge).toBeGreaterThan(0)
    expect(resolvedBefore).toBeLessThan(30)
    // It was checked well inside its window.
    const lateRecord = await readClaim(f.gameAs(watcher), lateClaim.claimId)
    expect(lateRecord.status).toBe('Rejected')
    expect(summary.checked).toBe(31)
    expect(summary.disputes.filter((d) => !d.claimantWon)).toHaveLength(31)
    expect(errorsOf(events)).toEqual([])
    expect(await f.gameAs(watcher).credit(watcher.address)).toBe(31n * (CLAIM_BOND / 2n + CHALLENGE_BOND))
    expect(await f.gameAs(watcher).credit(cheater.address)).toBe(0n)
  }, 90_000)

  it('a second watcher whose dispute was overtaken by another dispute closes it as moot and gets its bond back', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const [, cheater, first, second] = f.wallets
    const fromBlock = await f.provider.getBlockNumber()
    const events = new Map<string, WatchEvent[]>([
      [first.address, []],
      [second.address, []],
    ])
    const controller = new AbortController()
    const watchers = [first, second].map((w) =>
      watchClaims({
        ...ctxOf(f, m, w),
        fromBlock,
        pollMs: 50,
        signal: controller.signal,
        onEvent: (e) => events.get(w.address)!.push(e),
      }),
    )
    const lie = lyingTrace(m, INPUT, m.params.layout.inputCount, 0, 50n, true)
    const { claimId, key } = await postClaim(f, m, cheater, lie)
    expect(
      (await defendClaim({ ...ctxOf(f, m, cheater), claimId, key, trace: lie, fromBlock, pollMs: 50, maxPolls: 400 }))
        .status,
    ).toBe('Rejected')
    for (let i = 0; i < 100 && (await readClaim(f.gameAs(first), claimId)).openDisputes > 0; i++)
      await new Promise((r) => setTimeout(r, 50))
    controller.abort()
    const summaries = await Promise.all(watchers)
    expect(summaries.map((s) => s.disputes.map((d) => d.claimantWon))).toEqual([[false], [false]])
    const moves = [first, second].map((w) =>
      events
        .get(w.address)!
        .filter((e) => e.type === 'move')
        .map((e) => e.type === 'move' && e.sent.move),
    )
    expect(moves.filter((ms) => ms.includes('closeMoot'))).toHaveLength(1)
    const credits = await Promise.all([first, second].map(async (w) => (await f.gameAs(w).credit(w.address)) as bigint))
    expect(credits.sort()).toEqual([CHALLENGE_BOND, CLAIM_BOND / 2n + CHALLENGE_BOND].sort())
    expect(await f.gameAs(first).burned()).toBe(CLAIM_BOND - CLAIM_BOND / 2n)
    expect([...events.values()].flatMap(errorsOf)).toEqual([])
  }, 60_000)

  it('deploying refuses, before sending anything, a model whose worst dispute transaction exceeds the budget, naming the step and its origin', async () => {
    const model = manyOperandsModel()
    const deployer = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
    const nonce = await anvil.provider.getTransactionCount(deployer.address)
    const deploying = deployOptimisticCommitment({
      params: commitParams(model),
      modelName: model.name,
      buildModelId: modelId(model),
      runner: deployer,
      chainId: anvil.chainId,
    })
    await expect(deploying).rejects.toThrow(DisputeBudgetError)
    await expect(deploying).rejects.toThrow(/step 0 \("Concat_42"\)/)
    expect(await anvil.provider.getTransactionCount(deployer.address)).toBe(nonce)
    const fits = await deployOptimisticCommitment({
      params: commitParams(tinyModel()),
      modelName: 'tiny',
      buildModelId: modelId(tinyModel()),
      runner: deployer,
      chainId: anvil.chainId,
    })
    expect(fits.worstDisputeTx!.gasBound).toBeLessThanOrEqual(1_000_000)
  })

  it('sendBatch skips a transaction that reverts at its estimate (nothing sent, no nonce used) and sends the rest', async () => {
    const f = await deployGame(anvil)
    const [, sender, other] = f.wallets
    const game = f.gameAs(sender)
    const nonce = await f.provider.getTransactionCount(sender.address, 'pending')
    const outcomes = await sendBatch(sender, [
      { action: 'withdraw', tag: 'nothing to withdraw', build: () => game.withdraw.populateTransaction() },
      { action: 'transfer', tag: 'a', build: async () => ({ to: other.address, data: '0x', value: 1n }) },
      { action: 'transfer', tag: 'b', build: async () => ({ to: other.address, data: '0x', value: 2n }) },
    ])
    expect(outcomes.find((o) => o.tag === 'nothing to withdraw')).toMatchObject({
      state: 'rejected',
      error: { errorName: 'NothingToWithdraw' },
    })
    expect(
      outcomes
        .filter((o) => o.state === 'mined')
        .map((o) => o.tag)
        .sort(),
    ).toEqual(['a', 'b'])
    expect(await f.provider.getTransactionCount(sender.address, 'latest')).toBe(nonce + 2)
  })
})

describe('time on a quiet node', () => {
  it('a defender on an automining node with no further blocks finalises once the wall clock passes the window', async () => {
    const q = await quiet
    const r = await q.defence
    expect(r.status).toBe('Finalized')
    expect(q.events).toEqual([
      { type: 'finalized', claimId: q.claimId, gasUsed: expect.any(BigInt), calldataBytes: expect.any(Number) },
    ])
    const finalizeBlock = await q.provider.getBlock('latest')
    expect(finalizeBlock!.number).toBe(q.claimBlock.number + 1)
    expect(BigInt(finalizeBlock!.timestamp)).toBeGreaterThan(BigInt(q.claimBlock.timestamp) + QUIET_WINDOW)
    await q.node.stop()
  }, 120_000)

  it('a node started with a block time mines on its own, so chain time moves without transactions', async () => {
    const node = await startAnvil({ blockTime: 1 })
    try {
      const first = await node.provider.getBlock('latest')
      await new Promise((r) => setTimeout(r, 2_500))
      const later = await node.provider.getBlock('latest')
      expect(later!.number).toBeGreaterThanOrEqual(first!.number + 2)
      expect(later!.timestamp).toBeGreaterThanOrEqual(first!.timestamp + 2)
    } finally {
      await node.stop()
    }
  })

  it('"now" is the later of the latest block time and the wall clock', async () => {
    const wall = BigInt(Math.floor(Date.now() / 1000))
    const at = (timestamp: number) => ({ getBlock: async () => ({ timestamp }) }) as unknown as Provider
    expect(await gameNow(at(1_000))).toBeGreaterThanOrEqual(wall)
    expect(await gameNow(at(Number(wall) + 10_000))).toBe(wall + 10_000n)
  })
})

describe('log queries in bounded block ranges', () => {
  /** A game whose provider records each eth_getLogs range and returns no logs. */
  function recordingGame(): { game: ReturnType<typeof gameContract>; ranges: [number, number][] } {
    const ranges: [number, number][] = []
    const provider = {
      getLogs: async (filter: { fromBlock: number; toBlock: number }) => {
        ranges.push([filter.fromBlock, filter.toBlock])
        return []
      },
    }
    return { game: gameContract(`0x${'11'.repeat(20)}`, { provider } as never), ranges }
  }

  it('splits ranges at MAX_LOG_RANGE blocks, inclusive, without gaps or overlaps', () => {
    expect(MAX_LOG_RANGE).toBeLessThanOrEqual(2_000)
    expect(blockRanges(0, 4_999)).toEqual([
      [0, 1_999],
      [2_000, 3_999],
      [4_000, 4_999],
    ])
    expect(blockRanges(7, 7)).toEqual([[7, 7]])
    expect(blockRanges(8, 7)).toEqual([])
  })

  it('claims and disputes are queried chunk by chunk', async () => {
    const { game, ranges } = recordingGame()
    const layout = commitParams(tinyModel()).layout
    await claimsOf(game, `0x${'22'.repeat(32)}` as Hex, layout, 100, 6_100)
    expect(ranges).toEqual([
      [100, 2_099],
      [2_100, 4_099],
      [4_100, 6_099],
      [6_100, 6_100],
    ])
    ranges.length = 0
    await disputesOf(game, [`0x${'33'.repeat(32)}` as Hex], 0, 2_000)
    expect(ranges).toEqual([
      [0, 1_999],
      [2_000, 2_000],
    ])
  })

  it('finds the first block at or after a timestamp by binary search', async () => {
    const reads: number[] = []
    const provider = {
      getBlock: async (n: number) => {
        reads.push(n)
        return { timestamp: 1_000 + 12 * n }
      },
    } as unknown as Provider
    expect(await firstBlockAtOrAfter(provider, 1_000n + 12n * 777n, 1_000_000)).toBe(777)
    expect(await firstBlockAtOrAfter(provider, 1_000n + 12n * 777n - 5n, 1_000_000)).toBe(777)
    expect(reads.length).toBeLessThanOrEqual(2 * 21)
  })
})
