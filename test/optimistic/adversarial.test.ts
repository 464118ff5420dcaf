import { hexlify, randomBytes } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import {
  finalizeClaim,
  playMove,
  readDispute,
  submitClaim,
  timeoutDispute,
  withdrawCredit,
} from '../../src/optimistic/chain/client.js'
import { GameRevertError } from '../../src/optimistic/chain/errors.js'
import { type Player, playDispute } from '../../src/optimistic/chain/play.js'
import { depthFor, merkleProof, rootFrom } from '../../src/optimistic/merkle.js'
import { buildTrace, prefixTree, traceFromStates } from '../../src/optimistic/trace.js'
import { buildFoldRowProof, buildFoldStepProof, foldAccs } from '../../src/optimistic/one-step.js'
import {
  advanceTime,
  CHALLENGE_BOND,
  CLAIM_BOND,
  deployGame,
  MOVE_TIMEOUT,
  registerTestModel,
  startChain,
  WINDOW,
} from './chain.js'
import { MAX_LOOKUP_INPUTS, maxLookupModel, mulModel } from './fixtures.js'
import { mlp, randomInputs, randomModel, rng, tinyModel } from './models.js'
import {
  claimStatus,
  expectConserved,
  lyingTrace,
  openDispute,
  player,
  postClaim,
  randomChooser,
  randomProposer,
  REJECT_REWARD,
} from './scenario.js'

/** Plays to the end; a player that stalls (or whose move reverts) is timed out. */
async function playOut(
  f: Awaited<ReturnType<typeof deployGame>>,
  disputeId: string,
  claimant: Player,
  challenger: Player,
) {
  let view
  try {
    view = (await playDispute({ disputeId, claimant, challenger })).view
  } catch (error) {
    expect(error).toBeInstanceOf(GameRevertError)
    view = await readDispute(claimant.game, disputeId)
  }
  if (view.phase !== 'Resolved') {
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(claimant.game, disputeId)
    view = await readDispute(claimant.game, disputeId)
  }
  return view
}

describe('adversaries never win', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('a claimant lying at a random step, consistently or not, against random models', async () => {
    const r = rng(2024)
    for (let seed = 1; seed <= 8; seed++) {
      const f = await deployGame(anvil)
      const m = await registerTestModel(f, randomModel(seed, r.int(1, 9)))
      const inputs = randomInputs(m.model, r)
      const honest = buildTrace(m.model, inputs)
      const state = r.int(m.params.layout.inputCount, m.params.layout.stateCount - 1)
      const lie = lyingTrace(
        m,
        inputs,
        state,
        r.int(0, honest.states[state].length - 1),
        r.pick([1n, -1n, 1000n]),
        r.next() < 0.5,
      )
      const [, claimant, challenger] = f.wallets
      const { claimId, key } = await postClaim(f, m, claimant, lie)
      const { disputeId } = await openDispute(f, key, challenger)
      const cheat =
        r.next() < 0.5
          ? randomProposer(player(f, m, 'claimant', claimant, lie), r)
          : player(f, m, 'claimant', claimant, lie)
      const view = await playOut(f, disputeId, cheat, player(f, m, 'challenger', challenger, honest))
      expect(view.claimantWon, `seed ${seed}, lie at state ${state}`).toBe(false)
      expect(await claimStatus(f, claimId)).toBe('Rejected')
      expect(await f.gameAs(challenger).credit(challenger.address)).toBe(REJECT_REWARD)
      await expectConserved(f, 0n, [claimant, challenger])
    }
  })

  it('a claimant lying at a max, lookup or half-even requant step loses at that step', async () => {
    // [trace state, element, delta, consistent]: max over equal negatives, both table ends,
    // a half-even tie, a clamp end pushed outside the next table (the liar reads its end).
    const lies: [number, number, bigint, boolean][] = [
      [2, 4, 1n, true],
      [2, 3, -1n, false],
      [3, 0, 1n, true],
      [3, 1, -1n, false],
      [4, 2, 1n, true],
      [4, 1, 1n, true],
      [5, 1, 7n, true],
    ]
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, maxLookupModel())
    const honest = buildTrace(m.model, MAX_LOOKUP_INPUTS)
    const [, claimant, challenger] = f.wallets
    const stepGas: string[] = []
    for (const [state, element, delta, consistent] of lies) {
      const lie = lyingTrace(m, MAX_LOOKUP_INPUTS, state, element, delta, consistent)
      const { claimId, key } = await postClaim(f, m, claimant, lie)
      const { disputeId } = await openDispute(f, key, challenger)
      // No timeout: the honest challenger's one-step proof decides the dispute.
      const { view, moves } = await playDispute({
        disputeId,
        claimant: player(f, m, 'claimant', claimant, lie),
        challenger: player(f, m, 'challenger', challenger, honest),
      })
      const what = `lie at state ${state} (${m.model.steps[state - 2].op.op}) element ${element}`
      expect(view.phase, what).toBe('Resolved')
      expect(view.claimantWon, what).toBe(false)
      expect(view.hi, what).toBe(state)
      // A max element is a fold: it ends on one term of its row.
      expect(moves.at(-1)?.move, what).toBe(m.model.steps[state - 2].op.op === 'max' ? 'foldStep' : 'step')
      stepGas.push(`${m.model.steps[state - 2].origin}[${element}] ${moves.at(-1)!.move} ${moves.at(-1)!.gasUsed}`)
      expect(await claimStatus(f, claimId)).toBe('Rejected')
    }
    console.log(`last move gas, max-lookup fixture: ${stepGas.join(', ')}`)
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(BigInt(lies.length) * REJECT_REWARD)
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a claimant lying at a mul step loses at that step, by the one-step proof', async () => {
    // [trace state, element, delta, consistent]: a square (the same element twice), a product
    // across two operand tensors, a product of products (t4 reads t3).
    const lies: [number, number, bigint, boolean][] = [
      [3, 0, 1n, true],
      [3, 1, -1n, false],
      [3, 6, 1000n, true],
      [4, 1, -1n, true],
      [4, 2, 1n, false],
    ]
    const inputs = [
      [-128n, 127n, -7n, 0n, 5n, -1n, 99n, -128n],
      [-128n, 127n, -3n],
    ]
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, mulModel())
    const honest = buildTrace(m.model, inputs)
    const [, claimant, challenger] = f.wallets
    const stepGas: string[] = []
    for (const [state, element, delta, consistent] of lies) {
      const lie = lyingTrace(m, inputs, state, element, delta, consistent)
      const { claimId, key } = await postClaim(f, m, claimant, lie)
      const { disputeId } = await openDispute(f, key, challenger)
      const { view, moves } = await playDispute({
        disputeId,
        claimant: player(f, m, 'claimant', claimant, lie),
        challenger: player(f, m, 'challenger', challenger, honest),
      })
      const what = `lie at state ${state} (${m.model.steps[state - 2].op.op}) element ${element}`
      expect(m.model.steps[state - 2].op.op, what).toBe('mul')
      expect(view.phase, what).toBe('Resolved')
      expect(view.claimantWon, what).toBe(false)
      expect(view.hi, what).toBe(state)
      expect(moves.at(-1)?.move, what).toBe('step')
      stepGas.push(`${m.model.steps[state - 2].origin}[${element}] ${moves.at(-1)!.gasUsed}`)
      expect(await claimStatus(f, claimId)).toBe('Rejected')
    }
    console.log(`game step() gas, mul fixture: ${stepGas.join(', ')}`)
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(BigInt(lies.length) * REJECT_REWARD)
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a challenger choosing at random, or believing a wrong trace, never beats an honest claimant', async () => {
    const r = rng(77)
    for (let seed = 20; seed <= 27; seed++) {
      const f = await deployGame(anvil)
      const m = await registerTestModel(f, randomModel(seed, r.int(1, 9)))
      const inputs = randomInputs(m.model, r)
      const honest = buildTrace(m.model, inputs)
      const state = r.int(m.params.layout.inputCount, m.params.layout.stateCount - 1)
      const fake = lyingTrace(m, inputs, state, r.int(0, honest.states[state].length - 1), 3n, r.next() < 0.5)
      const [, claimant, challenger] = f.wallets
      const { key } = await postClaim(f, m, claimant, honest)
      const { disputeId } = await openDispute(f, key, challenger)
      const base = player(f, m, 'challenger', challenger, r.next() < 0.5 ? honest : fake)
      const view = await playOut(
        f,
        disputeId,
        player(f, m, 'claimant', claimant, honest),
        r.next() < 0.7 ? randomChooser(base, r) : player(f, m, 'challenger', challenger, fake),
      )
      expect(view.claimantWon, `seed ${seed}`).toBe(true)
      await advanceTime(f.provider, WINDOW + 1n)
      await finalizeClaim(f.gameAs(claimant), key)
      expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND + CHALLENGE_BOND)
      await expectConserved(f, 0n, [claimant, challenger])
    }
  })

  it('a claimant lying only at level 2 cannot open children or reveal roots it did not commit to', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const inputs = [[9n, 8n, -7n, 6n, -5n, 4n]]
    const honest = buildTrace(m.model, inputs)
    const lie = lyingTrace(m, inputs, 3, 2, 1n, true)
    const [, claimant, challenger] = f.wallets
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    const { disputeId } = await openDispute(f, key, challenger)
    const liar = player(f, m, 'claimant', claimant, lie)
    const steerer = player(f, m, 'claimant', claimant, honest)
    // Level 1 follows its committed (lying) trace, level 2 tries to switch to the honest tensor.
    const switching: Player = {
      ...liar,
      decide: (v, id) => (v.phase === 'Reveal' || v.phase === 'Open' ? steerer.decide(v, id) : liar.decide(v, id)),
    }
    await expect(
      playDispute({ disputeId, claimant: switching, challenger: player(f, m, 'challenger', challenger, honest) }),
    ).rejects.toMatchObject({
      errorName: 'RevealMismatch',
    })
    // Revealing its own root works; then opening the honest children is refused.
    const view = await readDispute(f.gameAs(claimant), disputeId)
    await playMove(f.gameAs(claimant), disputeId, (await liar.decide(view, disputeId))!)
    const afterReveal = await readDispute(f.gameAs(claimant), disputeId)
    expect(afterReveal.phase).toBe('Open')
    const forged = {
      type: 'open' as const,
      left: honest.tensorTrees[3].layers[1][0],
      right: honest.tensorTrees[3].layers[1][1],
    }
    await expect(playMove(f.gameAs(claimant), disputeId, forged)).rejects.toMatchObject({
      errorName: 'ChildrenMismatch',
    })
    const end = await playOut(f, disputeId, liar, player(f, m, 'challenger', challenger, honest))
    expect(end.claimantWon).toBe(false)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a forged Merkle proof in the one-step is refused and its author loses on time', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const inputs = [[1n, -1n, 2n, -2n, 3n, -3n]]
    const honest = buildTrace(m.model, inputs)
    // The forger claims the pre-state held other operand values (same roots are impossible).
    const forgedStates = honest.states.map((s) => [...s])
    forgedStates[2] = forgedStates[2].map((v) => v + 1n)
    const forgedTrace = traceFromStates(honest.layout, forgedStates)
    const [, claimant, challenger] = f.wallets
    const { key } = await postClaim(f, m, claimant, honest)
    const { disputeId } = await openDispute(f, key, challenger)
    const base = player(f, m, 'challenger', challenger, honest)
    const forger = player(f, m, 'challenger', challenger, forgedTrace)
    // Bisect towards step 3 (the last linear), then prove with forged operands.
    const steered: Player = {
      ...base,
      decide: (v, id) =>
        v.phase === 'Choose'
          ? { type: 'choose', agree: true }
          : v.phase === 'Pick'
            ? { type: 'pick', right: false }
            : forger.decide(v, id),
    }
    await expect(
      playDispute({ disputeId, claimant: player(f, m, 'claimant', claimant, honest), challenger: steered }),
    ).rejects.toMatchObject({
      errorName: 'OperandNotInPreState',
    })
    const view = await playOut(f, disputeId, player(f, m, 'claimant', claimant, honest), {
      ...base,
      decide: () => null,
    })
    expect(view.claimantWon).toBe(true)
  })

  it('replayed, out-of-turn and out-of-window moves are refused', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const inputs = [[5n, 5n, 5n, -5n, -5n, -5n]]
    const honest = buildTrace(m.model, inputs)
    const lie = lyingTrace(m, inputs, 2, 0, 2n, true)
    const [, claimant, challenger, late] = f.wallets
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    await expect(postClaim(f, m, claimant, lie)).rejects.toMatchObject({ errorName: 'ClaimExists' })
    await expect(
      submitClaim(
        f.gameAs(claimant),
        m.modelId,
        { ...honest, outputs: honest.outputs.map((o) => o.map((v) => v + 1n)) },
        CLAIM_BOND,
      ),
    ).rejects.toMatchObject({
      errorName: 'OutputNotInTrace',
      args: [0n],
    })
    await expect(submitClaim(f.gameAs(claimant), m.modelId, honest, CLAIM_BOND - 1n)).rejects.toMatchObject({
      errorName: 'WrongBond',
    })
    await expect(openDispute(f, key, claimant)).rejects.toMatchObject({ errorName: 'SelfChallenge' })
    const { disputeId } = await openDispute(f, key, challenger)
    await expect(openDispute(f, key, challenger)).rejects.toMatchObject({ errorName: 'DisputeExists' })
    const c = player(f, m, 'claimant', claimant, lie)
    const h = player(f, m, 'challenger', challenger, honest)
    const first = await c.decide(await readDispute(c.game, disputeId), disputeId)
    await playMove(c.game, disputeId, first!)
    await expect(playMove(c.game, disputeId, first!)).rejects.toMatchObject({ errorName: 'WrongPhase' })
    await expect(playMove(c.game, disputeId, { type: 'choose', agree: true })).rejects.toMatchObject({
      errorName: 'NotYourTurn',
    })
    const view = await playOut(f, disputeId, c, h)
    expect(view.claimantWon).toBe(false)
    await expect(playMove(h.game, disputeId, { type: 'step', proof: '0x' })).rejects.toMatchObject({
      errorName: 'WrongPhase',
    })
    await expect(timeoutDispute(h.game, disputeId)).rejects.toMatchObject({ errorName: 'NoMoveToTimeOut' })
    await expect(finalizeClaim(c.game, key)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    await advanceTime(f.provider, WINDOW + 1n)
    await expect(openDispute(f, key, late)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    await withdrawCredit(h.game)
    await expect(withdrawCredit(h.game)).rejects.toMatchObject({ errorName: 'NothingToWithdraw' })
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    await expectConserved(f, 0n, [claimant, challenger])
  })

  it('a colluding challenger that loses on purpose cannot shield a false claim', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const inputs = [[0n, 1n, 2n, 3n, 4n, 5n]]
    const honest = buildTrace(m.model, inputs)
    const lie = lyingTrace(m, inputs, 3, 1, -4n, false)
    const [, claimant, accomplice, watcher] = f.wallets
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    const { disputeId: fakeId } = await openDispute(f, key, accomplice)
    const { disputeId: realId } = await openDispute(f, key, watcher)
    // The accomplice never moves past its first choice; the watcher plays honestly.
    const quiet: Player = { ...player(f, m, 'challenger', accomplice, lie), decide: () => null }
    await playOut(f, fakeId, player(f, m, 'claimant', claimant, lie), quiet)
    await advanceTime(f.provider, WINDOW)
    await expect(finalizeClaim(f.gameAs(claimant), key)).rejects.toMatchObject({ errorName: 'DisputesOpen' })
    const view = await playOut(
      f,
      realId,
      player(f, m, 'claimant', claimant, lie),
      player(f, m, 'challenger', watcher, honest),
    )
    expect(view.claimantWon).toBe(false)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect(await f.gameAs(watcher).credit(watcher.address)).toBe(REJECT_REWARD)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CHALLENGE_BOND)
    await expectConserved(f, 0n, [claimant, accomplice, watcher])
  })

  it('a claimant cannot fork the trace tree: the revealed state must extend the agreed prefix', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const inputs = [[7n, 7n, -7n, 7n, -7n, 7n]]
    const honest = buildTrace(m.model, inputs)
    const lie = lyingTrace(m, inputs, 3, 0, 1n, true)
    const [, claimant, challenger] = f.wallets
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    const { disputeId } = await openDispute(f, key, challenger)
    // Propose, at mid = 1, a root holding the HONEST state 1 under forged siblings: the
    // challenger must disagree, and the claimant then hopes to defend the honest tensor.
    const path = merkleProof(prefixTree(honest, 1), 1)
    path[1] = hexlify(randomBytes(32))
    const forkedRoot = rootFrom(honest.tensorTrees[1].root, 1, path)
    await playMove(f.gameAs(claimant), disputeId, { type: 'propose', root: forkedRoot })
    await playMove(
      f.gameAs(challenger),
      disputeId,
      (await player(f, m, 'challenger', challenger, honest).decide(
        await readDispute(f.gameAs(challenger), disputeId),
        disputeId,
      ))!,
    )
    const view = await readDispute(f.gameAs(claimant), disputeId)
    expect([view.phase, view.lo, view.hi]).toEqual(['Reveal', 0, 1])
    await expect(
      playMove(f.gameAs(claimant), disputeId, { type: 'reveal', stateRoot: honest.tensorTrees[1].root, path }),
    ).rejects.toMatchObject({
      errorName: 'RevealMismatch',
    })
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(challenger), disputeId)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
  })
  it('inside level 3: a claimant whose partial sums turn wrong at any term, the last included, loses at that term', async () => {
    const f = await deployGame(anvil)
    // [model, inputs, lied state, element]: a linear row of 6 terms over the packed input, a
    // max row of 9 terms over two input states, a 64-term linear row.
    const cases = [
      [tinyModel(), [[9n, -8n, 7n, -6n, 5n, -4n]], 1, 3],
      [maxLookupModel(), MAX_LOOKUP_INPUTS, 2, 3],
      [mlp([64, 3], 8), [Array.from({ length: 64 }, (_, i) => BigInt(((i * 37) % 255) - 127))], 1, 2],
    ] as const
    const [, , challenger, ...claimants] = f.wallets
    let rejected = 0
    for (const [model, inputs, state, element] of cases) {
      const m = await registerTestModel(f, model)
      const honest = buildTrace(m.model, inputs)
      const stepIndex = state - m.params.layout.inputCount
      const accs = foldAccs(m.model, m.params, honest, stepIndex, element)
      const terms = accs.length - 1
      const delta = model.steps[stepIndex].op.op === 'max' ? 1000n : 7n
      // The claim is the element + delta (later steps recomputed: only this element is wrong).
      const lie = lyingTrace(m, inputs as bigint[][], state, element, delta, true)
      for (const [i, wrongFrom] of [...new Set([1, 2, Math.ceil(terms / 2), terms - 1, terms])].entries()) {
        // One claimant per claim: the same claim cannot be posted twice.
        const claimant = claimants[i]
        const { claimId, key } = await postClaim(f, m, claimant, lie)
        const { disputeId } = await openDispute(f, key, challenger)
        const base = player(f, m, 'claimant', claimant, lie)
        // Honest partial sums before term `wrongFrom`, shifted by the lie from there on.
        const liar: Player = {
          ...base,
          decide: (v, id) => {
            if (v.phase !== 'FoldPropose') return base.decide(v, id)
            const mid = Math.floor((v.foldLo + v.foldHi) / 2)
            return { type: 'foldPropose', acc: accs[mid] + (mid >= wrongFrom ? delta : 0n) }
          },
        }
        const { view, moves } = await playDispute({
          disputeId,
          claimant: liar,
          challenger: player(f, m, 'challenger', challenger, honest),
        })
        const what = `${model.name} state ${state} element ${element}, partial sums wrong from term ${wrongFrom} of ${terms}`
        expect([view.phase, view.claimantWon, view.hi], what).toEqual(['Resolved', false, state])
        expect([view.foldLo, view.foldHi, view.termCount], what).toEqual([wrongFrom - 1, wrongFrom, terms])
        expect(moves.at(-1)?.move, what).toBe('foldStep')
        const proposals = moves.filter((x) => x.move === 'foldPropose').length
        expect(proposals, what).toBe(moves.filter((x) => x.move === 'foldChoose').length)
        expect(proposals, what).toBeLessThanOrEqual(depthFor(terms))
        expect(await claimStatus(f, claimId)).toBe('Rejected')
        rejected++
      }
    }
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(BigInt(rejected) * REJECT_REWARD)
    await expectConserved(f, 0n, [challenger, ...claimants])
  })

  it('inside level 3: forged rows and terms are refused, the committed ones settle it whoever sends them; a challenger denying true partial sums loses', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const inputs = [[1n, -1n, 2n, -2n, 3n, -3n]]
    const honest = buildTrace(m.model, inputs)
    const lie = lyingTrace(m, inputs, 1, 0, 5n, true)
    const [, claimant, challenger, bystander] = f.wallets
    const { claimId, key } = await postClaim(f, m, claimant, lie)
    const { disputeId } = await openDispute(f, key, challenger)
    const h = player(f, m, 'challenger', challenger, honest)
    const stopAt = (phase: string): Player => ({
      ...h,
      decide: (v, id) => (v.phase === phase ? null : h.decide(v, id)),
    })
    await playDispute({ disputeId, claimant: player(f, m, 'claimant', claimant, lie), challenger: stopAt('Step') })
    const atStep = await readDispute(f.gameAs(challenger), disputeId)
    expect([atStep.phase, atStep.hi]).toEqual(['Step', 1])
    // A valueAt proof for a linear element, another element's row: refused.
    const other = { model: m.model, params: m.params, trace: honest, stepIndex: 0 }
    const element = Number(atStep.pos) - 2 ** depthFor(5)
    expect(element).toBe(0)
    await expect(
      playMove(f.gameAs(bystander), disputeId, { type: 'step', proof: buildFoldRowProof({ ...other, element }) }),
    ).rejects.toMatchObject({ errorName: 'FoldRequired' })
    await expect(
      playMove(f.gameAs(bystander), disputeId, {
        type: 'startFold',
        proof: buildFoldRowProof({ ...other, element: (element + 1) % 5 }),
      }),
    ).rejects.toMatchObject({ errorName: 'RowNotInModel' })
    // Anyone may open the fold with the committed row; the challenger's clock runs on.
    await playMove(f.gameAs(bystander), disputeId, {
      type: 'startFold',
      proof: buildFoldRowProof({ ...other, element }),
    })
    await playDispute({ disputeId, claimant: player(f, m, 'claimant', claimant, lie), challenger: stopAt('FoldStep') })
    const atTerm = await readDispute(f.gameAs(challenger), disputeId)
    expect(atTerm.phase).toBe('FoldStep')
    // A term proof of a neighbouring term, or with a forged operand word, is refused.
    const term = { ...other, element, term: (atTerm.foldLo + 1) % 6 }
    await expect(
      playMove(f.gameAs(challenger), disputeId, { type: 'foldStep', proof: buildFoldStepProof(term) }),
    ).rejects.toMatchObject({ errorName: 'TermNotInRow' })
    const forged = traceFromStates(
      honest.layout,
      honest.states.map((v, t) => (t === 0 ? v.map((x) => -x) : v)),
    )
    await expect(
      playMove(f.gameAs(challenger), disputeId, {
        type: 'foldStep',
        proof: buildFoldStepProof({ ...term, trace: forged, term: atTerm.foldLo }),
      }),
    ).rejects.toMatchObject({
      errorName: 'OperandNotInPreState',
    })
    // The honest term proof, sent by anyone, settles it.
    await playMove(f.gameAs(bystander), disputeId, {
      type: 'foldStep',
      proof: buildFoldStepProof({ ...term, term: atTerm.foldLo }),
    })
    expect(await readDispute(f.gameAs(challenger), disputeId)).toMatchObject({ phase: 'Resolved', claimantWon: false })
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect(await f.gameAs(bystander).credit(bystander.address)).toBe(0n)

    // An honest claim; a challenger that disagrees with every true partial sum loses at the first term.
    const { key: honestKey } = await postClaim(f, m, claimant, honest)
    const { disputeId: d2 } = await openDispute(f, honestKey, challenger)
    const fake = lyingTrace(m, inputs, 1, 2, -3n, false)
    const contrarian: Player = {
      ...player(f, m, 'challenger', challenger, fake),
      decide: (v, id) =>
        v.phase === 'FoldChoose'
          ? { type: 'foldChoose', agree: false }
          : player(f, m, 'challenger', challenger, fake).decide(v, id),
    }
    const { view } = await playDispute({
      disputeId: d2,
      claimant: player(f, m, 'claimant', claimant, honest),
      challenger: contrarian,
    })
    expect([view.phase, view.claimantWon, view.foldLo, view.foldHi]).toEqual(['Resolved', true, 0, 1])
    await expectConserved(f, CLAIM_BOND, [claimant, challenger, bystander])
  })
})
