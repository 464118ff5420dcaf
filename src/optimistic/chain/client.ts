import { revertData } from '../../util/revert-data.js'
import {
  Contract,
  type ContractRunner,
  type ContractTransactionResponse,
  type InterfaceAbi,
  ZeroAddress,
  ZeroHash,
} from 'ethers'
import { SETTLEMENT_CODE } from '../../chain/contracts.js'
import { CLAIM_STATUSES, PHASES } from '../abi.js'
import { outputsHashOf } from '../output.js'
import { type ClaimKey, claimKeyOf, type GameModelConfig, packedInputOf, packedOutputsOf } from '../config.js'
import { optimisticArtifacts } from './contracts.js'
import type { ClaimView, DisputeView, Move } from '../dispute.js'
import { GameRevertError } from './errors.js'
import type { Hex } from '../../util/hex.js'
import { merkleProof } from '../merkle.js'
import { prefixTree, type Trace } from '../trace.js'

export function gameContract(address: string, runner: ContractRunner): Contract {
  return new Contract(address, optimisticArtifacts().game.abi as InterfaceAbi, runner)
}

/** A revert becomes a GameRevertError naming the custom error (game's or executor's). */
export function decodeRevert(action: string, error: unknown): GameRevertError {
  const data = revertData(error)
  const parsed = data ? optimisticArtifacts().errors.parseError(data) : null
  if (parsed) return new GameRevertError({ action, errorName: parsed.name, args: [...parsed.args], cause: error })
  return new GameRevertError({
    action,
    errorName: data ? `unknown(${data.slice(0, 10)})` : 'unknown',
    args: [],
    cause: error,
  })
}

/** Sends a transaction and waits for its receipt; reverts are decoded. */
export async function send(
  action: string,
  tx: () => Promise<ContractTransactionResponse>,
): Promise<{ gasUsed: bigint; hash: string }> {
  try {
    const receipt = await (await tx()).wait()
    return { gasUsed: receipt!.gasUsed, hash: receipt!.hash }
  } catch (error) {
    throw decodeRevert(action, error)
  }
}

/** A read-only call (e.g. a staticCall for a return value); reverts are decoded. */
export async function call<T>(action: string, fn: () => Promise<unknown>): Promise<T> {
  try {
    return (await fn()) as T
  } catch (error) {
    throw decodeRevert(action, error)
  }
}

/** The hub (VerimlRegistry) a game follows, connected to `runner`. */
export function hubContract(address: string, runner: ContractRunner | null): Contract {
  return new Contract(address, optimisticArtifacts().hub.abi as InterfaceAbi, runner)
}

/**
 * Registers `config` under the hub's model id (the IR hash); the runner must be the hub's owner.
 * First binds the game to the model in the hub (unless a game already is), so that its
 * finalised claims can be recorded there: the game refuses a model the hub does not bind it to.
 * gasUsed: both transactions.
 */
export async function registerModel(game: Contract, modelId: Hex, config: GameModelConfig) {
  const hub = hubContract(await call<string>('hub', () => game.hub()), game.runner)
  let bindGas = 0n
  if ((await call<string>('gameOf', () => hub.gameOf(modelId))) === ZeroAddress)
    bindGas = (await send('bindSettler', () => hub.bindSettler(modelId, game.target, SETTLEMENT_CODE.optimistic)))
      .gasUsed
  const sent = await send('registerModel', () => game.registerModel(modelId, config))
  return { modelId, hash: sent.hash, gasUsed: sent.gasUsed + bindGas }
}

export interface SubmitClaimOptions {
  /**
   * The input to post, packed (`packInputStates`); by default the trace's own input states.
   * The claim computes its input root from it, so a trace built on another input loses its
   * disputes at the first step (its prefix cannot extend the posted input's).
   */
  inputPacked?: Hex
  /** The outputs to post, packed (`packOutputs`); by default the trace's own outputs. */
  outputsPacked?: Hex
}

/** Posts a claim on `trace`: its packed input (emitted for watchers), its trace root, its packed outputs proven in it. */
export async function submitClaim(
  game: Contract,
  modelId: Hex,
  trace: Trace,
  bond: bigint,
  options: SubmitClaimOptions = {},
) {
  const full = prefixTree(trace, trace.layout.stateCount - 1)
  // Siblings of each output state in the full trace tree.
  const paths = trace.layout.outputStates.map((s) => merkleProof(full, s))
  const inputPacked = options.inputPacked ?? packedInputOf(trace)
  const outputsPacked = options.outputsPacked ?? packedOutputsOf(trace)
  const args = [modelId, inputPacked, trace.traceRoot, outputsPacked, paths] as const
  const claimId = await call<Hex>('claim', () => game.claim.staticCall(...args, { value: bond }))
  const claimant = await (game.runner as unknown as { getAddress(): Promise<string> }).getAddress()
  const key = { ...claimKeyOf(modelId, trace, claimant, inputPacked), outputsHash: outputsHashOf(outputsPacked) }
  return { claimId, key, inputPacked, ...(await send('claim', () => game.claim(...args, { value: bond }))) }
}

/** Closes a dispute whose claim was rejected by another dispute; the challenger's bond is credited back. Anyone may send it. */
export const closeMoot = (game: Contract, disputeId: Hex) => send('closeMoot', () => game.closeMoot(disputeId))

/** Settles a pending claim at once from the hub's proof (or on-chain run) of its statement. Anyone may send it. */
/** A proof's record settles a pending claim; rejecting one with live disputes pays `rewardDispute`'s challenger. */
export const settleByProof = (game: Contract, key: ClaimKey, rewardDispute: string = ZeroHash) =>
  send('settleByProof', () => game.settleByProof(key, rewardDispute))

export async function challengeClaim(game: Contract, key: ClaimKey, bond: bigint) {
  const disputeId = await call<Hex>('challenge', () => game.challenge.staticCall(key, { value: bond }))
  return { disputeId, ...(await send('challenge', () => game.challenge(key, { value: bond }))) }
}

export async function playMove(game: Contract, disputeId: Hex, move: Move) {
  switch (move.type) {
    case 'propose':
      return send('propose', () => game.propose(disputeId, move.root))
    case 'choose':
      return send('choose', () => game.choose(disputeId, move.agree))
    case 'reveal':
      return send('reveal', () => game.reveal(disputeId, move.stateRoot, move.path))
    case 'open':
      return send('open', () => game.open(disputeId, move.left, move.right))
    case 'pick':
      return send('pick', () => game.pick(disputeId, move.right))
    case 'step':
      return send('step', () => game.step(disputeId, move.proof))
    case 'startFold':
      return send('startFold', () => game.startFold(disputeId, move.proof))
    case 'foldPropose':
      return send('foldPropose', () => game.foldPropose(disputeId, move.acc))
    case 'foldChoose':
      return send('foldChoose', () => game.foldChoose(disputeId, move.agree))
    case 'foldStep':
      return send('foldStep', () => game.foldStep(disputeId, move.proof))
  }
}

export async function readDispute(game: Contract, disputeId: Hex): Promise<DisputeView> {
  const d = await game.dispute(disputeId)
  return {
    challenger: d.challenger,
    deadline: d.deadline,
    phase: PHASES[Number(d.phase)],
    claimantWon: d.claimantWon,
    lo: Number(d.lo),
    hi: Number(d.hi),
    pos: d.pos,
    claimId: d.claimId,
    modelId: d.modelId,
    rootLo: d.rootLo,
    rootHi: d.rootHi,
    left: d.left,
    right: d.right,
    foldLo: Number(d.foldLo),
    foldHi: Number(d.foldHi),
    termCount: Number(d.termCount),
    termsRoot: d.termsRoot,
    accLo: d.accLo,
    accHi: d.accHi,
    accMid: d.accMid,
  }
}

export async function readClaim(game: Contract, claimId: Hex): Promise<ClaimView> {
  const r = await game.claims(claimId)
  return {
    claimant: r.claimant as string,
    createdAt: r.createdAt as bigint,
    openDisputes: Number(r.openDisputes),
    status: CLAIM_STATUSES[Number(r.status)],
  }
}

export const finalizeClaim = (game: Contract, key: ClaimKey) => send('finalize', () => game.finalize(key))
export const timeoutDispute = (game: Contract, disputeId: Hex) => send('timeout', () => game.timeout(disputeId))
export const withdrawCredit = (game: Contract) => send('withdraw', () => game.withdraw())
