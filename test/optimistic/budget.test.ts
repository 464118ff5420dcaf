import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import {
  checkDisputeBudget,
  DISPUTE_BUDGET,
  type DisputeTx,
  disputeBudget,
  type ProofTx,
} from '../../src/optimistic/budget.js'
import { closeMoot, readDispute, timeoutDispute } from '../../src/optimistic/chain/client.js'
import { DisputeBudgetError } from '../../src/optimistic/errors.js'
import { buildFoldRowProof, buildFoldStepProof, buildOneStepProof, isFoldOp } from '../../src/optimistic/one-step.js'
import { commitParams } from '../../src/optimistic/params.js'
import { type Player, playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { advanceTime, deployGame, MOVE_TIMEOUT, registerTestModel, startChain } from './chain.js'
import { legacyGasModel, manyOperandsModel, MAX_LOOKUP_INPUTS, maxLookupModel, mulModel } from './fixtures.js'
import { mlp, randomInputs, rng } from './models.js'
import { lyingTrace, openDispute, player, postClaim } from './scenario.js'

const bytesOf = (hex: string) => (hex.length - 2) / 2

describe('dispute budget: exact calldata, bounded gas', () => {
  it('the calldata of every proof equals the bound of its step for the widest element, and never exceeds it', () => {
    for (const model of [maxLookupModel(), mulModel(), legacyGasModel()]) {
      const params = commitParams(model)
      const budget = disputeBudget(params)
      const trace = buildTrace(model, randomInputs(model, rng(4)))
      const proofCalldata = (proof: string) => 4 + 32 + 32 + 32 + 32 * Math.ceil(bytesOf(proof) / 32)
      model.steps.forEach((step, s) => {
        const largest: Partial<Record<ProofTx, number>> = {}
        const see = (tx: ProofTx, proof: string) => (largest[tx] = Math.max(largest[tx] ?? 0, proofCalldata(proof)))
        for (let j = 0; j < params.headers[s].outputSize; j++) {
          const p = { model, params, trace, stepIndex: s, element: j }
          if (!isFoldOp(step.op)) see('step', buildOneStepProof(p))
          else {
            see('startFold', buildFoldRowProof(p))
            const terms = step.op.rowPtr[j + 1] - step.op.rowPtr[j]
            for (let term = 0; term < terms; term++) see('foldStep', buildFoldStepProof({ ...p, term }))
          }
        }
        for (const [tx, bytes] of Object.entries(largest) as [ProofTx, number][]) {
          const bound = budget.steps[s][tx]!.calldataBytes
          expect(bytes, `${model.name} step ${s} ${tx}`).toBeLessThanOrEqual(bound)
          // A gather to the fill value (-1) opens nothing: only then is the bound above every element.
          if (step.op.op !== 'gather') expect(bytes, `${model.name} step ${s} ${tx}`).toBe(bound)
        }
      })
    }
  })

  it('an 8,192-wide linear layer and a 63,488-value input fit 1M gas and 64 KB per transaction', () => {
    const wide = disputeBudget(commitParams(mlp([8_192, 16, 10], 2)))
    // The largest int8 input a claim carries: 2,048 words of 31 lanes.
    const input = disputeBudget(commitParams(mlp([63_488, 2], 3)))
    for (const [name, b] of [
      ['8,192-wide linear', wide],
      ['63,488-value input', input],
    ] as const) {
      console.log(
        `${name}: worst ${b.worst.tx} at step ${b.worst.stepIndex} (${b.worst.origin}): ${b.worst.calldataBytes} bytes, ≤ ${b.worst.gasBound} gas`,
      )
      expect(b.fits).toBe(true)
      for (const c of Object.values(b.byKind)) {
        expect(c.gasBound, `${name} ${c.tx}`).toBeLessThanOrEqual(DISPUTE_BUDGET.gas)
        expect(c.calldataBytes, `${name} ${c.tx}`).toBeLessThanOrEqual(DISPUTE_BUDGET.calldataBytes)
      }
    }
    // The term tree of an 8,192-term row is 13 levels deep; the input's word tree 11 (2,048 words).
    expect(wide.byKind.foldStep.calldataBytes).toBeLessThan(2_000)
    expect(input.byKind.foldStep.calldataBytes).toBeLessThan(2_500)
  })

  it('a step whose header alone is too large for a transaction is refused, naming the step and its origin', () => {
    const model = manyOperandsModel()
    const params = commitParams(model)
    expect(() => checkDisputeBudget(params, model.name)).toThrow(DisputeBudgetError)
    expect(() => checkDisputeBudget(params, model.name)).toThrow(/step 0 \("Concat_42"\)/)
    expect(checkDisputeBudget(commitParams(mlp([784, 128, 10])), 'mlp').fits).toBe(true)
  })
})

describe('dispute budget against anvil: measured gas ≤ bound for every transaction kind', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('over models covering every op kind, lies at every step, either side lying', async () => {
    const measured = new Map<DisputeTx, { gas: bigint; bound: number; what: string }>()
    const over: string[] = []
    const check = (tx: DisputeTx, gas: bigint, bound: number, calldata: number, exact: number, what: string) => {
      if (gas > BigInt(bound)) over.push(`${what}: ${tx} ${gas} > ${bound}`)
      expect(calldata, `${what}: ${tx} calldata`).toBeLessThanOrEqual(exact)
      if (!measured.has(tx) || gas > measured.get(tx)!.gas) measured.set(tx, { gas, bound, what })
    }
    for (const [model, inputs] of [
      [maxLookupModel(), MAX_LOOKUP_INPUTS],
      [
        mulModel(),
        [
          [-128n, 127n, -7n, 0n, 5n, -1n, 99n, -128n],
          [-128n, 127n, -3n],
        ],
      ],
      [legacyGasModel(), randomInputs(legacyGasModel(), rng(8))],
    ] as const) {
      const f = await deployGame(anvil)
      const m = await registerTestModel(f, model)
      const budget = disputeBudget(m.params)
      const honest = buildTrace(m.model, inputs as bigint[][])
      const [, claimant, challenger, second] = f.wallets
      for (let state = m.params.layout.inputCount; state < m.params.layout.stateCount; state++) {
        const element = honest.states[state].length - 1
        const lie = lyingTrace(m, inputs as bigint[][], state, element, 3n, true)
        const what = `${model.name} lie at state ${state}`
        const { key } = await postClaim(f, m, claimant, lie)
        const ch = await openDispute(f, key, challenger)
        const chTx = await f.provider.getTransaction(ch.hash)
        check(
          'challenge',
          ch.gasUsed,
          budget.byKind.challenge.gasBound,
          bytesOf(chTx!.data),
          budget.byKind.challenge.calldataBytes,
          what,
        )
        const { disputeId: moot } = await openDispute(f, key, second)
        const { moves } = await playDispute({
          disputeId: ch.disputeId,
          claimant: player(f, m, 'claimant', claimant, lie),
          challenger: player(f, m, 'challenger', challenger, honest),
        })
        expect((await readDispute(f.gameAs(claimant), ch.disputeId)).claimantWon).toBe(false)
        for (const mv of moves) {
          const tx = (await f.provider.getTransaction(mv.hash))!
          const c =
            mv.move === 'step' || mv.move === 'startFold' || mv.move === 'foldStep'
              ? budget.steps[state - m.params.layout.inputCount][mv.move]!
              : budget.byKind[mv.move]
          check(mv.move, mv.gasUsed, c.gasBound, bytesOf(tx.data), c.calldataBytes, what)
        }
        const closed = await closeMoot(f.gameAs(second), moot)
        check(
          'closeMoot',
          closed.gasUsed,
          budget.byKind.closeMoot.gasBound,
          36,
          budget.byKind.closeMoot.calldataBytes,
          what,
        )
        // The honest claim against a challenger believing the lie, who stalls at its last move: timed out.
        // One honest claimant per state: the same claim cannot be posted twice.
        const defender = f.wallets[4 + state - m.params.layout.inputCount]
        const { key: honestKey } = await postClaim(f, m, defender, honest)
        const d = await openDispute(f, honestKey, challenger)
        const liar = player(f, m, 'challenger', challenger, lie)
        const stalling: Player = {
          ...liar,
          decide: (v, id) => (v.phase === 'Step' || v.phase === 'FoldStep' ? null : liar.decide(v, id)),
        }
        const played = await playDispute({
          disputeId: d.disputeId,
          claimant: player(f, m, 'claimant', defender, honest),
          challenger: stalling,
        })
        for (const mv of played.moves) {
          const tx = (await f.provider.getTransaction(mv.hash))!
          const c =
            mv.move === 'step' || mv.move === 'startFold' || mv.move === 'foldStep'
              ? budget.steps[state - m.params.layout.inputCount][mv.move]!
              : budget.byKind[mv.move]
          check(mv.move, mv.gasUsed, c.gasBound, bytesOf(tx.data), c.calldataBytes, `${what} (honest claim)`)
        }
        await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
        const t = await timeoutDispute(f.gameAs(defender), d.disputeId)
        check('timeout', t.gasUsed, budget.byKind.timeout.gasBound, 36, budget.byKind.timeout.calldataBytes, what)
      }
    }
    const rows = [...measured].map(
      ([tx, r]) => `  ${tx.padEnd(12)} ${String(r.gas).padStart(8)} ≤ ${String(r.bound).padStart(8)}  (${r.what})`,
    )
    console.log(`largest measured gas per transaction kind, against its bound:\n${rows.join('\n')}`)
    expect(over).toEqual([])
    expect([...measured.keys()].sort()).toEqual([
      'challenge',
      'choose',
      'closeMoot',
      'foldChoose',
      'foldPropose',
      'foldStep',
      'open',
      'pick',
      'propose',
      'reveal',
      'startFold',
      'step',
      'timeout',
    ])
  })
})
