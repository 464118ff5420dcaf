import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import type { IrModel } from '../../src/ir/types.js'
import { finalizeClaim, readDispute, submitClaim, timeoutDispute } from '../../src/optimistic/chain/client.js'
import { packedInputOf } from '../../src/optimistic/config.js'
import { InputEncodingError } from '../../src/optimistic/errors.js'
import { pack, packLayout } from '../../src/circuit/packing.js'
import {
  type InputLayout,
  inputHashOf,
  inputWordCount,
  packInputStates,
  unpackInputStates,
} from '../../src/optimistic/input.js'
import { playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace, inputRootOf } from '../../src/optimistic/trace.js'
import {
  advanceTime,
  CLAIM_BOND,
  deployGame,
  type GameFixture,
  MOVE_TIMEOUT,
  registerTestModel,
  type RegisteredModel,
  startChain,
  WINDOW,
} from './chain.js'
import { mlp, randomInputs, randomModel, rng, tinyModel } from './models.js'
import { claimStatus, expectConserved, lieLosesAt, openDispute, player, postClaim, REJECT_REWARD } from './scenario.js'

const wordsHex = (words: readonly bigint[]) => `0x${words.map((w) => w.toString(16).padStart(64, '0')).join('')}`

/** The circuit's input layout of a domain (publicLayouts), with its top. */
const inputLayout = (count: number, lo: bigint, hi: bigint): InputLayout => ({ ...packLayout(count, lo, hi), hi })

describe('packed claim inputs', () => {
  it("pack and unpack round-trip at the domain's edges; values outside [lo, hi] are refused", () => {
    for (const [lo, hi] of [
      [-128n, 127n],
      [0n, 255n],
      [0n, 64n],
      [-70_000n, 70_000n],
      [-(1n << 100n), 1n << 100n],
    ] as const) {
      const values = [lo, hi, lo + 1n, hi - 1n, (lo + hi) / 2n]
      const l = inputLayout(values.length, lo, hi)
      const shape = { inputCount: 1, stateSizes: [values.length], inputLayouts: [l] }
      const packed = packInputStates([l], [values])
      // The words are the circuit's packed signals.
      expect(packed).toBe(wordsHex(pack(values, l)))
      expect(unpackInputStates(shape, packed)).toEqual([values])
      expect(() => packInputStates([l], [[...values.slice(1), hi + 1n]])).toThrow(InputEncodingError)
      expect(() => packInputStates([l], [[lo - 1n, ...values.slice(1)]])).toThrow(InputEncodingError)
    }
  })

  it('input states are packed one after the other, each in whole words; padding bits and lanes above hi - lo are refused', () => {
    // 33 int8 values: 31 a word, two words; then 3 values in [0, 64] (7-bit lanes, 36 a word).
    const layouts = [inputLayout(33, -128n, 127n), inputLayout(3, 0n, 64n)]
    const layout = { inputCount: 2, stateSizes: [33, 3, 7], inputLayouts: layouts }
    const states = [Array.from({ length: 33 }, (_, i) => BigInt(i - 16)), [0n, 64n, 5n]]
    const packed = packInputStates(layouts, states)
    expect((packed.length - 2) / 2).toBe(96)
    // Word 2 holds 0 | 64 << 7 | 5 << 14.
    expect(BigInt(`0x${packed.slice(2 + 128, 2 + 192)}`)).toBe((64n << 7n) | (5n << 14n))
    expect(unpackInputStates(layout, packed)).toEqual(states)
    // A wrong length, a set padding bit or a lane above hi - lo is refused (the claim reverts on each).
    expect(() => unpackInputStates(layout, packed.slice(0, -64))).toThrow(
      /packed input is 64 bytes; the model's input states take 96/,
    )
    // Word 1 holds lanes 31, 32 (16 bits): bit 16 is padding.
    const word1 = BigInt(`0x${packed.slice(2 + 64, 2 + 128)}`)
    const withWord = (i: number, w: bigint) =>
      `${packed.slice(0, 2 + 64 * i)}${w.toString(16).padStart(64, '0')}${packed.slice(2 + 64 * (i + 1))}`
    expect(() => unpackInputStates(layout, withWord(1, word1 | (1n << 16n)))).toThrow(
      /input state 0: a padding bit of word 1 is set/,
    )
    // Lane 0 of state 1 set to 65 = hi - lo + 1: value 65, outside [0, 64].
    expect(() => unpackInputStates(layout, withWord(2, (64n << 7n) | (5n << 14n) | 65n))).toThrow(
      /input value 65 at index 33 is outside its domain \[0, 64\]/,
    )
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
  const inputPacked = packInputStates(m.params.layout.inputLayouts, posted)
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
    // The circuit's layout of int8 inputs: 8-bit lanes, 31 a word (26 words, not 25 of byte lanes).
    expect(m.config.inputLayouts).toEqual([{ laneBits: 8, lo: -128n, hi: 127n }])
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
      expect(key.inputRoot, `${model.name}, ${m.params.layout.inputLayouts[0].laneBits}-bit lanes`).toBe(
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
    const words0 = inputWordCount(m.params.layout.inputLayouts[0])
    const game = f.gameAs(f.wallets[1])
    await expect(
      submitClaim(game, m.modelId, trace, CLAIM_BOND, { inputPacked: packed.slice(0, -64) }),
    ).rejects.toMatchObject({
      errorName: 'InputSizeMismatch',
      args: [BigInt((packed.length - 2) / 2), BigInt((packed.length - 2) / 2 - 32)],
    })
    // The top byte of input state 1's first word (a word holds at most 252 bits of lanes).
    const at = 2 + 64 * words0
    await expect(
      submitClaim(game, m.modelId, trace, CLAIM_BOND, {
        inputPacked: `${packed.slice(0, at)}01${packed.slice(at + 2)}`,
      }),
    ).rejects.toMatchObject({
      errorName: 'InputPaddingNotZero',
      args: [1n, 0n],
    })
  })

  it('every word of a many-word state is padding-checked (one mask per state), the first bad one named', async () => {
    const f = await deployGame(anvil)
    // 200 int8 lanes: 6 words of 31 lanes (bits 248.. padding), then one of 14 (bits 112..).
    const m = await registerTestModel(f, mlp([200, 4, 2], 7))
    const trace = buildTrace(m.model, [Array.from({ length: 200 }, (_, i) => BigInt((i % 256) - 128))])
    const packed = packedInputOf(trace)
    expect((packed.length - 2) / 64).toBe(7)
    const game = f.gameAs(f.wallets[1])
    // Byte k of word e is hex digits 2 + 64e + 2k; byte 0 holds bits 248..255, byte 17 bit 112.
    const withByte = (e: number, k: number, v: string) =>
      `${packed.slice(0, 2 + 64 * e + 2 * k)}${v}${packed.slice(4 + 64 * e + 2 * k)}` as typeof packed
    const bad = [...[0, 3, 4, 5, 6].map((e) => ({ e, k: 0 })), { e: 6, k: 17 }, { e: 2, k: 0 }]
    for (const { e, k } of bad) {
      await expect(
        submitClaim(game, m.modelId, trace, CLAIM_BOND, { inputPacked: withByte(e, k, '01') }),
      ).rejects.toMatchObject({ errorName: 'InputPaddingNotZero', args: [0n, BigInt(e)] })
    }
    // Two bad words: the first is named.
    const two = withByte(5, 0, '80')
    await expect(
      submitClaim(game, m.modelId, trace, CLAIM_BOND, {
        inputPacked: `${two.slice(0, 2 + 64)}01${two.slice(4 + 64)}` as typeof packed,
      }),
    ).rejects.toMatchObject({ errorName: 'InputPaddingNotZero', args: [0n, 1n] })
    // Untouched, the same input is accepted and committed as the TypeScript side does.
    const { key } = await submitClaim(game, m.modelId, trace, CLAIM_BOND)
    expect(key.inputRoot).toBe(trace.inputRoot)
    // A model that was never registered has no layout: its claim is refused before anything is read.
    await expect(submitClaim(game, `0x${'ab'.repeat(32)}`, trace, CLAIM_BOND)).rejects.toMatchObject({
      errorName: 'ModelNotRegistered',
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

  it('a lie at a step reading input lanes loses: the one-step decodes lane index % L of word index / L, plus lo', async () => {
    const f = await deployGame(anvil)
    // 7-bit lanes from 0 (36 a word) and 18-bit lanes from -70,000 (14 a word): two words each,
    // the lie's row reads lanes of both words.
    for (const model of [domainModel(0n, 100n, 40), domainModel(-70_000n, 70_000n, 20)]) {
      const m = await registerTestModel(f, model)
      await lieLosesAt(f, m, edgeInputs(model, 4), 1, { element: 2, what: model.name })
    }
  })

  it('a claim on an input outside the declared domain reverts, though its lane holds the value', async () => {
    const f = await deployGame(anvil)
    const m = await registerTestModel(f, domainModel(0n, 100n))
    // [0, 100]: 7-bit lanes (0 ..= 127), 36 a word; the game accepts lanes 0 ..= 100 only.
    const l = m.params.layout.inputLayouts[0]
    expect([l.laneBits, l.lo, l.hi]).toEqual([7, 0n, 100n])
    const [, claimant] = f.wallets
    const honest = buildTrace(m.model, [[100n, 0n, 55n, 7n, 100n]])
    await postClaim(f, m, claimant, honest)
    // The circuit's packer takes 101 (its lane fits 7 bits); the game refuses it, by element.
    const outside = wordsHex(pack([100n, 0n, 55n, 101n, 100n], l))
    expect(() => unpackInputStates(m.params.layout, outside)).toThrow(InputEncodingError)
    await expect(
      submitClaim(f.gameAs(claimant), m.modelId, honest, CLAIM_BOND, { inputPacked: outside }),
    ).rejects.toMatchObject({ errorName: 'InputOutOfDomain', args: [0n, 3n, 101n, 100n] })
    await expectConserved(f, CLAIM_BOND, [claimant])
  })
})
