import { fileURLToPath } from 'node:url'
import { type Contract, ContractFactory, type InterfaceAbi } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { isqrtValue } from '../../src/ir/ops.js'
import { disputeBudget } from '../../src/optimistic/budget.js'
import { playDispute } from '../../src/optimistic/chain/play.js'
import { buildOneStepProof, stepQuery } from '../../src/optimistic/one-step.js'
import { buildTrace, type Trace, traceFromStates } from '../../src/optimistic/trace.js'
import {
  deployGame,
  executeElement,
  executorOf,
  type GameFixture,
  type RegisteredModel,
  registerTestModel,
  startChain,
} from './chain.js'
import { DIV_ISQRT_INPUTS, divIsqrtModel } from './fixtures.js'
import { randomInputs, randomModel, rng } from './models.js'
import { claimStatus, expectConserved, lyingTrace, openDispute, player, postClaim, REJECT_REWARD } from './scenario.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAX = (1n << 255n) - 1n
/** Trace states of divIsqrtModel: the divisor clamp, the div, the root operand, the isqrt. */
const CLAMP_STATE = 2
const DIV_STATE = 3
const ISQRT_STATE = 5
/** Executor gas of one div or isqrt element: two (div) or one opening, a pair leaf, the op (measured ≤ 25k, 2026-12-06). */
const DIV_ISQRT_GAS_BUDGET = 30_000n

describe('div and isqrt: one-step gas and disputes on anvil', () => {
  let anvil: AnvilInstance
  let f: GameFixture
  let m: RegisteredModel
  let probe: Contract
  beforeAll(async () => {
    anvil = await startChain()
    f = await deployGame(anvil)
    m = await registerTestModel(f, divIsqrtModel())
    const p = compileSolidity({ baseDir: ROOT, files: ['test/optimistic/GasProbe.sol'] }).contracts.GasProbe
    probe = (await (
      await new ContractFactory(p.abi as InterfaceAbi, p.bytecode, f.wallets[0]).deploy()
    ).waitForDeployment()) as Contract
  })
  afterAll(async () => anvil?.stop())

  it('executor gas of div and isqrt elements, the worst-case root included, within the budget', async () => {
    const honest = buildTrace(m.model, DIV_ISQRT_INPUTS)
    // A pre-state (as if agreed) whose root operands are all 2^255 − 1: the most Newton iterations.
    const states = honest.states.map((v, s) => (s === ISQRT_STATE - 1 ? v.map(() => MAX) : [...v]))
    const big = traceFromStates(honest.layout, states)
    const rows: [string, Trace, number, number, bigint][] = [
      ['div in0[0] / t2[0] (input and step openings)', honest, DIV_STATE, 0, -64n],
      ['div 1 / t2[0] (reciprocal: one opening)', honest, DIV_STATE, 6, 1n],
      ['div t2[2] / t2[0] (two step openings)', honest, DIV_STATE, 8, 64n],
      ['isqrt of 12700', honest, ISQRT_STATE, 1, 112n],
      ['isqrt of 2^255 − 1', big, ISQRT_STATE, 1, isqrtValue(MAX)],
    ]
    const budget = disputeBudget(m.params)
    const lines: string[] = []
    for (const [what, trace, state, element, expected] of rows) {
      const s = state - m.params.layout.inputCount
      const proof = buildOneStepProof({ model: m.model, params: m.params, trace, stepIndex: s, element })
      const [value, gas] = (await probe.measure(f.executorAddress, stepQuery(m.params, trace, s, element), proof)) as [
        bigint,
        bigint,
      ]
      expect(value, what).toBe(expected)
      expect(gas, what).toBeLessThan(DIV_ISQRT_GAS_BUDGET)
      lines.push(`  ${what.padEnd(46)} ${String(gas).padStart(6)}   (step tx bound ${budget.steps[s].step!.gasBound})`)
    }
    console.log(`div-isqrt: executor gas (valueAt)\n${lines.join('\n')}`)
  })

  it('a claimant lying at a div, an isqrt, or the divisor before them loses at that step; bonds as incentives expect', async () => {
    // [trace state, element, delta]: a broadcast-divisor quotient, a root, and the divisor clamp
    // pushed to 0 (the liar's later div then divides by 1: the lie is the clamp step's).
    const lies: [number, number, bigint][] = [
      [DIV_STATE, 1, 1n],
      [ISQRT_STATE, 1, -1n],
      [CLAMP_STATE, 0, -8n],
    ]
    const honest = buildTrace(m.model, DIV_ISQRT_INPUTS)
    const budget = disputeBudget(m.params)
    const [, claimant, challenger] = f.wallets
    const stepGas: string[] = []
    for (const [state, element, delta] of lies) {
      const lie = lyingTrace(m, DIV_ISQRT_INPUTS, state, element, delta, true)
      const s = state - m.params.layout.inputCount
      const what = `lie at state ${state} (${m.model.steps[s].op.op}) element ${element}`
      if (state === CLAMP_STATE) expect(lie.states[state][element], what).toBe(0n)
      const { claimId, key } = await postClaim(f, m, claimant, lie)
      const { disputeId } = await openDispute(f, key, challenger)
      // No timeout: the honest challenger's one-step proof decides the dispute.
      const { view, moves } = await playDispute({
        disputeId,
        claimant: player(f, m, 'claimant', claimant, lie),
        challenger: player(f, m, 'challenger', challenger, honest),
      })
      expect(view.phase, what).toBe('Resolved')
      expect(view.claimantWon, what).toBe(false)
      expect(view.hi, what).toBe(state)
      const last = moves.at(-1)!
      expect(last.move, what).toBe('step')
      expect(last.gasUsed, what).toBeLessThanOrEqual(BigInt(budget.steps[s].step!.gasBound))
      stepGas.push(`${m.model.steps[s].origin}[${element}] ${last.gasUsed}`)
      expect(await claimStatus(f, claimId)).toBe('Rejected')
    }
    console.log(`game step() gas, div-isqrt fixture: ${stepGas.join(', ')}`)
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(BigInt(lies.length) * REJECT_REWARD)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(0n)
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('random models with div and isqrt: valueAt equals the reference, and a lie at one of them loses', async () => {
    const r = rng(1616)
    const checked = { div: 0, isqrt: 0 }
    for (let seed = 1, played = 0; played < 5; seed++) {
      const model = randomModel(seed, 10, { divIsqrt: true })
      if (!model.steps.some((st) => st.op.op === 'div' || st.op.op === 'isqrt')) continue
      played++
      const g = await deployGame(anvil)
      const rm = await registerTestModel(g, model)
      const inputs = randomInputs(rm.model, r)
      const honest = buildTrace(rm.model, inputs)
      const { inputCount } = rm.params.layout
      const states: number[] = []
      for (const [s, step] of rm.model.steps.entries()) {
        if (step.op.op !== 'div' && step.op.op !== 'isqrt') continue
        states.push(inputCount + s)
        for (let j = 0; j < honest.states[inputCount + s].length; j++) {
          const got = await executeElement(executorOf(g), rm.model, rm.params, honest, s, j)
          expect(got, `seed ${seed} step ${s} (${step.op.op}) element ${j}`).toBe(honest.states[inputCount + s][j])
          checked[step.op.op]++
        }
      }
      const state = r.pick(states)
      const element = r.int(0, honest.states[state].length - 1)
      const lie = lyingTrace(rm, inputs, state, element, r.pick([1n, -1n, 1000n]), r.next() < 0.5)
      const [, claimant, challenger] = g.wallets
      const { claimId, key } = await postClaim(g, rm, claimant, lie)
      const { disputeId } = await openDispute(g, key, challenger)
      const { view } = await playDispute({
        disputeId,
        claimant: player(g, rm, 'claimant', claimant, lie),
        challenger: player(g, rm, 'challenger', challenger, honest),
      })
      expect([view.phase, view.claimantWon, view.hi], `seed ${seed} lie at state ${state}`).toEqual([
        'Resolved',
        false,
        state,
      ])
      expect(await claimStatus(g, claimId)).toBe('Rejected')
    }
    console.log(`random div-isqrt models: elements checked ${JSON.stringify(checked)}`)
    expect(checked.div).toBeGreaterThan(5)
    expect(checked.isqrt).toBeGreaterThan(5)
  })
})
