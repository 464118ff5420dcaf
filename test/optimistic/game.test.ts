import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import type { EventLog } from 'ethers'
import {
  finalizeClaim,
  readDispute,
  submitClaim,
  timeoutDispute,
  withdrawCredit,
} from '../../src/optimistic/chain/client.js'
import { claimKeyOf } from '../../src/optimistic/config.js'
import { OutputEncodingError } from '../../src/optimistic/errors.js'
import { outputsHashOf, packOutputs, unpackOutputs } from '../../src/optimistic/output.js'
import { GameRevertError } from '../../src/optimistic/chain/errors.js'
import { type Player, playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import {
  advanceTime,
  CHALLENGE_BOND,
  CLAIM_BOND,
  deployGame,
  type GameFixture,
  startChain,
  MOVE_TIMEOUT,
  registerTestModel,
  type RegisteredModel,
  WINDOW,
} from './chain.js'
import { tinyModel } from './models.js'
import { claimStatus, expectConserved, lyingTrace, openDispute, player, postClaim, REJECT_REWARD } from './scenario.js'

const INPUT = [[3n, -7n, 120n, -128n, 0n, 55n]]

describe('optimistic game on anvil (tiny MLP)', () => {
  let anvil: AnvilInstance
  let f: GameFixture
  let m: RegisteredModel
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())
  beforeEach(async () => {
    f = await deployGame(anvil)
    m = await registerTestModel(f, tinyModel())
  })

  it('an unchallenged honest claim finalises after the window and its bond returns', async () => {
    const [, claimant] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const { claimId, key, gasUsed } = await postClaim(f, m, claimant, trace)
    expect(gasUsed).toBeLessThan(150_000n)
    await expectConserved(f, CLAIM_BOND, [claimant])
    await expect(finalizeClaim(f.gameAs(claimant), key)).rejects.toThrow(GameRevertError)
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    expect(await claimStatus(f, claimId)).toBe('Finalized')
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND)
    await expect(openDispute(f, key, f.wallets[2])).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    await withdrawCredit(f.gameAs(claimant))
    await expectConserved(f, 0n, [claimant])
  })

  it('a wrong claim is caught by the honest challenger, who gets its bond back and half the claim bond', async () => {
    const [, claimant, challenger] = f.wallets
    const lie = lyingTrace(m, INPUT, 2, 1, 5n, true)
    const honest = buildTrace(m.model, INPUT)
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    const { disputeId } = await openDispute(f, key, challenger)
    await expectConserved(f, CLAIM_BOND + CHALLENGE_BOND, [claimant, challenger])
    const { view, moves } = await playDispute({
      disputeId,
      claimant: player(f, m, 'claimant', claimant, lie),
      challenger: player(f, m, 'challenger', challenger, honest),
    })
    expect(view.phase).toBe('Resolved')
    expect(view.claimantWon).toBe(false)
    expect(moves.at(-1)!.move).toBe('step')
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(REJECT_REWARD)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(0n)
    await expectConserved(f, 0n, [claimant, challenger])
    await withdrawCredit(f.gameAs(challenger))
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a wrong challenge of an honest claim loses its bond to the claimant', async () => {
    const [, , , claimant, challenger] = f.wallets
    const honest = buildTrace(m.model, INPUT)
    const fake = lyingTrace(m, INPUT, 1, 4, -1n, false)
    const { claimId, key } = await postClaim(f, m, claimant, honest)
    const { disputeId } = await openDispute(f, key, challenger)
    const { view } = await playDispute({
      disputeId,
      claimant: player(f, m, 'claimant', claimant, honest),
      challenger: player(f, m, 'challenger', challenger, fake),
    })
    expect(view.claimantWon).toBe(true)
    expect(await claimStatus(f, claimId)).toBe('Pending')
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND + CHALLENGE_BOND)
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a claimant who stops moving loses on time; the clock is enforced both ways', async () => {
    const [, , , , , claimant, challenger] = f.wallets
    const lie = lyingTrace(m, INPUT, 3, 0, 1n, false)
    const honest = buildTrace(m.model, INPUT)
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    const { disputeId } = await openDispute(f, key, challenger)
    const game = f.gameAs(challenger)
    await expect(timeoutDispute(game, disputeId)).rejects.toMatchObject({ errorName: 'ClockRunning' })
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    const lateMove = player(f, m, 'claimant', claimant, lie)
    const view = await readDispute(game, disputeId)
    await expect(
      playDispute({ disputeId, claimant: lateMove, challenger: player(f, m, 'challenger', challenger, honest) }),
    ).rejects.toMatchObject({
      errorName: 'ClockExpired',
    })
    expect(view.phase).toBe('Propose')
    await timeoutDispute(game, disputeId)
    expect((await readDispute(game, disputeId)).claimantWon).toBe(false)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect(await game.credit(challenger.address)).toBe(REJECT_REWARD)
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a challenger who stops before the one-step loses on time', async () => {
    const [, claimant, , , , , , challenger] = f.wallets
    const honest = buildTrace(m.model, INPUT)
    const fake = lyingTrace(m, INPUT, 3, 2, 9n, false)
    const { key } = await postClaim(f, m, claimant, honest)
    const { disputeId } = await openDispute(f, key, challenger)
    const cheater = player(f, m, 'challenger', challenger, fake)
    const quitter: Player = { ...cheater, decide: (v, id) => (v.phase === 'Step' ? null : cheater.decide(v, id)) }
    const { view } = await playDispute({
      disputeId,
      claimant: player(f, m, 'claimant', claimant, honest),
      challenger: quitter,
    })
    expect(view.phase).toBe('Step')
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(claimant), disputeId)
    expect((await readDispute(f.gameAs(claimant), disputeId)).claimantWon).toBe(true)
    await advanceTime(f.provider, WINDOW)
    await finalizeClaim(f.gameAs(claimant), key)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND + CHALLENGE_BOND)
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a model with several outputs: the claim posts and proves each, a lie at a non-final output loses', async () => {
    const model = tinyModel()
    // The hidden activation (state 2) is an output too, after the logits.
    model.outputs.push({ tensor: 2, name: 'hidden', quant: { scale: 1, zeroPoint: 0 } })
    const m2 = await registerTestModel(f, model)
    expect(m2.config.outputStates).toEqual([3, 2])
    const [, claimant, challenger] = f.wallets
    const honest = buildTrace(m2.model, INPUT)
    const fromBlock = await f.provider.getBlockNumber()
    const { key } = await postClaim(f, m2, claimant, honest)
    const [log] = await f
      .gameAs(claimant)
      .queryFilter(f.gameAs(claimant).filters.ClaimSubmitted(null, m2.modelId), fromBlock)
    const layouts = honest.layout.outputLayouts
    const posted = (log as EventLog).args.outputs
    expect(unpackOutputs(layouts, posted)).toEqual([honest.states[3], honest.states[2]])
    expect(key.outputsHash).toBe(outputsHashOf(packOutputs(layouts, [honest.states[3], honest.states[2]])))
    // Outputs in the wrong order (other sizes) do not fit their layouts: refused before sending.
    await expect(
      submitClaim(
        f.gameAs(challenger),
        m2.modelId,
        { ...honest, outputs: [honest.outputs[1], honest.outputs[0]] },
        CLAIM_BOND,
      ),
    ).rejects.toThrow(OutputEncodingError)
    // A lie at the hidden output, consistent after it: both outputs are wrong, the dispute ends on the requant.
    const lie = lyingTrace(m2, INPUT, 2, 4, 3n, true)
    expect(lie.outputs[1][4]).toBe(honest.outputs[1][4] + 3n)
    const { claimId, key: lieKey } = await postClaim(f, m2, claimant, lie)
    expect(lieKey).toEqual(claimKeyOf(m2.modelId, lie, claimant.address))
    const { disputeId } = await openDispute(f, lieKey, challenger)
    const { view, moves } = await playDispute({
      disputeId,
      claimant: player(f, m2, 'claimant', claimant, lie),
      challenger: player(f, m2, 'challenger', challenger, honest),
    })
    expect([view.phase, view.claimantWon, view.hi]).toEqual(['Resolved', false, 2])
    expect(moves.at(-1)!.move).toBe('step')
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND)
    await expectConserved(f, 0n, [claimant, challenger])
  })
})
