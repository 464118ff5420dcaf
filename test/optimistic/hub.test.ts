/**
 * Issue 17: the hub's one result record per statement, written by the optimistic game when a
 * claim finalises, and the conflict rules between paths (HUB-DESIGN.md "Conflicts"), each
 * adversarially, with bond conservation checked after each. A stand-in settler bound OnChain
 * plays the deterministic paths (an on-chain model, or a proof: both stand over a claim); the zk
 * path's own record is tested in test/chain/registry.test.ts.
 */
import { fileURLToPath } from 'node:url'
import { type Contract, ContractFactory, type InterfaceAbi, keccak256, solidityPacked, ZeroHash } from 'ethers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { MOVER } from '../../src/optimistic/agent.js'
import { compileSolidity } from '../../src/chain/solc.js'
import {
  challengeClaim,
  closeMoot,
  finalizeClaim,
  hubContract,
  playMove,
  readDispute,
  send,
  settleByProof,
  timeoutDispute,
} from '../../src/optimistic/chain/client.js'
import { type ClaimKey, claimKeyOf, disputeIdOf } from '../../src/optimistic/config.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import type { Hex } from '../../src/util/hex.js'
import {
  advanceTime,
  CHALLENGE_BOND,
  CLAIM_BOND,
  deployGame,
  type GameFixture,
  MOVE_TIMEOUT,
  type RegisteredModel,
  registerTestModel,
  startChain,
  WINDOW,
} from './chain.js'
import { tinyModel } from './models.js'
import { claimStatus, expectConserved, lyingTrace, player, postClaim, REJECT_REWARD } from './scenario.js'
import { playDispute } from '../../src/optimistic/chain/play.js'

const INPUT = [[3n, -7n, 120n, -128n, 0n, 55n]]
const OTHER_INPUT = [[1n, 2n, 3n, 4n, 5n, 6n]]
const NONE = 0n
const OPTIMISTIC = 2n
const ONCHAIN = 3

const statementOf = (key: ClaimKey) => keccak256(solidityPacked(['bytes32', 'bytes32'], [key.modelId, key.inputHash]))
/** The record keeps the top 208 bits of the outputs hash. */
const top208 = (h: string) => `${h.slice(0, 54)}${'0'.repeat(12)}`

/** A settler bound to the model as an on-chain path (deterministic: it stands, as a proof does). */
async function deploySettler(f: GameFixture, hub: Contract, modelId: Hex): Promise<Contract> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const c = compileSolidity({ baseDir: root, files: ['test/optimistic/HubSettler.sol'] }).contracts.HubSettler
  const settler = (await (
    await new ContractFactory(c.abi as InterfaceAbi, c.bytecode, f.wallets[0]).deploy()
  ).waitForDeployment()) as Contract
  await send('bindSettler', () => hub.bindSettler(modelId, settler.target, ONCHAIN))
  return settler
}

let anvil: AnvilInstance
beforeAll(async () => {
  anvil = await startChain()
})
afterAll(async () => anvil?.stop())

/** A fresh game and hub per test, the tiny model registered in both. */
async function freshHub(): Promise<{ f: GameFixture; m: RegisteredModel; hub: Contract }> {
  const f = await deployGame(anvil)
  const m = await registerTestModel(f, tinyModel())
  return { f, m, hub: hubContract(f.hubAddress, f.wallets[0]) }
}

describe('hub: one result record per statement, conflicts between paths (anvil)', () => {
  let f: GameFixture
  let m: RegisteredModel
  let hub: Contract
  beforeEach(async () => {
    ;({ f, m, hub } = await freshHub())
  })

  const onchainSettler = () => deploySettler(f, hub, m.modelId)

  it('a finalised claim is the statement result; a later claim with other outputs is superseded (bond back, record kept), one with the same outputs finalises', async () => {
    const [, claimant, late, again] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const { key } = await postClaim(f, m, claimant, trace)
    expect([...(await hub.resultOf(m.modelId, key.inputHash))]).toEqual([NONE, 0n, `0x${'0'.repeat(64)}`])
    await advanceTime(f.provider, WINDOW + 1n)
    const { gasUsed } = await finalizeClaim(f.gameAs(late), key)
    const block = await f.provider.getBlock('latest')
    const record = [OPTIMISTIC, BigInt(block!.timestamp), top208(key.outputsHash)]
    expect([...(await hub.resultOf(m.modelId, key.inputHash))]).toEqual(record)
    expect(await hub.outputsMatch(statementOf(key), key.outputsHash)).toBe(true)
    // Nobody challenges a later lie: it settles at its window, but the first record stands.
    const lie = lyingTrace(m, INPUT, m.model.inputs.length + m.model.steps.length - 1, 0, 1n, true)
    const lateClaim = await postClaim(f, m, late, lie)
    const same = await postClaim(f, m, again, trace)
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(late), lateClaim.key)
    await finalizeClaim(f.gameAs(late), same.key)
    expect(await claimStatus(f, lateClaim.claimId)).toBe('Superseded')
    expect(await claimStatus(f, same.claimId)).toBe('Finalized')
    expect([...(await hub.resultOf(m.modelId, key.inputHash))]).toEqual(record)
    expect(await hub.outputsMatch(statementOf(key), lateClaim.key.outputsHash)).toBe(false)
    for (const w of [claimant, late, again]) expect(await f.gameAs(w).credit(w.address)).toBe(CLAIM_BOND)
    await expectConserved(f, 0n, [claimant, late, again])
    // A consumer's read: one cold slot (estimateGas includes the 21k of a transaction).
    const readGas = (await hub.resultOf.estimateGas(m.modelId, key.inputHash)) as bigint
    expect(readGas).toBeLessThan(30_000n)
    console.log(`finalize + record gas: ${gasUsed}; resultOf (as a transaction): ${readGas}`)
  })

  it('claims race for a statement: a front-running liar is challenged and loses its bond; the honest claim settles as the result', async () => {
    const [, liar, honest, challenger] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const lie = lyingTrace(m, INPUT, m.model.inputs.length + m.model.steps.length - 1, 0, 1n, true)
    const posted = await postClaim(f, m, liar, lie)
    const { key } = await postClaim(f, m, honest, trace)
    await expectConserved(f, 2n * CLAIM_BOND, [liar, honest, challenger])
    const { disputeId } = await challengeClaim(f.gameAs(challenger), posted.key, CHALLENGE_BOND)
    await playDispute({
      disputeId,
      claimant: player(f, m, 'claimant', liar, lie),
      challenger: player(f, m, 'challenger', challenger, trace),
    })
    expect(await claimStatus(f, posted.claimId)).toBe('Rejected')
    expect(await f.gameAs(challenger).credit(challenger.address)).toBe(REJECT_REWARD)
    await advanceTime(f.provider, WINDOW + 1n)
    // The rejected lie can never settle; the honest claim does, as the statement's result.
    await expect(finalizeClaim(f.gameAs(honest), posted.key)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    await finalizeClaim(f.gameAs(honest), key)
    expect(await hub.outputsMatch(statementOf(key), key.outputsHash)).toBe(true)
    expect(await hub.outputsMatch(statementOf(key), posted.key.outputsHash)).toBe(false)
    await expectConserved(f, 0n, [liar, honest, challenger])
  })

  it('a statement settled by a deterministic path: a disagreeing claim nobody settled by proof is rejected at its window, its bond burned', async () => {
    const [, claimant, late] = f.wallets
    const settler = await onchainSettler()
    const trace = buildTrace(m.model, INPUT)
    const { claimId, key } = await postClaim(f, m, claimant, trace)
    // Settled on chain while the claim is pending, with other outputs: the claim is shown false
    // (here a stand-in settler records 0x01; a real on-chain run or proof cannot disagree with an honest trace).
    const wrong = keccak256('0x01')
    await send('record', () => settler.record(f.hubAddress, m.modelId, key.inputHash, wrong))
    await advanceTime(f.provider, WINDOW + 1n)
    const burnedBefore = (await f.gameAs(late).burned()) as bigint
    // finalize never reverts for the hub: the bond is never locked by a settled statement.
    await finalizeClaim(f.gameAs(late), key)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect(((await f.gameAs(late).burned()) as bigint) - burnedBefore).toBe(CLAIM_BOND)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(0n)
    expect([...(await hub.resultOf(m.modelId, key.inputHash))][0]).toBe(3n)
    expect(await hub.outputsMatch(statementOf(key), wrong)).toBe(true)
    await expectConserved(f, 0n, [claimant, late])
  })

  it('the hub refuses records from unbound accounts, never lets a claim overwrite, and refuses a deterministic path contradicting another', async () => {
    const [, claimant] = f.wallets
    const settler = await onchainSettler()
    const id = m.modelId as Hex
    const input = keccak256('0xaa')
    await expect(send('record', () => hub.record(id, input, keccak256('0x01')))).rejects.toMatchObject({
      errorName: 'NotSettler',
    })
    // Settlers are bound by the owner only, once, and never as proofs.
    const asStranger = hubContract(f.hubAddress, claimant)
    await expect(send('bindSettler', () => asStranger.bindSettler(id, settler.target, ONCHAIN))).rejects.toMatchObject({
      errorName: 'NotOwner',
    })
    await expect(send('bindSettler', () => hub.bindSettler(id, settler.target, ONCHAIN))).rejects.toMatchObject({
      errorName: 'InvalidSettler',
    })
    await expect(send('bindSettler', () => hub.bindSettler(id, f.gameAddress, 1))).rejects.toMatchObject({
      errorName: 'InvalidSettler',
    })
    await send('record', () => settler.record(f.hubAddress, id, input, keccak256('0x01')))
    // The same result again is dropped; another one is a conflict between deterministic paths.
    expect([...(await settler.record.staticCall(f.hubAddress, id, input, keccak256('0x01')))]).toEqual([3n, true])
    await expect(
      send('record', () => settler.record(f.hubAddress, id, input, keccak256('0x02'))),
    ).rejects.toMatchObject({ errorName: 'ConflictingProof' })
    expect(
      await hub.outputsMatch(keccak256(solidityPacked(['bytes32', 'bytes32'], [id, input])), keccak256('0x01')),
    ).toBe(true)
    await expectConserved(f, 0n, [claimant])
  })
})

describe('hybrid settlement: a deterministic result settles a pending claim at once (anvil)', () => {
  let f: GameFixture
  let m: RegisteredModel
  let settler: Contract
  beforeEach(async () => {
    let hub: Contract
    ;({ f, m, hub } = await freshHub())
    settler = await deploySettler(f, hub, m.modelId)
  })

  /** The statement proven (recorded as a deterministic result) with `outputsHash`. */
  const prove = (key: ClaimKey, outputsHash: string) =>
    send('record', () => settler.record(f.hubAddress, key.modelId, key.inputHash, outputsHash))

  it('an agreeing result finalises the claim before its window; its bond returns; live disputes close for the claimant', async () => {
    const [, claimant, c1, c2] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const { claimId, key } = await postClaim(f, m, claimant, trace)
    await challengeClaim(f.gameAs(c1), key, CHALLENGE_BOND)
    const second = await challengeClaim(f.gameAs(c2), key, CHALLENGE_BOND)
    const first = disputeIdOf(claimId, c1.address)
    // No deterministic result yet: nothing to settle by.
    await expect(settleByProof(f.gameAs(c2), key)).rejects.toMatchObject({ errorName: 'NoDeterministicResult' })
    await prove(key, key.outputsHash)
    const { gasUsed } = await settleByProof(f.gameAs(c2), key)
    console.log(`settleByProof (agrees) gas: ${gasUsed}`)
    expect(await claimStatus(f, claimId)).toBe('Finalized')
    await expect(settleByProof(f.gameAs(c2), key)).rejects.toMatchObject({ errorName: 'ClaimNotPending' })
    // The disputes can no longer move; they close for the claimant, whoever sends it.
    await expect(playMove(f.gameAs(claimant), first, { type: 'propose', root: ZeroHash as Hex })).rejects.toMatchObject(
      {
        errorName: 'ClaimSettled',
      },
    )
    await closeMoot(f.gameAs(c1), first)
    await closeMoot(f.gameAs(c1), second.disputeId)
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND + 2n * CHALLENGE_BOND)
    expect(await f.gameAs(c1).credit(c1.address)).toBe(0n)
    await expectConserved(f, 0n, [claimant, c1, c2])
  })

  it('a disagreeing result rejects the claim: the named live challenger gets half the bond, every challenger its bond back, the rest burned', async () => {
    const [, liar, c1, c2, sender] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const lie = lyingTrace(m, INPUT, m.model.inputs.length + m.model.steps.length - 1, 0, 1n, true)
    const { claimId, key } = await postClaim(f, m, liar, lie)
    const d1 = await challengeClaim(f.gameAs(c1), key, CHALLENGE_BOND)
    const d2 = await challengeClaim(f.gameAs(c2), key, CHALLENGE_BOND)
    // Another claim's live dispute cannot be named.
    const other = await postClaim(f, m, liar, buildTrace(m.model, OTHER_INPUT))
    const foreign = await challengeClaim(f.gameAs(c1), other.key, CHALLENGE_BOND)
    await prove(key, claimKeyOf(m.modelId, trace, liar.address).outputsHash)
    const burnedBefore = (await f.gameAs(sender).burned()) as bigint
    // A claim with live disputes pays one of them: naming none (or a foreign one) is refused.
    for (const named of [ZeroHash, foreign.disputeId])
      await expect(settleByProof(f.gameAs(sender), key, named)).rejects.toMatchObject({
        errorName: 'RewardDisputeNotLive',
      })
    const { gasUsed } = await settleByProof(f.gameAs(sender), key, d2.disputeId)
    console.log(`settleByProof (disagrees) gas: ${gasUsed}`)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    await expect(closeMoot(f.gameAs(sender), d2.disputeId)).rejects.toMatchObject({ errorName: 'DisputeNotLive' })
    await closeMoot(f.gameAs(sender), d1.disputeId)
    expect(await f.gameAs(c2).credit(c2.address)).toBe(REJECT_REWARD)
    expect(await f.gameAs(c1).credit(c1.address)).toBe(CHALLENGE_BOND)
    expect(await f.gameAs(sender).credit(sender.address)).toBe(0n)
    expect(await f.gameAs(liar).credit(liar.address)).toBe(0n)
    expect(((await f.gameAs(sender).burned()) as bigint) - burnedBefore).toBe(CLAIM_BOND - CLAIM_BOND / 2n)
    await expectConserved(f, CLAIM_BOND + CHALLENGE_BOND, [liar, c1, c2, sender])
  })

  it('a liar that challenged itself and names its own dispute recovers at most half its claim bond', async () => {
    const [, liar, sybil, honest] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const lie = lyingTrace(m, INPUT, m.model.inputs.length + m.model.steps.length - 1, 0, 1n, true)
    const { key } = await postClaim(f, m, liar, lie)
    const own = await challengeClaim(f.gameAs(sybil), key, CHALLENGE_BOND)
    const real = await challengeClaim(f.gameAs(honest), key, CHALLENGE_BOND)
    await prove(key, claimKeyOf(m.modelId, trace, liar.address).outputsHash)
    await settleByProof(f.gameAs(liar), key, own.disputeId)
    await closeMoot(f.gameAs(liar), real.disputeId)
    const back =
      ((await f.gameAs(liar).credit(sybil.address)) as bigint) + ((await f.gameAs(liar).credit(liar.address)) as bigint)
    // Paid in: claim bond + the sybil's challenge bond. Back: challenge bond + half the claim bond.
    expect(CLAIM_BOND + CHALLENGE_BOND - back).toBe(CLAIM_BOND - CLAIM_BOND / 2n)
    expect(await f.gameAs(honest).credit(honest.address)).toBe(CHALLENGE_BOND)
    await expectConserved(f, 0n, [liar, sybil, honest])
  })

  it('a disagreeing result with no live challenger burns the whole bond, never pays the sender; an honest claim then settles by the same proof', async () => {
    const [, liar, c1, sender] = f.wallets
    const trace = buildTrace(m.model, INPUT)
    const lie = lyingTrace(m, INPUT, m.model.inputs.length + m.model.steps.length - 1, 0, 1n, true)
    const { claimId, key } = await postClaim(f, m, liar, lie)
    // The only challenger played its dispute badly and lost it: it is no longer live.
    const d1 = await challengeClaim(f.gameAs(c1), key, CHALLENGE_BOND)
    const liarPlayer = player(f, m, 'claimant', liar, lie)
    for (let v = await readDispute(f.gameAs(liar), d1.disputeId); MOVER[v.phase] === 'claimant'; ) {
      await playMove(f.gameAs(liar), d1.disputeId, (await liarPlayer.decide(v, d1.disputeId))!)
      v = await readDispute(f.gameAs(liar), d1.disputeId)
    }
    await advanceTime(f.provider, MOVE_TIMEOUT + 1n)
    await timeoutDispute(f.gameAs(sender), d1.disputeId)
    expect((await readDispute(f.gameAs(sender), d1.disputeId)).claimantWon).toBe(true)
    await prove(key, claimKeyOf(m.modelId, trace, liar.address).outputsHash)
    const burnedBefore = (await f.gameAs(sender).burned()) as bigint
    await settleByProof(f.gameAs(sender), key)
    expect(await claimStatus(f, claimId)).toBe('Rejected')
    expect(((await f.gameAs(sender).burned()) as bigint) - burnedBefore).toBe(CLAIM_BOND)
    expect(await f.gameAs(sender).credit(sender.address)).toBe(0n)
    // The liar keeps the challenge bond it won; it loses its whole claim bond.
    expect(await f.gameAs(liar).credit(liar.address)).toBe(CHALLENGE_BOND)
    // The statement is proven: an honest claim of it settles at once by the same proof.
    const honest = await postClaim(f, m, sender, trace)
    await settleByProof(f.gameAs(c1), honest.key)
    expect(await claimStatus(f, honest.claimId)).toBe('Finalized')
    await expectConserved(f, 0n, [liar, c1, sender])
  })

  it('an agreeing result with no dispute finalises the claim at once, whoever sends it', async () => {
    const [, claimant, other] = f.wallets
    const { claimId, key } = await postClaim(f, m, claimant, buildTrace(m.model, INPUT))
    await prove(key, key.outputsHash)
    await settleByProof(f.gameAs(other), key)
    expect(await claimStatus(f, claimId)).toBe('Finalized')
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND)
    expect(await f.gameAs(other).credit(other.address)).toBe(0n)
    await expectConserved(f, 0n, [claimant, other])
  })
})
