import { BaseError, type BaseErrorParameters } from '../errors.js'

/** A model the on-chain executor cannot run exactly (a value or a sum past int256, too many tensors). */
export class OnchainEncodeError extends BaseError {
  override name = 'OnchainEncodeError'
  readonly step: string
  readonly op: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { step: string; op: string; problem: string }) {
    super(`step ${p.step} (${p.op}) cannot run on chain: ${p.problem}`, {
      details: [
        'The on-chain executor computes in int256; settle this model with a proof or the optimistic game instead.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.step = p.step
    this.op = p.op
    this.problem = p.problem
  }
}

/** The on-chain model contract reverted (input outside the domain, malformed program…); errorName is its custom error. */
export class OnchainRevertError extends BaseError {
  override name = 'OnchainRevertError'
  readonly action: string
  readonly errorName: string
  readonly args: readonly unknown[]
  constructor(p: BaseErrorParameters & { action: string; errorName: string; args: readonly unknown[] }) {
    super(`${p.action} reverted: ${p.errorName}(${p.args.map(String).join(', ')})`, {
      details: [
        ...(p.errorName === 'InputOutOfDomain'
          ? [
              "An input value is outside the model's calibrated domain (input, element, value, lo, hi): clamp or rescale it.",
            ]
          : []),
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.action = p.action
    this.errorName = p.errorName
    this.args = p.args
  }
}
