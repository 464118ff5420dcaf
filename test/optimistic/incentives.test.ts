import { getBytes, hexlify, toBeHex, type Wallet, ZeroHash, zeroPadValue } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import type { IrModel } from '../../src/ir/types.js'
import { deployOptimistic } from '../../src/optimistic/chain/contracts.js'
import { modelId as irModelId } from '../../src/ir/serialize.js'
import { MOVER } from '../../src/optimistic/agent.js'
import {
  closeMoot,
  finalizeClaim,
  playMove,
  readClaim,
  readDispute,
  gameContract,
  hubContract,
  registerModel,
  send,
  submitClaim,
  timeoutDispute,
  withdrawCredit,
} from '../../src/optimistic/chain/client.js'
import type { Move } from '../../src/optimistic/dispute.js'
import {
  claimIdOf,
  claimKeyOf,
  type GameModelConfig,
  gameModelConfig,
  packedInputOf,
  packedOutputsOf,
} from '../../src/optimistic/config.js'
import type { Hex } from '../../src/util/hex.js'
import { packedOutputBytes, unpackOutputs } from '../../src/optimistic/output.js'
import { commitParams } from '../../src/optimistic/params.js'
import type { Player } from '../../src/optimistic/chain/play.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import {
  advanceTime,
  CHALLENGE_BOND,
  CLAIM_BOND,
  deployGame,
  type GameFixture,
  MOVE_TIMEOUT,
  type RegisteredModel,
  startChain,
  WINDOW,
} from './chain.js'
import { MAX_LOOKUP_INPUTS, maxLookupModel } from './fixtures.js'
import { mlp, tinyModel } from './models.js'
import { lyingTrace, openDispute, player, postClaim } from './scenario.js'

/** An odd claim bond: the reward (claimBond / 2) rounds down, the burn takes the odd wei. */
const ODD_CLAIM_BOND = CLAIM_BOND + 1n
const TINY_INPUTS = [[9n, -8n, 7n, -6n, 5n, -4n]]

type Config = Omit<GameModelConfig, 'stateSizes' | 'outputStates'> & { stateSizes: number[]; outputStates: number[] }

function baseConfig(f: GameFixture, model: IrModel, claimBond = CLAIM_BOND): Config {
  return gameModelConfig(commitParams(model), {
    executor: f.executorAddress,
    claimBond,
    challengeBond: CHALLENGE_BOND,
    challengeWindow: WINDOW,
    moveTimeout: MOVE_TIMEOUT,
  })
}

async function register(f: GameFixture, model: IrModel, claimBond = CLAIM_BOND): Promise<RegisteredModel> {
  const params = commitParams(model)
  const config = baseConfig(f, model, claimBond)
  const { modelId } = await registerModel(f.gameAs(f.wallets[0]), irModelId(model), config)
  return { model, params, config, modelId }
}

/**
 * Conservation (spec §4.5): the game holds exactly every account's credit, the bonds still
 * locked and the burned wei. Every wallet of the chain is summed, so a credit paid to an
 * unexpected account (a copier) still balances and is caught by the per-account checks.
 */
async function expectConserved(f: GameFixture, lockedWei: bigint) {
  const game = f.gameAs(f.wallets[0])
  let credits = 0n
  for (const w of f.wallets) credits += (await game.credit(w.address)) as bigint
  const burned = (await game.burned()) as bigint
  expect(await f.provider.getBalance(f.gameAddress)).toBe(credits + lockedWei + burned)
}

const creditOf = async (f: GameFixture, w: Wallet) => (await f.gameAs(w).credit(w.address)) as bigint
const burnedOf = async (f: GameFixture) => (await f.gameAs(f.wallets[0]).burned()) as bigint

const PROOF_MOVES = new Set<Move['type']>(['step', 'startFold', 'foldStep'])

/**
 * Plays the dispute until `stop(phase)` holds or it resolves; every proof move (step,
 * startFold, foldStep) is sent by `copier` instead of the player whose strategy built it,
 * as a front-runner copying the transaction would. Returns the gas of each move.
 */
async function playWithCopier(p: {
  disputeId: Hex
  claimant: Player
  challenger: Player
  copier: Wallet
  f: GameFixture
  stop?: (phase: string) => boolean
}) {
  const gas: { move: Move['type']; gasUsed: bigint }[] = []
  for (;;) {
    const view = await readDispute(p.claimant.game, p.disputeId)
    const mover = MOVER[view.phase]
    if (!mover || p.stop?.(view.phase)) return { view, gas }
    const move = await (mover === 'claimant' ? p.claimant : p.challenger).decide(view, p.disputeId)
    if (!move) return { view, gas }
    const sender = PROOF_MOVES.has(move.type)
      ? p.f.gameAs(p.copier)
      : (mover === 'claimant' ? p.claimant : p.challenger).game
    const { gasUsed } = await playMove(sender, p.disputeId, move)
    gas.push({ move: move.type, gasUsed })
  }
}

describe('incentives (spec §4) and registration bounds (spec §3), adversarially on anvil', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('registration refuses every out-of-bounds config with its custom error and fields', async () => {
    const f = await deployGame(anvil)
    const game = f.gameAs(f.wallets[0])
    const base = baseConfig(f, tinyModel())
    const day = 86_400n
    const cases: [Partial<Config>, string, unknown[]][] = [
      [{ claimBond: 0n }, 'InvalidBond', [0n, CHALLENGE_BOND]],
      [{ challengeBond: 0n }, 'InvalidBond', [CLAIM_BOND, 0n]],
      [{ moveTimeout: 59n }, 'InvalidClock', [59n, 60n, 7n * day]],
      [{ moveTimeout: 7n * day + 1n }, 'InvalidClock', [7n * day + 1n, 60n, 7n * day]],
      [{ challengeWindow: 0n }, 'InvalidClock', [0n, 60n, 30n * day]],
      [{ challengeWindow: 30n * day + 1n }, 'InvalidClock', [30n * day + 1n, 60n, 30n * day]],
      [{ inputLayouts: [] }, 'InvalidInputLayout', [1n, 0n, 0n, 0n]],
      // Not the circuit's layout of [-128, 127] (8 bits), an empty domain, a bound beyond 2^240.
      [{ inputLayouts: [{ laneBits: 7, lo: -128n, hi: 127n }] }, 'InvalidInputLayout', [0n, 7n, -128n, 127n]],
      [{ inputLayouts: [{ laneBits: 1, lo: 5n, hi: 4n }] }, 'InvalidInputLayout', [0n, 1n, 5n, 4n]],
      [
        { inputLayouts: [{ laneBits: 242, lo: -(2n ** 240n) - 1n, hi: 0n }] },
        'InvalidInputLayout',
        [0n, 242n, -(2n ** 240n) - 1n, 0n],
      ],
      [
        { executor: '0x0000000000000000000000000000000000000000' },
        'InvalidExecutor',
        ['0x0000000000000000000000000000000000000000'],
      ],
      [{ inputCount: 0 }, 'InvalidStateCount', [0n, 4n]],
      [{ inputCount: 4 }, 'InvalidStateCount', [4n, 4n]],
      [{ outputStates: [] }, 'InvalidOutputState', [0n, 0n]],
      [{ outputStates: [3, 0] }, 'InvalidOutputState', [1n, 0n]],
      [{ outputStates: [4] }, 'InvalidOutputState', [0n, 4n]],
      [{ stateSizes: [6, 5, 0, 3] }, 'EmptyState', [2n]],
      // int8 lanes, 31 a word: 63,489 values take 2,049 words.
      [{ stateSizes: [63_489, 5, 5, 3] }, 'InputTooLarge', [65_568n, 65_536n]],
      [{ outputLayouts: [] }, 'InvalidOutputLayout', [1n, 0n, 0n]],
      [{ outputLayouts: [{ laneBits: 0, lo: 0n }] }, 'InvalidOutputLayout', [0n, 0n, 0n]],
      [{ outputLayouts: [{ laneBits: 253, lo: 0n }] }, 'InvalidOutputLayout', [0n, 253n, 0n]],
      [{ outputLayouts: [{ laneBits: 8, lo: 2n ** 240n + 1n }] }, 'InvalidOutputLayout', [0n, 8n, 2n ** 240n + 1n]],
      [
        { outputLayouts: [{ laneBits: 8, lo: -(2n ** 240n) - 1n }] },
        'InvalidOutputLayout',
        [0n, 8n, -(2n ** 240n) - 1n],
      ],
      // 3,827 values of 252 bits, one a word: 122,464 bytes of outputs; with the input (32), its
      // path (2 siblings) and the ABI words (356) the claim is 122,884 bytes > 122,880.
      [
        { stateSizes: [6, 5, 5, 3_827], outputLayouts: [{ laneBits: 252, lo: 0n }] },
        'ClaimTooLarge',
        [32n, 122_464n, 122_884n, 122_880n],
      ],
    ]
    // Distinct ids per registration (an id is registered once): the hub's owner names them.
    const idOf = (i: number) => zeroPadValue(toBeHex(i + 1), 32) as Hex
    for (const [patch, errorName, args] of cases) {
      const config = { ...base, ...patch }
      await expect(
        registerModel(game, idOf(0), config),
        `${JSON.stringify(patch, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`,
      ).rejects.toMatchObject({ errorName, args })
    }
    // The bounds themselves are allowed: 60 s clocks, 7-day moves, 30-day windows, a 64 KiB input, a 1-wei bond,
    // input domains of ±2^240 or of one value.
    const edges: Partial<Config>[] = [
      { moveTimeout: 60n, challengeWindow: 60n, claimBond: 1n, challengeBond: 1n },
      { moveTimeout: 7n * day, challengeWindow: 30n * day },
      { stateSizes: [63_488, 5, 5, 3] },
      { inputLayouts: [{ laneBits: 242, lo: -(2n ** 240n), hi: 2n ** 240n }] },
      { inputLayouts: [{ laneBits: 1, lo: 7n, hi: 7n }] },
      { inputLayouts: [{ laneBits: 7, lo: 0n, hi: 64n }] },
      { outputStates: [3, 1, 2], outputLayouts: [1, 2, 3].map((laneBits) => ({ laneBits, lo: -5n })) },
      { outputLayouts: [{ laneBits: 252, lo: 2n ** 240n }] },
      { outputLayouts: [{ laneBits: 1, lo: -(2n ** 240n) }] },
      // The largest such claim: 3,826 words of outputs, 122,852 bytes of calldata in all.
      { stateSizes: [6, 5, 5, 3_826], outputLayouts: [{ laneBits: 252, lo: 0n }] },
    ]
    for (const [i, patch] of edges.entries()) await registerModel(game, idOf(i), { ...base, ...patch })
    // A model's config never changes: its id is refused the second time, even with the same config.
    await expect(registerModel(game, idOf(0), { ...base, ...edges[0] })).rejects.toMatchObject({
      errorName: 'ModelAlreadyRegistered',
      args: [idOf(0)],
    })
    await expect(registerModel(game, idOf(1), base)).rejects.toMatchObject({ errorName: 'ModelAlreadyRegistered' })
    // The zero id is reserved; only the hub's owner (wallets[0]) registers, whatever the config.
    await expect(registerModel(game, ZeroHash as Hex, base)).rejects.toMatchObject({ errorName: 'ZeroModelId' })
    // (idOf(2) is bound to this game already: the stranger meets the game's check, not the hub's.)
    const stranger = f.gameAs(f.wallets[1])
    await expect(registerModel(stranger, idOf(2), base)).rejects.toMatchObject({
      errorName: 'NotHubOwner',
      args: [f.wallets[1].address, f.wallets[0].address],
    })
    // A model the hub binds to another game (or to none) is refused: its claims could not be recorded.
    const other = await deployOptimistic(f.wallets[0], { hubAddress: f.hubAddress })
    const otherGame = gameContract(other.gameAddress, f.wallets[0])
    await expect(registerModel(otherGame, idOf(0), base)).rejects.toMatchObject({
      errorName: 'GameNotBound',
      args: [idOf(0), f.gameAddress],
    })
    // Nor can the hub bind a second game to a model (one game per model: its claims meet in one record).
    const hub = hubContract(f.hubAddress, f.wallets[0])
    await expect(send('bindSettler', () => hub.bindSettler(idOf(0), other.gameAddress, 2))).rejects.toMatchObject({
      errorName: 'InvalidSettler',
    })
  })

  it("a cheater's sybil challenger winning first still costs the cheater claimBond - claimBond/2; the honest challenger's bond returns by closeMoot", async () => {
    const f = await deployGame(anvil)
    const m = await register(f, tinyModel(), ODD_CLAIM_BOND)
    const [, cheater, sybil, honestChallenger, copier, late] = f.wallets
    const honest = buildTrace(m.model, TINY_INPUTS)
    // A lie in the last linear layer: its disputes end in a fold over the row.
    const lie = lyingTrace(m, TINY_INPUTS, 3, 1, 5n, true)
    const { claimId, key } = await submitClaim(f.gameAs(cheater), m.modelId, lie, ODD_CLAIM_BOND)
    const honestDispute = await openDispute(f, key, honestChallenger)
    const sybilDispute = await openDispute(f, key, sybil)
    expect((await readClaim(f.gameAs(copier), claimId)).openDisputes).toBe(2)
    await expectConserved(f, ODD_CLAIM_BOND + 2n * CHALLENGE_BOND)

    // The honest challenger gets as far as level 3 before the cheater's sybil wins.
    const cheat = player(f, m, 'claimant', cheater, lie)
    const h = player(f, m, 'challenger', honestChallenger, honest)
    const partial = await playWithCopier({
      f,
      disputeId: honestDispute.disputeId,
      claimant: cheat,
      challenger: h,
      copier,
      stop: (p) => p === 'FoldChoose',
    })
    expect(partial.view.phase).toBe('FoldChoose')
    // The sybil plays the truth against its own claimant's lie; a copier sends every proof.
    const s = player(f, m, 'challenger', sybil, honest)
    const won = await playWithCopier({ f, disputeId: sybilDispute.disputeId, claimant: cheat, challenger: s, copier })
    expect(won.view.phase).toBe('Resolved')
    expect(won.view.claimantWon).toBe(false)
    expect(won.gas.map((g) => g.move)).toContain('startFold')
    expect(won.gas.at(-1)!.move).toBe('foldStep')

    // §4.2: the first win rejects the claim, pays the sybil its bond + claimBond / 2 and burns the rest.
    const reward = ODD_CLAIM_BOND / 2n
    expect((await readClaim(f.gameAs(copier), claimId)).status).toBe('Rejected')
    expect(await creditOf(f, sybil)).toBe(CHALLENGE_BOND + reward)
    expect(await creditOf(f, cheater)).toBe(0n)
    expect(await creditOf(f, copier)).toBe(0n)
    expect(await burnedOf(f)).toBe(ODD_CLAIM_BOND - reward)
    // The cheater (claimant + sybil) ends with less than it staked, by exactly the burned half.
    const cheaterNet = (await creditOf(f, cheater)) + (await creditOf(f, sybil)) - ODD_CLAIM_BOND - CHALLENGE_BOND
    expect(cheaterNet).toBe(-(ODD_CLAIM_BOND - reward))
    expect(cheaterNet < 0n).toBe(true)
    await expectConserved(f, CHALLENGE_BOND)

    // Every move on the settled claim's live dispute reverts ClaimSettled, whoever sends it.
    const id = honestDispute.disputeId
    await expect(playMove(h.game, id, { type: 'foldChoose', agree: true })).rejects.toMatchObject({
      errorName: 'ClaimSettled',
      args: [claimId],
    })
    await expect(playMove(cheat.game, id, { type: 'foldPropose', acc: 0n })).rejects.toMatchObject({
      errorName: 'ClaimSettled',
    })
    await expect(playMove(cheat.game, id, { type: 'propose', root: honest.traceRoot })).rejects.toMatchObject({
      errorName: 'ClaimSettled',
    })
    await expect(playMove(f.gameAs(copier), id, { type: 'foldStep', proof: '0x' })).rejects.toMatchObject({
      errorName: 'ClaimSettled',
    })
    await expect(playMove(f.gameAs(copier), id, { type: 'step', proof: '0x' })).rejects.toMatchObject({
      errorName: 'ClaimSettled',
    })
    await expect(playMove(f.gameAs(copier), id, { type: 'startFold', proof: '0x' })).rejects.toMatchObject({
      errorName: 'ClaimSettled',
    })
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    // The cheater cannot win the honest dispute on time either.
    await expect(timeoutDispute(cheat.game, id)).rejects.toMatchObject({ errorName: 'ClaimSettled', args: [claimId] })
    await expect(openDispute(f, key, late)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    // The resolved sybil dispute cannot be closed moot (its payout is final).
    await expect(closeMoot(f.gameAs(copier), sybilDispute.disputeId)).rejects.toMatchObject({
      errorName: 'DisputeNotLive',
    })

    // §4.3: closed moot (by anyone), the honest challenger's bond returns in full, to it.
    await closeMoot(f.gameAs(copier), id)
    expect(await creditOf(f, honestChallenger)).toBe(CHALLENGE_BOND)
    expect(await creditOf(f, copier)).toBe(0n)
    const closed = await readDispute(f.gameAs(copier), id)
    expect(closed.phase).toBe('Resolved')
    expect(closed.claimantWon).toBe(false)
    expect((await readClaim(f.gameAs(copier), claimId)).openDisputes).toBe(0)
    await expect(closeMoot(f.gameAs(copier), id)).rejects.toMatchObject({ errorName: 'DisputeNotLive' })
    await expectConserved(f, 0n)
    await advanceTime(f.provider, WINDOW + 1n)
    await expect(finalizeClaim(f.gameAs(copier), key)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })

    // Withdrawals leave exactly the burned wei, which nobody can take.
    await withdrawCredit(f.gameAs(sybil))
    await withdrawCredit(f.gameAs(honestChallenger))
    await expect(withdrawCredit(f.gameAs(cheater))).rejects.toMatchObject({ errorName: 'NothingToWithdraw' })
    await expect(withdrawCredit(f.gameAs(copier))).rejects.toMatchObject({ errorName: 'NothingToWithdraw' })
    expect(await f.provider.getBalance(f.gameAddress)).toBe(ODD_CLAIM_BOND - reward)
    await expectConserved(f, 0n)
  })

  it('closeMoot only closes disputes of a Rejected claim', async () => {
    const f = await deployGame(anvil)
    const m = await register(f, tinyModel())
    const [, claimant, challenger, copier] = f.wallets
    const honest = buildTrace(m.model, TINY_INPUTS)
    const { claimId, key } = await postClaim(f, m, claimant, honest)
    const { disputeId } = await openDispute(f, key, challenger)
    await expect(closeMoot(f.gameAs(copier), disputeId)).rejects.toMatchObject({
      errorName: 'ClaimNotRejected',
      args: [claimId, 1n],
    })
    await expect(closeMoot(f.gameAs(copier), claimId)).rejects.toMatchObject({
      errorName: 'DisputeNotLive',
      args: [0n],
    })
    await expectConserved(f, CLAIM_BOND + CHALLENGE_BOND)
  })

  it('copying a step, startFold, foldStep, timeout or finalize pays the recorded parties, never the sender', async () => {
    const f = await deployGame(anvil)
    const m = await register(f, tinyModel())
    const [, claimant, believer, staller, copier] = f.wallets
    const honest = buildTrace(m.model, TINY_INPUTS)
    const { claimId, key } = await postClaim(f, m, claimant, honest)
    // A challenger that believes a wrong first layer disputes it; the copier sends the proofs
    // that decide the dispute (built from the truth: anyone may send them).
    const fake = lyingTrace(m, TINY_INPUTS, 1, 2, 3n, true)
    const truth = player(f, m, 'challenger', believer, honest)
    const believerPlayer: Player = {
      ...player(f, m, 'challenger', believer, fake),
      decide: (view, id) =>
        view.phase === 'Step' || view.phase === 'FoldStep'
          ? truth.decide(view, id)
          : player(f, m, 'challenger', believer, fake).decide(view, id),
    }
    const a = await openDispute(f, key, believer)
    const played = await playWithCopier({
      f,
      disputeId: a.disputeId,
      claimant: player(f, m, 'claimant', claimant, honest),
      challenger: believerPlayer,
      copier,
    })
    expect(played.view.claimantWon).toBe(true)
    expect(played.gas.some((g) => PROOF_MOVES.has(g.move))).toBe(true)
    expect(await creditOf(f, claimant)).toBe(CHALLENGE_BOND)
    expect(await creditOf(f, copier)).toBe(0n)
    expect((await readClaim(f.gameAs(copier), claimId)).status).toBe('Pending')

    // A stalling challenger: the copier cannot move for anyone, and its timeout pays the claimant.
    const b = await openDispute(f, key, staller)
    await expect(
      playMove(f.gameAs(copier), b.disputeId, { type: 'propose', root: honest.prefixRoots[2] }),
    ).rejects.toMatchObject({
      errorName: 'NotYourTurn',
      args: [claimant.address, copier.address],
    })
    const c = player(f, m, 'claimant', claimant, honest)
    await playMove(c.game, b.disputeId, (await c.decide(await readDispute(c.game, b.disputeId), b.disputeId))!)
    await expect(playMove(f.gameAs(copier), b.disputeId, { type: 'choose', agree: true })).rejects.toMatchObject({
      errorName: 'NotYourTurn',
      args: [staller.address, copier.address],
    })
    await expect(timeoutDispute(f.gameAs(copier), b.disputeId)).rejects.toMatchObject({ errorName: 'ClockRunning' })
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(copier), b.disputeId)
    expect(await creditOf(f, claimant)).toBe(2n * CHALLENGE_BOND)
    expect(await creditOf(f, copier)).toBe(0n)
    await expectConserved(f, CLAIM_BOND)

    await expect(finalizeClaim(f.gameAs(copier), key)).rejects.toMatchObject({ errorName: 'ChallengeWindowOpen' })
    await advanceTime(f.provider, WINDOW)
    await finalizeClaim(f.gameAs(copier), key)
    expect(await creditOf(f, claimant)).toBe(CLAIM_BOND + 2n * CHALLENGE_BOND)
    expect(await creditOf(f, copier)).toBe(0n)
    expect(await burnedOf(f)).toBe(0n)
    await expectConserved(f, 0n)
  })

  it('a copied step or timeout that rejects a cheater pays the recorded challenger its reward, not the copier', async () => {
    const f = await deployGame(anvil)
    const m = await register(f, tinyModel())
    const [, cheater, challenger, copier] = f.wallets
    const honest = buildTrace(m.model, TINY_INPUTS)
    // A lie in the requant (relu) layer: the dispute ends in a one-step `step`, sent by the copier.
    const lie = lyingTrace(m, TINY_INPUTS, 2, 0, 1n, true)
    const first = await postClaim(f, m, cheater, lie)
    const a = await openDispute(f, first.key, challenger)
    const players = {
      f,
      disputeId: a.disputeId,
      claimant: player(f, m, 'claimant', cheater, lie),
      challenger: player(f, m, 'challenger', challenger, honest),
      copier,
    }
    await playWithCopier({ ...players, stop: (phase) => phase === 'Step' })
    // An empty proof for a real element proves nothing: refused, the dispute stays in Step.
    await expect(playMove(f.gameAs(copier), a.disputeId, { type: 'step', proof: '0x' })).rejects.toMatchObject({
      errorName: 'MalformedProof',
      args: [0n],
    })
    const played = await playWithCopier(players)
    expect(played.view.claimantWon).toBe(false)
    expect(played.gas.at(-1)!.move).toBe('step')
    console.log(`step gas (requant element, tiny MLP): ${played.gas.at(-1)!.gasUsed}`)
    expect(await creditOf(f, challenger)).toBe(CHALLENGE_BOND + CLAIM_BOND / 2n)
    expect(await creditOf(f, copier)).toBe(0n)
    // A cheater that stalls instead: the copier's timeout pays the challenger.
    const second = await postClaim(f, m, cheater, lyingTrace(m, TINY_INPUTS, 2, 1, 1n, true))
    const b = await openDispute(f, second.key, challenger)
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(copier), b.disputeId)
    expect((await readClaim(f.gameAs(copier), second.claimId)).status).toBe('Rejected')
    expect(await creditOf(f, challenger)).toBe(2n * (CHALLENGE_BOND + CLAIM_BOND / 2n))
    expect(await creditOf(f, copier)).toBe(0n)
    expect(await creditOf(f, cheater)).toBe(0n)
    expect(await burnedOf(f)).toBe(2n * (CLAIM_BOND - CLAIM_BOND / 2n))
    await expectConserved(f, 0n)
  })

  it('a claim whose packed input has a nonzero padding byte, or the wrong length, reverts', async () => {
    const f = await deployGame(anvil)
    const [, claimant] = f.wallets
    const tiny = await register(f, tinyModel())
    const honest = buildTrace(tiny.model, TINY_INPUTS)
    const packed = getBytes(packedInputOf(honest))
    expect(packed.length).toBe(32) // 6 int8 lanes (48 bits) and 208 padding bits: bytes 0 ..= 25
    const withByte = (bytes: Uint8Array, at: number, v: number) => {
      const copy = Uint8Array.from(bytes)
      copy[at] = v
      return hexlify(copy) as Hex
    }
    const post = (m: RegisteredModel, trace: typeof honest, inputPacked: Hex) =>
      submitClaim(f.gameAs(claimant), m.modelId, trace, CLAIM_BOND, { inputPacked })
    for (const at of [0, 6, 17, 25]) {
      await expect(post(tiny, honest, withByte(packed, at, 1))).rejects.toMatchObject({
        errorName: 'InputPaddingNotZero',
        args: [0n, 0n],
      })
    }
    await expect(
      post(tiny, honest, hexlify(new Uint8Array([...packed, ...new Uint8Array(32)])) as Hex),
    ).rejects.toMatchObject({
      errorName: 'InputSizeMismatch',
      args: [32n, 64n],
    })
    await expect(post(tiny, honest, hexlify(packed.subarray(0, 6)) as Hex)).rejects.toMatchObject({
      errorName: 'InputSizeMismatch',
      args: [32n, 6n],
    })
    // Two input states (8 and 3 int8 lanes: 64 and 24 bits): each is packed in its own word.
    const ml = await register(f, maxLookupModel())
    const mlTrace = buildTrace(ml.model, MAX_LOOKUP_INPUTS)
    const mlPacked = getBytes(packedInputOf(mlTrace))
    expect(mlPacked.length).toBe(64)
    await expect(post(ml, mlTrace, withByte(mlPacked, 23, 1))).rejects.toMatchObject({
      errorName: 'InputPaddingNotZero',
      args: [0n, 0n],
    })
    await expect(post(ml, mlTrace, withByte(mlPacked, 32 + 3, 0x80))).rejects.toMatchObject({
      errorName: 'InputPaddingNotZero',
      args: [1n, 0n],
    })
    await expect(post(ml, mlTrace, withByte(mlPacked, 32 + 28, 1))).rejects.toMatchObject({
      errorName: 'InputPaddingNotZero',
      args: [1n, 0n],
    })
    // The last lane itself may hold any value of the domain: that is another input, committed by the game.
    const other = withByte(mlPacked, 32 + 29, 0x7f)
    const posted = await post(ml, mlTrace, other)
    expect(posted.claimId).toBe(claimIdOf(claimKeyOf(ml.modelId, mlTrace, claimant.address, other)))
    expect(posted.key.inputRoot).not.toBe(mlTrace.inputRoot)
    const fine = await post(ml, mlTrace, hexlify(mlPacked) as Hex)
    expect(fine.key.inputRoot).toBe(mlTrace.inputRoot)
    await expectConserved(f, 2n * CLAIM_BOND)
  })

  it('several outputs: each proven at its state, hashed into the key, emitted with the input', async () => {
    const f = await deployGame(anvil)
    const [, claimant] = f.wallets
    const tiny = tinyModel()
    // The last layer and the hidden relu (state 2) are both outputs, in that order.
    const model: IrModel = {
      ...tiny,
      outputs: [tiny.outputs[0], { tensor: 2, name: 'hidden', quant: tiny.outputs[0].quant }],
    }
    const m = await register(f, model)
    expect(m.config.outputStates).toEqual([3, 2])
    const honest = buildTrace(m.model, TINY_INPUTS)
    const posted = await postClaim(f, m, claimant, honest)
    expect(posted.claimId).toBe(claimIdOf(posted.key))
    const receipt = await f.provider.getTransactionReceipt(posted.hash)
    const game = f.gameAs(claimant)
    const event = receipt!.logs.map((l) => game.interface.parseLog(l)).find((e) => e?.name === 'ClaimSubmitted')!
    expect(event.args.key.inputRoot).toBe(honest.inputRoot)
    expect(event.args.key.traceRoot).toBe(honest.traceRoot)
    expect(event.args.input).toBe(packedInputOf(honest))
    const outputsPacked = packedOutputsOf(honest)
    expect(event.args.outputs).toBe(outputsPacked)
    expect(unpackOutputs(honest.layout.outputLayouts, event.args.outputs)).toEqual(honest.outputs)
    // Output 1's words start after output 0's; output 1 here is one word (lane 0 at its lowest bit).
    const at1 = packedOutputBytes(honest.layout.outputLayouts.slice(0, 1))
    const total = packedOutputBytes(honest.layout.outputLayouts)
    expect(total).toBe(at1 + 32)
    const tweak = (byte: number, xor: number) => {
      const b = getBytes(outputsPacked)
      b[byte] ^= xor
      return hexlify(b)
    }
    const post = (packed: Hex, trace = honest) =>
      submitClaim(game, m.modelId, trace, CLAIM_BOND, { outputsPacked: packed })
    // A lane of the second output changed (its lowest bit: element 0 moves by one) is not the trace's state.
    await expect(post(tweak(at1 + 31, 1))).rejects.toMatchObject({ errorName: 'OutputNotInTrace', args: [1n] })
    // A bit above the last lane (the word's top bit) set: a second packing of the same output, refused.
    await expect(post(tweak(at1, 0x80))).rejects.toMatchObject({ errorName: 'OutputPaddingNotZero', args: [1n, 0n] })
    // One word short, one word long.
    await expect(post(outputsPacked.slice(0, -64))).rejects.toMatchObject({
      errorName: 'OutputsSizeMismatch',
      args: [BigInt(total), BigInt(total - 32)],
    })
    await expect(post(`${outputsPacked}${'00'.repeat(32)}`)).rejects.toMatchObject({
      errorName: 'OutputsSizeMismatch',
      args: [BigInt(total), BigInt(total + 32)],
    })
    const one = { ...honest, layout: { ...honest.layout, outputStates: [3] } }
    await expect(post(outputsPacked, one)).rejects.toMatchObject({
      errorName: 'OutputCountMismatch',
      args: [2n, 1n],
    })
    await expectConserved(f, CLAIM_BOND)
  })

  it('gas: a claim on 1,000 int8 inputs stays under 100k; every dispute transaction is small', async () => {
    const f = await deployGame(anvil)
    const m = await register(f, mlp([1000, 8, 4], 5))
    const [, cheater, challenger, copier] = f.wallets
    const inputs = [Array.from({ length: 1000 }, (_, i) => BigInt(((i * 73) % 256) - 128))]
    const honest = buildTrace(m.model, inputs)
    const claim = await postClaim(f, m, cheater, honest)
    console.log(`claim gas, 1,000 int8 inputs (33 packed words), one output of 4: ${claim.gasUsed}`)
    // 99.3k: 40.7k of it is the transaction's calldata, 22.1k the claim's slot, 12.8k the event
    // (it carries the input), 4.2k the model's two layout words (ClaimLayout: one input and one
    // output fit one word after the shape); the rest checks, hashes and unpacks. The hub adds
    // nothing here: its one record per statement is written and read at settlement (finalize).
    expect(claim.gasUsed <= 100_000n).toBe(true)
    // A lie in the first layer: its fold runs over the 1,000 input lanes (word-tree openings).
    const lie = lyingTrace(m, inputs, 1, 3, 1n, true)
    const { key } = await postClaim(f, m, cheater, lie)
    const { disputeId, gasUsed: challengeGas } = await openDispute(f, key, challenger)
    const played = await playWithCopier({
      f,
      disputeId,
      claimant: player(f, m, 'claimant', cheater, lie),
      challenger: player(f, m, 'challenger', challenger, honest),
      copier,
    })
    expect(played.view.claimantWon).toBe(false)
    const worst = new Map<string, bigint>([['challenge', challengeGas]])
    for (const { move, gasUsed } of played.gas)
      worst.set(move, (worst.get(move) ?? 0n) > gasUsed ? worst.get(move)! : gasUsed)
    console.log(
      `dispute gas (max per move, 1000-8-4 MLP, fold over 1,000 terms): ${[...worst].map(([k, v]) => `${k} ${v}`).join(', ')}`,
    )
    expect([...worst.keys()]).toEqual(
      expect.arrayContaining([
        'propose',
        'choose',
        'reveal',
        'open',
        'pick',
        'startFold',
        'foldPropose',
        'foldChoose',
        'foldStep',
      ]),
    )
    for (const [move, gasUsed] of worst) expect(gasUsed < 300_000n, move).toBe(true)
    await expectConserved(f, CLAIM_BOND)
  })
})
