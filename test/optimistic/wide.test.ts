import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { DISPUTE_BUDGET, disputeBudget } from '../../src/optimistic/budget.js'
import { readClaim } from '../../src/optimistic/chain/client.js'
import { playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { deployGame, registerTestModel, startChain } from './chain.js'
import { mlp, rng } from './models.js'
import { claimStatus, expectConserved, lyingTrace, openDispute, player, postClaim, REJECT_REWARD } from './scenario.js'

/**
 * Every dispute transaction stays under 1M gas and 64 KB whatever the layer width: a linear
 * layer of 4,096-term rows is disputed down to one term, and each transaction is measured.
 */
describe('wide layers on anvil', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('a 4,096-wide linear layer (4,096 → 1,024) disputed end to end: every transaction ≤ 1M gas and ≤ 64 KB', async () => {
    const t0 = performance.now()
    const model = mlp([4_096, 1_024, 10], 6)
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, model)
    const budget = disputeBudget(m.params)
    const r = rng(6)
    const inputs = [Array.from({ length: 4_096 }, () => r.big(-128, 127))]
    const honest = buildTrace(m.model, inputs)
    console.log(`4,096-wide: model, commitment and trace in ${Math.round(performance.now() - t0)} ms`)
    const [, claimant, challenger] = f.wallets
    // A lie at the widest layer's element 700, carried through the rest of the trace.
    const lie = lyingTrace(m, inputs, 1, 700, 1n, true)
    const { claimId, key, gasUsed: claimGas } = await postClaim(f, m, claimant, lie)
    const { disputeId, gasUsed: challengeGas, hash } = await openDispute(f, key, challenger)
    const { view, moves } = await playDispute({
      disputeId,
      claimant: player(f, m, 'claimant', claimant, lie),
      challenger: player(f, m, 'challenger', challenger, honest),
    })
    expect([view.phase, view.claimantWon, view.hi, view.termCount]).toEqual(['Resolved', false, 1, 4_096])
    expect(moves.at(-1)!.move).toBe('foldStep')
    const txs = [{ move: 'challenge', gasUsed: challengeGas, hash }, ...moves]
    let largest = { move: '', gasUsed: 0n, bytes: 0 }
    let longest = { move: '', bytes: 0 }
    for (const mv of txs) {
      const bytes = ((await f.provider.getTransaction(mv.hash))!.data.length - 2) / 2
      expect(mv.gasUsed, mv.move).toBeLessThanOrEqual(BigInt(DISPUTE_BUDGET.gas))
      expect(bytes, mv.move).toBeLessThanOrEqual(DISPUTE_BUDGET.calldataBytes)
      const bound =
        mv.move === 'step' || mv.move === 'startFold' || mv.move === 'foldStep'
          ? budget.steps[0][mv.move]!
          : budget.byKind[mv.move as keyof typeof budget.byKind]
      expect(mv.gasUsed, `${mv.move} within its bound`).toBeLessThanOrEqual(BigInt(bound.gasBound))
      if (mv.gasUsed > largest.gasUsed) largest = { move: mv.move, gasUsed: mv.gasUsed, bytes }
      if (bytes > longest.bytes) longest = { move: mv.move, bytes }
    }
    const byKind = new Map<string, bigint>()
    for (const mv of txs)
      byKind.set(mv.move, mv.gasUsed > (byKind.get(mv.move) ?? 0n) ? mv.gasUsed : byKind.get(mv.move)!)
    console.log(
      `4,096-wide: claim ${claimGas} gas; ${txs.length} dispute transactions, ${txs.reduce((a, x) => a + x.gasUsed, 0n)} gas in all; largest ${largest.move} ${largest.gasUsed} gas (${largest.bytes} bytes); longest calldata ${longest.move} ${longest.bytes} bytes; per kind ${JSON.stringify(Object.fromEntries([...byKind].map(([k, v]) => [k, Number(v)])))}`,
    )
    console.log(
      `4,096-wide: bound of the worst transaction ${budget.worst.tx} ${budget.worst.gasBound} gas, ${budget.worst.calldataBytes} bytes`,
    )
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect((await readClaim(f.gameAs(challenger), claimId)).openDisputes).toBe(0)
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(REJECT_REWARD)
    await expectConserved(f, 0n, [claimant, challenger])
  })
})
