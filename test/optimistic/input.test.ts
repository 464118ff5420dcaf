import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { IrInputError } from '../../src/ir/errors.js'
import type { IrModel } from '../../src/ir/types.js'
import {
  finalizeClaim,
  readClaim,
  readDispute,
  submitClaim,
  timeoutDispute,
} from '../../src/optimistic/chain/client.js'
import { packedInputOf } from '../../src/optimistic/config.js'
import { InputEncodingError } from '../../src/optimistic/errors.js'
import {
  inputHashOf,
  inputLaneFor,
  packInput,
  packInputStates,
  unpackInput,
  unpackInputStates,
  WORD_LANE,
} from '../../src/optimistic/input.js'
import { playDispute } from '../../src/optimistic/chain/play.js'
import { claimsOf, type Seat } from '../../src/optimistic/chain/remote.js'
import { buildTrace, inputRootOf, traceFromStates } from '../../src/optimistic/trace.js'
import { disputeIfWrong, type WatchEvent } from '../../src/optimistic/chain/watch.js'
import {
  advanceTime,
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
import { mlp, randomInputs, randomModel, rng, tinyModel } from './models.js'
import { claimStatus, expectConserved, openDispute, player, postClaim, REJECT_REWARD } from './scenario.js'

describe('packed claim inputs', () => {
  it('the lane is the narrowest holding every input domain, unsigned when nothing is negative', () => {
    const lane = (lo: bigint, hi: bigint) => inputLaneFor([{ lo, hi }])
    expect(lane(-128n, 127n)).toEqual({ bytes: 1, signed: true })
    expect(lane(0n, 255n)).toEqual({ bytes: 1, signed: false })
    expect(lane(-1n, 128n)).toEqual({ bytes: 2, signed: true })
    // Powers of two only, so a lane never straddles a 32-byte word.
    expect(lane(0n, 65_536n)).toEqual({ bytes: 4, signed: false })
    expect(lane(-(1n << 40n), 0n)).toEqual({ bytes: 8, signed: true })
    expect(
      inputLaneFor([
        { lo: 0n, hi: 10n },
        { lo: -50n, hi: 50n },
      ]),
    ).toEqual({ bytes: 1, signed: true })
    // An unsigned lane stops at 16 bytes; beyond, the signed word.
    expect(lane(0n, (1n << 128n) - 1n)).toEqual({ bytes: 16, signed: false })
    expect(lane(0n, 1n << 128n)).toEqual(WORD_LANE)
  })

  it('pack and unpack round-trip at the edges of every lane; out-of-lane values are refused', () => {
    for (const lane of [
      { bytes: 1, signed: true },
      { bytes: 1, signed: false },
      { bytes: 4, signed: true },
      { bytes: 16, signed: false },
      WORD_LANE,
    ]) {
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

  it('input states are packed one after the other, each zero-padded to whole words', () => {
    const layout = { inputCount: 2, stateSizes: [33, 3, 7], inputLane: { bytes: 1, signed: true } }
    const states = [Array.from({ length: 33 }, (_, i) => BigInt(i - 16)), [-1n, 127n, -128n]]
    const packed = packInputStates(layout.inputLane, states)
    expect((packed.length - 2) / 2).toBe(64 + 32)
    expect(packed.slice(2 + 2 * 64, 2 + 2 * 67)).toBe('ff7f80')
    expect(packed.slice(2 + 2 * 33, 2 + 2 * 64)).toBe('00'.repeat(31))
    expect(unpackInputStates(layout, packed)).toEqual(states)
    // A wrong length, or a nonzero padding byte, is refused (the claim reverts on both).
    expect(() => unpackInputStates(layout, packed.slice(0, -2))).toThrow(
      /packed input is 95 bytes; the model's input states take 96/,
    )
    const dirty = `${packed.slice(0, 2 + 2 * 40)}01${packed.slice(2 + 2 * 41)}`
    expect(() => unpackInputStates(layout, dirty)).toThrow(/input state 0: padding byte 40 of its words is not zero/)
    // 16-byte lanes: two values per word.
    const wide = { inputCount: 1, stateSizes: [3, 1], inputLane: { bytes: 16, signed: false } }
    const w = packInputStates(wide.inputLane, [[1n, (1n << 128n) - 1n, 2n]])
    expect(w).toBe(`0x${'00'.repeat(15)}01${'ff'.repeat(16)}${'00'.repeat(15)}02${'00'.repeat(16)}`)
    expect(unpackInputStates(wide, w)).toEqual([[1n, (1n << 128n) - 1n, 2n]])
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
  return model.inputs.map((i) =>
    Array.from({ length: i.shape[0] }, (_, k) =>
      k === 0 ? i.lo : k === 1 ? i.hi : i.lo + ((i.hi - i.lo) * BigInt(r.int(0, 1000))) / 1000n,
    ),
  )
}

/** A claim on input `posted` whose trace is built from input `used`. */
async function postMismatched(
  f: GameFixture,
  m: RegisteredModel,
  claimant: GameFixture['wallets'][number],
  posted: bigint[][],
  used: bigint[][],
) {
  const trace = buildTrace(m.model, used)
  const inputPacked = packInputStates(m.params.layout.inputLane, posted)
  const { claimId, key, gasUsed } = await submitClaim(f.gameAs(claimant), m.modelId, trace, CLAIM_BOND, { inputPacked })
  return { claimId, key, gasUsed, trace, inputPacked }
}

describe('claims post packed inputs; the game computes their input root (anvil)', () => {
  let anvil: AnvilInstance
  beforeAll(async () => {
    anvil = await startChain()
  })
  afterAll(async () => anvil?.stop())

  it('a claim on a 784-input model (int8 lanes) costs at most 150k gas; its input root is computed on chain', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, mlp([784, 16, 10], 3))
    expect(m.config).toMatchObject({ inputLaneBytes: 1, inputSigned: true })
    const r = rng(5)
    const input = [Array.from({ length: 784 }, () => r.big(-128, 127))]
    const [, claimant] = f.wallets
    const honest = buildTrace(m.model, input)
    const { key, gasUsed } = await postClaim(f, m, claimant, honest)
    console.log(`claim gas, 784 int8 inputs (mlp-784-16-10), input root computed on chain: ${gasUsed}`)
    expect(gasUsed).toBeLessThanOrEqual(150_000n)
    expect(key.inputRoot).toBe(honest.inputRoot)
    expect(key.inputHash).toBe(inputHashOf(packedInputOf(honest)))
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    await expectConserved(f, 0n, [claimant])
  })

  it('the contract commits every lane kind exactly as the TypeScript side (signed, unsigned, wide, several input states)', async () => {
    const f = await deployGame(anvil)
    const models = [
      domainModel(-128n, 127n, 40),
      domainModel(0n, 255n),
      domainModel(0n, 65_535n, 17),
      domainModel(-70_000n, 70_000n, 9),
      domainModel(-(1n << 100n), 1n << 100n, 3),
      domainModel(0n, 1n << 130n, 3),
      randomModel(5, 4),
    ]
    const [, claimant] = f.wallets
    for (const [i, model] of models.entries()) {
      const m = await registerTestModel(f, model)
      const input = model.name.startsWith('random') ? randomInputs(model, rng(i)) : edgeInputs(model, i)
      const honest = buildTrace(model, input)
      const { key } = await postClaim(f, m, claimant, honest)
      expect(key.inputRoot, `${model.name}, lane ${JSON.stringify(m.params.layout.inputLane)}`).toBe(
        inputRootOf(m.params.layout, packedInputOf(honest)),
      )
    }
    await expectConserved(f, CLAIM_BOND * BigInt(models.length), [claimant])
  })

  it('a packed input of the wrong length, or with a nonzero padding byte, is refused', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, randomModel(5, 4))
    const trace = buildTrace(m.model, randomInputs(m.model, rng(3)))
    const packed = packedInputOf(trace)
    const sizes = m.params.layout.stateSizes
    expect(sizes[0] % 32).not.toBe(0)
    const game = f.gameAs(f.wallets[1])
    await expect(
      submitClaim(game, m.modelId, trace, CLAIM_BOND, { inputPacked: packed.slice(0, -64) }),
    ).rejects.toMatchObject({
      errorName: 'InputSizeMismatch',
      args: [BigInt((packed.length - 2) / 2), BigInt((packed.length - 2) / 2 - 32)],
    })
    // The last padding byte of input state 1 set to 1.
    const end = 2 + 2 * 64
    await expect(
      submitClaim(game, m.modelId, trace, CLAIM_BOND, {
        inputPacked: `${packed.slice(0, end - 2)}01${packed.slice(end)}`,
      }),
    ).rejects.toMatchObject({
      errorName: 'InputPaddingNotZero',
      args: [1n],
    })
  })

  it('a claim whose trace is built on another input than it posts cannot defend its trace: it loses its dispute', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, tinyModel())
    const [, claimant, challenger] = f.wallets
    const posted = [[3n, -7n, 120n, -128n, 0n, 55n]]
    const wrong = await postMismatched(f, m, claimant, posted, [[3n, -7n, 121n, -128n, 0n, 55n]])
    // The key carries the posted input's root, computed on chain: not the trace's.
    expect(wrong.key.inputRoot).toBe(buildTrace(m.model, posted).inputRoot)
    expect(wrong.key.inputRoot).not.toBe(wrong.trace.inputRoot)
    const honest = buildTrace(m.model, posted)
    const { disputeId } = await openDispute(f, wrong.key, challenger)
    // Every prefix of the claimant's trace differs from the challenger's, so level 1 ends at the
    // first step, where the claimant must reveal a state extending the posted input: it cannot.
    await expect(
      playDispute({
        disputeId,
        claimant: player(f, m, 'claimant', claimant, wrong.trace),
        challenger: player(f, m, 'challenger', challenger, honest),
      }),
    ).rejects.toMatchObject({
      errorName: 'RevealMismatch',
    })
    expect(await readDispute(f.gameAs(challenger), disputeId)).toMatchObject({ phase: 'Reveal', lo: 0, hi: 1 })
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(challenger), disputeId)
    const view = await readDispute(f.gameAs(challenger), disputeId)
    expect(view.claimantWon).toBe(false)
    expect(await claimStatus(f, wrong.claimId)).toBe('Rejected')
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(REJECT_REWARD)
    await expectConserved(f, 0n, [claimant, challenger])
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
    const posted = await claimsOf(
      f.gameAs(watcher),
      m.modelId,
      m.params.layout,
      fromBlock,
      await f.provider.getBlockNumber(),
    )
    expect(posted.map((p) => p.inputs)).toEqual([input, input])
    for (const p of posted) seats.push(await disputeIfWrong(ctxOf(f, m, watcher), p, (e) => events.push(e)))
    expect(events.filter((e) => e.type === 'claim').map((e) => e.type === 'claim' && e.verdict)).toEqual([
      'correct',
      'wrong',
    ])
    const { view } = await playDispute({
      disputeId: seats[1]!.disputeId,
      claimant: player(f, m, 'claimant', cheater, lie),
      challenger: player(f, m, 'challenger', watcher, honest),
    })
    expect(view.claimantWon).toBe(false)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect((await readClaim(f.gameAs(watcher), claimId)).openDisputes).toBe(0)
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(claimant), key)
    await expectConserved(f, 0n, [claimant, cheater, watcher])
  })
})
