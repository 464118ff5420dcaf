/**
 * Gas of the optimistic game on a 784-128-10 MLP (int8 weights) on a local anvil node:
 * an unchallenged claim (claim, finalize, withdraw), the one-shot proof against a claim whose
 * input root is not that of its posted input, every move of whole disputes whose one-step
 * lands on each kind of step, and the one-step alone.
 *
 *   npx tsx bench/optimistic.ts [--json bench/optimistic-gas.json]
 */
import { writeFileSync } from 'node:fs'
import { Wallet } from 'ethers'
import { startAnvil } from '../src/chain/anvil.js'
import { modelId } from '../src/ir/serialize.js'
import {
  challengeClaim,
  finalizeClaim,
  gameContract,
  registerModel,
  submitClaim,
  withdrawCredit,
} from '../src/optimistic/chain/client.js'
import { claimKeyOf, gameModelConfig } from '../src/optimistic/config.js'
import { deployOptimistic } from '../src/optimistic/chain/contracts.js'
import { commitParams } from '../src/optimistic/params.js'
import { honestPlayer, playDispute } from '../src/optimistic/chain/play.js'
import { buildTrace, traceFromStates } from '../src/optimistic/trace.js'
import { mlp, rng } from '../models/optimistic-models.js'

const anvil = await startAnvil({ accounts: 6 })
try {
  const w = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
  const deployed = await deployOptimistic(w[0])
  const game = (i: number) => gameContract(deployed.gameAddress, w[i])
  const model = mlp([784, 128, 10], 3)
  const t0 = performance.now()
  const params = commitParams(model)
  const commitMs = performance.now() - t0
  const bonds = { claimBond: 10n ** 18n, challengeBond: 10n ** 17n, challengeWindow: 3600n, moveTimeout: 600n }
  const config = gameModelConfig(params, { executor: deployed.executorAddress, ...bonds })
  const registered = await registerModel(game(0), modelId(model), config)
  const r = rng(5)
  const input = [Array.from({ length: 784 }, () => r.big(-128, 127))]
  const t1 = performance.now()
  const honest = buildTrace(model, input)
  const traceMs = performance.now() - t1

  const report: Record<string, unknown> = {
    model: model.name,
    states: params.layout.stateSizes,
    deploy: deployed.gasUsed,
    registerModel: registered.gasUsed,
    commitParamsMs: Math.round(commitMs),
    buildTraceMs: Math.round(traceMs),
  }
  const claim = await submitClaim(game(1), registered.modelId, honest, bonds.claimBond)
  await anvil.provider.send('evm_increaseTime', [3601])
  await anvil.provider.send('evm_mine', [])
  const fin = await finalizeClaim(game(1), claimKeyOf(registered.modelId, honest, w[1].address))
  const wd = await withdrawCredit(game(1))
  report.inputLaneBits = params.layout.inputLayouts.map((l) => l.laneBits)
  report.unchallenged = {
    claim: claim.gasUsed,
    finalize: fin.gasUsed,
    withdraw: wd.gasUsed,
    total: claim.gasUsed + fin.gasUsed + wd.gasUsed,
  }

  // One dispute per step kind: the lie sits in state s, so the one-step re-executes step s - 1.
  const disputes: Record<string, unknown> = {}
  for (const [label, state, claimant, challenger] of [
    ['linear 784→128', 1, 2, 3],
    ['requant 128', 2, 4, 5],
    ['linear 128→10', 3, 2, 5],
  ] as const) {
    const states = honest.states.map((s) => [...s])
    states[state][state === 3 ? 7 : 100] += 1n
    const lie = traceFromStates(honest.layout, states)
    const c = await submitClaim(game(claimant), registered.modelId, lie, bonds.claimBond)
    const ch = await challengeClaim(
      game(challenger),
      claimKeyOf(registered.modelId, lie, w[claimant].address),
      bonds.challengeBond,
    )
    const t2 = performance.now()
    const { view, moves } = await playDispute({
      disputeId: ch.disputeId,
      claimant: honestPlayer({ role: 'claimant', game: game(claimant), trace: lie, model, params }),
      challenger: honestPlayer({ role: 'challenger', game: game(challenger), trace: honest, model, params }),
    })
    if (view.claimantWon || view.phase !== 'Resolved') throw new Error(`dispute ${label} not won by the challenger`)
    const total = moves.reduce((a, m) => a + m.gasUsed, c.gasUsed + ch.gasUsed)
    disputes[label] = {
      claim: c.gasUsed,
      challenge: ch.gasUsed,
      moves: moves.map((m) => `${m.move}:${m.gasUsed}`),
      oneStep: moves.at(-1)!.gasUsed,
      moveCount: moves.length,
      total,
      playMs: Math.round(performance.now() - t2),
    }
  }
  report.disputes = disputes
  const json = JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? Number(v) : v), 2)
  console.log(json)
  const out = process.argv.indexOf('--json')
  if (out > 0) writeFileSync(process.argv[out + 1], `${json}\n`)
} finally {
  await anvil.stop()
}
