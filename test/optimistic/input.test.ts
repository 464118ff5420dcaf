import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { IrInputError } from '../../src/ir/errors.js'
import type { IrModel } from '../../src/ir/types.js'
import { honestMove } from '../../src/optimistic/agent.js'
import { finalizeClaim, proveInputMismatch, readClaim, readDispute, releaseDispute, submitClaim, timeoutDispute } from '../../src/optimistic/client.js'
import { claimKeyOf, packedInputOf } from '../../src/optimistic/config.js'
import { InputEncodingError } from '../../src/optimistic/errors.js'
import { inputHashOf, inputLaneFor, packInput, unpackInput, WORD_LANE } from '../../src/optimistic/input.js'
import { playDispute } from '../../src/optimistic/play.js'
import { claimsOf, playSeat, type Seat } from '../../src/optimistic/remote.js'
import { buildTrace, traceFromStates } from '../../src/optimistic/trace.js'
import { disputeIfWrong, type GameContext, type WatchEvent, watchClaims } from '../../src/optimistic/watch.js'
import { advanceTime, CHALLENGE_BOND, CLAIM_BOND, deployGame, type GameFixture, MOVE_TIMEOUT, registerTestModel, type RegisteredModel, startChain, WINDOW } from './chain.js'
import { mlp, randomInputs, randomModel, rng, tinyModel } from './models.js'
import { claimStatus, expectConserved, openDispute, player, postClaim } from './scenario.js'

describe('packed claim inputs', () => {
  it('the lane is the narrowest holding every input domain, unsigned when nothing is negative', () => {
    const lane = (lo: bigint, hi: bigint) => inputLaneFor([{ lo, hi }])
    expect(lane(-128n, 127n)).toEqual({ bytes: 1, signed: true })
    expect(lane(0n, 255n)).toEqual({ bytes: 1, signed: false })
    expect(lane(-1n, 128n)).toEqual({ bytes: 2, signed: true })
    expect(lane(0n, 65_536n)).toEqual({ bytes: 3, signed: false })
    expect(inputLaneFor([{ lo: 0n, hi: 10n }, { lo: -50n, hi: 50n }])).toEqual({ bytes: 1, signed: true })
    // An unsigned lane stops at 31 bytes, so every lane decodes to an int256.
    expect(lane(0n, (1n << 248n) - 1n)).toEqual({ bytes: 31, signed: false })
    expect(lane(0n, 1n << 248n)).toEqual(WORD_LANE)
  })

  it('pack and unpack round-trip at the edges of every lane; out-of-lane values are refused', () => {
    for (const lane of [{ bytes: 1, signed: true }, { bytes: 1, signed: false }, { bytes: 3, signed: true }, { bytes: 31, signed: false }, WORD_LANE]) {
      const bits = BigInt(8 * lane.bytes)
      const [min, max] = lane.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n]
      const values = [min, max, 0n, 1n, min + 1n, max - 1n, ...(lane.signed ? [-1n] : [])]
      const packed = packInput(lane, values)
      expect(packed.length).toBe(2 + 2 * lane.bytes * values.length)
      expect(unpackInput(lane, packed)).toEqual(values)
      expect(() => packInput(lane, [max + 1n])).toThrow(InputEncodingError)
      expect(() => packInput(lane, [min - 1n])).toThrow(InputEncodingError)
    }
    expect(packInput({ bytes: 1, signed: true }, [-1n, 127n, -128n])).toBe('0xff7f80')
    expect(() => unpackInput({ bytes: 2, signed: true }, '0x010203')).toThrow(InputEncodingError)
  })
})

/** A model reading `size` inputs in [lo, hi] (weights small, so traces stay in int256). */
function domainModel(lo: bigint, hi: bigint, size = 5): IrModel {
  const model = mlp([size, 3], 11)
  return { ...model, name: `domain-${lo}-${hi}`, inputs: model.inputs.map((i) => ({ ...i, lo, hi })) }
}

/** Inputs at the domain's edges and inside it. */
function edgeInputs(model: IrModel, seed: number): bigint[][] {
  const r = rng(seed)
  return model.inputs.map((i) => Array.from({ length: i.shape[0] }, (_, k) => (k === 0 ? i.lo : k === 1 ? i.hi : i.lo + ((i.hi - i.lo) * BigInt(r.int(0, 1000))) / 1000n)))
}

/** A claim on input `posted` whose trace (and input root) is built from input `used`. */
async function postMismatched(f: GameFixture, m: RegisteredModel, claimant: GameFixture['wallets'][number], posted: bigint[][], used: bigint[][]) {
  const trace = buildTrace(m.model, used)
  const inputPacked = packInput(m.params.layout.inputLane, posted.flat())
  const { claimId, gasUsed } = await submitClaim(f.gameAs(claimant), m.modelId, trace, CLAIM_BOND, { inputPacked })
  return { claimId, gasUsed, trace, inputPacked, key: claimKeyOf(m.modelId, trace, claimant.address, inputPacked) }
}

const ctxOf = (f: GameFixture, m: RegisteredModel, wallet: GameFixture['wallets'][number]): GameContext => ({
  game: f.gameAs(wallet), modelId: m.modelId, model: m.model, params: m.params, challengeBond: CHALLENGE_BOND, challengeWindow: WINDOW,
})

describe('claims post packed inputs; proveInputMismatch rejects a wrong input root (anvil)', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('a claim on a 784-input model (int8 lanes) costs at most 150k gas; an honest claim cannot be proven wrong', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, mlp([784, 16, 10], 3))
    expect(m.config).toMatchObject({ inputLaneBytes: 1, inputSigned: true })
    const r = rng(5)
    const input = [Array.from({ length: 784 }, () => r.big(-128, 127))]
    const [, claimant, prover] = f.wallets
    const honest = buildTrace(m.model, input)
    const { claimId, key, gasUsed } = await postClaim(f, m, claimant, honest)
    console.log(`claim gas, 784 int8 inputs (mlp-784-16-10): ${gasUsed}`)
    expect(gasUsed).toBeLessThanOrEqual(150_000n)
    const packed = packedInputOf(honest)
    expect(key.inputHash).toBe(inputHashOf(packed))
    await expect(proveInputMismatch(f.gameAs(prover), key, packed)).rejects.toMatchObject({ errorName: 'InputRootMatches', args: [honest.inputRoot] })
    await expect(proveInputMismatch(f.gameAs(prover), key, packInput(m.params.layout.inputLane, input[0].map((v) => -v - 1n)))).rejects.toMatchObject({
      errorName: 'InputHashMismatch',
    })
    expect(await claimStatus(f, claimId)).toBe('Pending')
    await expectConserved(f, CLAIM_BOND, [claimant, prover])

    const other = [input[0].map((v, i) => (i === 400 ? (v === 0n ? 1n : 0n) : v))]
    const wrong = await postMismatched(f, m, claimant, input, other)
    const proof = await proveInputMismatch(f.gameAs(prover), wrong.key, wrong.inputPacked)
    console.log(`proveInputMismatch gas, 784 int8 inputs: ${proof.gasUsed}`)
    expect(await claimStatus(f, wrong.claimId)).toBe('Rejected')
    expect(await f.gameAs(prover).credit(prover.address)).toBe(CLAIM_BOND)
    await expectConserved(f, CLAIM_BOND, [claimant, prover])
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    await expectConserved(f, 0n, [claimant, prover])
  })

  it('the contract unpacks every lane kind exactly as the TypeScript side (signed, unsigned, multi-byte, two inputs)', async () => {
    const f = await deployGame(anvil)
    const models = [domainModel(-128n, 127n), domainModel(0n, 255n), domainModel(0n, 65_535n), domainModel(-70_000n, 70_000n), domainModel(-(1n << 100n), 1n << 100n), randomModel(5, 4)]
    const [, claimant, prover] = f.wallets
    let locked = 0n
    for (const [i, model] of models.entries()) {
      const m = await registerTestModel(f, model)
      const lane = m.params.layout.inputLane
      const input = model.name.startsWith('random') ? randomInputs(model, rng(i)) : edgeInputs(model, i)
      const honest = buildTrace(model, input)
      const { key } = await postClaim(f, m, claimant, honest)
      // The contract's root of the unpacked lanes equals the TypeScript one: the proof is refused.
      await expect(proveInputMismatch(f.gameAs(prover), key, packedInputOf(honest)), `${model.name}, lane ${JSON.stringify(lane)}`).rejects.toMatchObject({
        errorName: 'InputRootMatches', args: [honest.inputRoot],
      })
      // One element differs between the posted input and the traced one: the proof is accepted.
      const used = input.map((s) => [...s])
      used[0][1] = used[0][1] === model.inputs[0].lo ? used[0][1] + 1n : used[0][1] - 1n
      const wrong = await postMismatched(f, m, claimant, input, used)
      await proveInputMismatch(f.gameAs(prover), wrong.key, wrong.inputPacked)
      expect(await claimStatus(f, wrong.claimId), model.name).toBe('Rejected')
      locked += CLAIM_BOND
    }
    expect(await f.gameAs(prover).credit(prover.address)).toBe(CLAIM_BOND * BigInt(models.length))
    await expectConserved(f, locked, [claimant, prover])
  })

  it('a proof rejects the claim during open disputes; those disputes are released with their bonds, even on a timeout', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const [, claimant, prover, c1, c2, anyone] = f.wallets
    const input = [[3n, -7n, 120n, -128n, 0n, 55n]]
    const used = [[3n, -7n, 121n, -128n, 0n, 55n]]
    const wrong = await postMismatched(f, m, claimant, input, used)
    const { disputeId: d1 } = await openDispute(f, wrong.key, c1)
    const { disputeId: d2 } = await openDispute(f, wrong.key, c2)
    // d2 is played to the challenger's turn, then its clock is left to run.
    await playDispute({ disputeId: d2, claimant: player(f, m, 'claimant', claimant, wrong.trace), challenger: { ...player(f, m, 'challenger', c2, wrong.trace), decide: () => null } })
    await expect(releaseDispute(f.gameAs(anyone), d1)).rejects.toMatchObject({ errorName: 'NoInputMismatch' })
    await expectConserved(f, CLAIM_BOND + 2n * CHALLENGE_BOND, [claimant, prover, c1, c2])

    await proveInputMismatch(f.gameAs(prover), wrong.key, wrong.inputPacked)
    expect(await readClaim(f.gameAs(prover), wrong.claimId)).toMatchObject({ status: 'Rejected', inputMismatch: true, openDisputes: 2 })
    expect(await f.gameAs(prover).credit(prover.address)).toBe(CLAIM_BOND)
    await expectConserved(f, 2n * CHALLENGE_BOND, [claimant, prover, c1, c2])
    await expect(proveInputMismatch(f.gameAs(anyone), wrong.key, wrong.inputPacked)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    await expect(openDispute(f, wrong.key, anyone)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })

    await releaseDispute(f.gameAs(anyone), d1)
    expect(await f.gameAs(c1).credit(c1.address)).toBe(CHALLENGE_BOND)
    await expect(releaseDispute(f.gameAs(anyone), d1)).rejects.toMatchObject({ errorName: 'DisputeNotLive' })
    // The claimant times out the stalled challenger, but the moot dispute still refunds it.
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(claimant), d2)
    expect((await readDispute(f.gameAs(c2), d2)).claimantWon).toBe(false)
    expect(await f.gameAs(c2).credit(c2.address)).toBe(CHALLENGE_BOND)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(0n)
    expect((await readClaim(f.gameAs(prover), wrong.claimId)).openDisputes).toBe(0)
    await advanceTime(f.provider, WINDOW)
    await expect(finalizeClaim(f.gameAs(claimant), wrong.key)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    await expectConserved(f, 0n, [claimant, prover, c1, c2])
  })

  it('the watcher proves a wrong input root by itself; a challenger already in a dispute gets its bond back by playing on', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const [, claimant, watcher, challenger] = f.wallets
    const input = [[9n, 8n, -7n, 6n, -5n, 4n]]
    const fromBlock = await f.provider.getBlockNumber()
    const wrong = await postMismatched(f, m, claimant, input, [[9n, 8n, -7n, 6n, -5n, 5n]])
    const { disputeId } = await openDispute(f, wrong.key, challenger)
    const [posted] = await claimsOf(f.gameAs(watcher), m.modelId, m.params.layout, fromBlock, await f.provider.getBlockNumber())
    expect(posted.inputs).toEqual(input)
    expect(posted.inputPacked).toBe(wrong.inputPacked)

    const events: WatchEvent[] = []
    const summary = await watchClaims({ ...ctxOf(f, m, watcher), fromBlock, pollMs: 10, maxPolls: 2, onEvent: (e) => events.push(e) })
    expect(summary).toMatchObject({ checked: 1, disputes: [] })
    expect(events).toEqual([
      { type: 'claim', claimId: wrong.claimId, verdict: 'input mismatch' },
      { type: 'input-mismatch-proved', claimId: wrong.claimId, gasUsed: expect.any(BigInt) },
    ])
    expect(await claimStatus(f, wrong.claimId)).toBe('Rejected')
    expect(await f.gameAs(watcher).credit(watcher.address)).toBe(CLAIM_BOND)
    await expectConserved(f, CHALLENGE_BOND, [claimant, watcher, challenger])
    // Checking it again finds nothing to do.
    const again: WatchEvent[] = []
    expect(await disputeIfWrong(ctxOf(f, m, watcher), posted, (e) => again.push(e))).toBeNull()
    expect(again).toEqual([{ type: 'claim', claimId: wrong.claimId, verdict: 'not pending' }])

    const trace = buildTrace(m.model, input)
    const moves: string[] = []
    const seat: Seat = { disputeId, role: 'challenger', decide: (view, id) => honestMove({ role: 'challenger', view, disputeId: id, trace, model: m.model, params: m.params }) }
    const view = await playSeat(f.gameAs(challenger), seat, { pollMs: 10, maxPolls: 5, onMove: (s) => moves.push(s.move) })
    expect(moves).toEqual(['release'])
    expect(view).toMatchObject({ phase: 'Resolved', claimantWon: false })
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(CHALLENGE_BOND)
    await expectConserved(f, 0n, [claimant, watcher, challenger])
  })

  it('the watcher checks claims on inputs outside the calibrated domain (its lane holds them) instead of failing', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, domainModel(0n, 100n))
    expect(m.params.layout.inputLane).toEqual({ bytes: 1, signed: false })
    const [, claimant, cheater, watcher] = f.wallets
    const input = [[200n, 0n, 255n, 7n, 100n]]
    expect(() => buildTrace(m.model, input)).toThrow(IrInputError)
    const honest = buildTrace(m.model, input, { anyInput: true })
    const fromBlock = await f.provider.getBlockNumber()
    const { key } = await postClaim(f, m, claimant, honest)
    const states = honest.states.map((s) => [...s])
    states[1][0] += 1n
    const lie = traceFromStates(honest.layout, states)
    const { claimId } = await postClaim(f, m, cheater, lie)
    const events: WatchEvent[] = []
    const seats: (Seat | null)[] = []
    for (const posted of await claimsOf(f.gameAs(watcher), m.modelId, m.params.layout, fromBlock, await f.provider.getBlockNumber())) {
      seats.push(await disputeIfWrong(ctxOf(f, m, watcher), posted, (e) => events.push(e)))
    }
    expect(events.filter((e) => e.type === 'claim').map((e) => e.type === 'claim' && e.verdict)).toEqual(['correct', 'wrong'])
    const { view } = await playDispute({ disputeId: seats[1]!.disputeId, claimant: player(f, m, 'claimant', cheater, lie), challenger: player(f, m, 'challenger', watcher, honest) })
    expect(view.claimantWon).toBe(false)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    await expectConserved(f, 0n, [claimant, cheater, watcher])
  })
})
