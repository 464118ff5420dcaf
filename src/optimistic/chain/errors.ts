/**
 * Errors of the optimistic path's chain side: game reverts, the deployment file, claims as
 * posted on chain. The pure core's errors are in ../errors.ts; each error lives in one of the two.
 * Every constructor takes one object: the error's fields (kept on it) plus `details` and `cause`.
 */
import { BaseError, type BaseErrorParameters } from '../../errors.js'

/**
 * The game contract reverted. `errorName` is the Solidity custom error (e.g. `NotYourTurn`,
 * `OperandNotInPreState`), `args` its decoded arguments.
 */
export class GameRevertError extends BaseError {
  override name = 'GameRevertError'
  readonly action: string
  readonly errorName: string
  readonly args: readonly unknown[]
  constructor(p: { action: string; errorName: string; args: readonly unknown[] } & BaseErrorParameters) {
    super(`${p.action} reverted with ${p.errorName}(${p.args.map(String).join(', ')})`, {
      details: p.details,
      cause: p.cause,
    })
    this.action = p.action
    this.errorName = p.errorName
    this.args = p.args
  }
}

/** The build folder has no (readable) `optimistic.json`: the game was never deployed for it. */
export class OptimisticDeploymentNotFoundError extends BaseError {
  override name = 'OptimisticDeploymentNotFoundError'
  readonly path: string
  readonly reason: string
  constructor(p: { path: string; reason: string } & BaseErrorParameters) {
    super(`optimistic deployment ${p.path}: ${p.reason}`, {
      details: ['Deploy the game for this model first: veriml op deploy DIR --rpc URL', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.path = p.path
    this.reason = p.reason
  }
}

/**
 * `optimistic.json` does not describe what it is used with: another compiled model, another
 * chain, or a game that holds no such model. `hint` (what to do) is the first detail line.
 */
export class DeploymentMismatchError extends BaseError {
  override name = 'DeploymentMismatchError'
  readonly path: string
  readonly what: string
  readonly expected: string
  readonly actual: string
  readonly hint: string
  constructor(p: { path: string; what: string; expected: string; actual: string; hint: string } & BaseErrorParameters) {
    super(`${p.path} is for ${p.what} ${p.expected}, but found ${p.actual}`, {
      details: [p.hint, ...(p.details ?? [])],
      cause: p.cause,
    })
    this.path = p.path
    this.what = p.what
    this.expected = p.expected
    this.actual = p.actual
    this.hint = p.hint
  }
}

/** No claim with this id was submitted to the game (for this model, when one is given). */
export class ClaimNotFoundError extends BaseError {
  override name = 'ClaimNotFoundError'
  readonly claimId: string
  readonly gameAddress: string
  readonly modelId?: string
  constructor(p: { claimId: string; gameAddress: string; modelId?: string } & BaseErrorParameters) {
    super(`claim ${p.claimId} not found in the game at ${p.gameAddress}${p.modelId ? ` for model ${p.modelId}` : ''}`, {
      details: ['Check the claim id (printed by `veriml op claim`) and --rpc.', ...(p.details ?? [])],
      cause: p.cause,
    })
    this.claimId = p.claimId
    this.gameAddress = p.gameAddress
    if (p.modelId !== undefined) this.modelId = p.modelId
  }
}

/**
 * A claim's posted (packed) input does not fit the model's input states: `actual` bytes
 * posted, `expected` taken. Not an InputEncodingError, which cannot name the claim.
 */
export class ClaimInputError extends BaseError {
  override name = 'ClaimInputError'
  readonly claimId: string
  readonly expected: number
  readonly actual: number
  constructor(p: { claimId: string; expected: number; actual: number } & BaseErrorParameters) {
    super(`claim ${p.claimId} posts ${p.actual} packed input bytes; the model takes ${p.expected}`, {
      details: p.details,
      cause: p.cause,
    })
    this.claimId = p.claimId
    this.expected = p.expected
    this.actual = p.actual
  }
}
