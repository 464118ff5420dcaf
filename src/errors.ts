/**
 * Base of every error veriml throws: a one-line `shortMessage`, optional `details` lines
 * (what to do about it), and the original `cause` kept. Modelled on viem's BaseError.
 */
export interface BaseErrorParameters {
  details?: string[]
  cause?: unknown
}

export class BaseError extends Error {
  override name = 'VerimlError'
  readonly shortMessage: string
  readonly details: string[]

  constructor(shortMessage: string, { details = [], cause }: BaseErrorParameters = {}) {
    super([shortMessage, ...details.map((d) => `  ${d}`)].join('\n'), cause === undefined ? undefined : { cause })
    this.shortMessage = shortMessage
    this.details = details
  }
}

/** A caller's argument or input file is unusable as given (a bad flag, unparseable JSON). */
export class UsageError extends BaseError {
  override name = 'UsageError'
}
