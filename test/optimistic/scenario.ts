import { hexlify, randomBytes, type Wallet } from 'ethers'
import { expect } from 'vitest'
import { challengeClaim, readClaim, submitClaim } from '../../src/optimistic/chain/client.js'
import { type ClaimKey, claimIdOf, claimKeyOf } from '../../src/optimistic/config.js'
import type { Hex } from '../../src/util/hex.js'
import { honestPlayer, type Player, playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace, type Trace, traceFromStates } from '../../src/optimistic/trace.js'
import { cheatingTrace } from '../../src/optimistic/cheat.js'
import type { Rng } from './models.js'
import { CHALLENGE_BOND, CLAIM_BOND, type GameFixture, type RegisteredModel } from './chain.js'

/** A claim on chain with its key. */
export async function postClaim(f: GameFixture, m: RegisteredModel, claimant: Wallet, trace: Trace) {
  const { claimId, key, gasUsed, hash } = await submitClaim(f.gameAs(claimant), m.modelId, trace, CLAIM_BOND)
  // The key the game computed is the one the TypeScript side derives.
  expect(key).toEqual(claimKeyOf(m.modelId, trace, claimant.address))
  expect(claimIdOf(key)).toBe(claimId)
  return { claimId, key: key as ClaimKey, gasUsed, hash }
}

export async function openDispute(f: GameFixture, key: ClaimKey, challenger: Wallet) {
  return challengeClaim(f.gameAs(challenger), key, CHALLENGE_BOND)
}

export function player(
  f: GameFixture,
  m: RegisteredModel,
  role: 'claimant' | 'challenger',
  wallet: Wallet,
  trace: Trace,
): Player {
  return honestPlayer({ role, game: f.gameAs(wallet), trace, model: m.model, params: m.params })
}

/**
 * A cheater's trace: the honest one with state `state`, element `element` shifted by `delta`.
 * `consistent`: later steps are recomputed from the lie (only one step is then wrong);
 * otherwise later states stay honest (every later step that reads it is wrong too).
 */
export function lyingTrace(
  m: RegisteredModel,
  inputs: bigint[][],
  state: number,
  element: number,
  delta: bigint,
  consistent: boolean,
): Trace {
  const honest = buildTrace(m.model, inputs)
  if (consistent) return cheatingTrace(m.model, honest, state, element, delta)
  const states = honest.states.map((s) => [...s])
  states[state][element] += delta
  return traceFromStates(honest.layout, states)
}

/**
 * A claimant lies at one element of `state` (later states recomputed from the lie, so only that
 * step is wrong) and an honest challenger disputes: the dispute must end at that step with the
 * claim rejected. Returns the moves played and their gas in all.
 */
export async function lieLosesAt(
  f: GameFixture,
  m: RegisteredModel,
  inputs: bigint[][],
  state: number,
  { element = 1, what = `state ${state}` }: { element?: number; what?: string } = {},
) {
  const [, claimant, challenger] = f.wallets
  const lie = lyingTrace(m, inputs, state, element, 1n, true)
  const { claimId, key } = await postClaim(f, m, claimant, lie)
  const { disputeId } = await openDispute(f, key, challenger)
  const { view, moves } = await playDispute({
    disputeId,
    claimant: player(f, m, 'claimant', claimant, lie),
    challenger: player(f, m, 'challenger', challenger, buildTrace(m.model, inputs)),
  })
  expect([view.phase, view.claimantWon, view.hi], what).toEqual(['Resolved', false, state])
  expect(await claimStatus(f, claimId), what).toBe('Rejected')
  return { moves, gas: moves.reduce((a, x) => a + x.gasUsed, 0n) }
}

/**
 * Bond conservation: the game holds exactly the credits owed, the bonds still locked and what
 * was burned (half the bond of each rejected claim).
 */
export async function expectConserved(f: GameFixture, lockedWei: bigint, accounts: Wallet[]) {
  const game = f.gameAs(f.wallets[0])
  let credits = 0n
  for (const a of accounts) credits += (await game.credit(a.address)) as bigint
  const burned = (await game.burned()) as bigint
  expect(await f.provider.getBalance(f.gameAddress)).toBe(credits + lockedWei + burned)
}

/** What an honest challenger is credited for a dispute that rejects a pending claim: its bond back and half the claim bond. */
export const REJECT_REWARD = CHALLENGE_BOND + CLAIM_BOND / 2n

export async function claimStatus(f: GameFixture, claimId: Hex) {
  return (await readClaim(f.gameAs(f.wallets[0]), claimId)).status
}

/** A player that answers at random where the protocol gives it a choice (levels 1, 2 and 3), and plays `base` elsewhere. */
export function randomChooser(base: Player, r: Rng): Player {
  return {
    ...base,
    decide: (view, id) => {
      if (view.phase === 'Choose') return { type: 'choose', agree: r.next() < 0.5 }
      if (view.phase === 'Pick') return { type: 'pick', right: r.next() < 0.5 }
      if (view.phase === 'FoldChoose') return { type: 'foldChoose', agree: r.next() < 0.5 }
      return base.decide(view, id)
    },
  }
}

/** A claimant that proposes random roots at level 1 and random partial sums at level 3, and otherwise plays its own trace. */
export function randomProposer(base: Player, r: Rng): Player {
  return {
    ...base,
    decide: (view, id) => {
      if (view.phase === 'Propose' && r.next() < 0.7) return { type: 'propose', root: hexlify(randomBytes(32)) }
      if (view.phase === 'FoldPropose' && r.next() < 0.7)
        return { type: 'foldPropose', acc: BigInt(r.int(-1000, 1000)) }
      return base.decide(view, id)
    },
  }
}
