import { BaseError, type ErrorParameters } from '../../../errors.js'

/** A gadget's witness step ran before a wire it reads had a value (the caller's order is wrong). */
export class MissingWireValueError extends BaseError {
  override name = 'MissingWireValueError'
  readonly wire: number
  readonly gadget: string
  constructor({ wire, gadget, details, cause }: ErrorParameters<{ wire: number; gadget: string }>) {
    super(`${gadget} reads wire ${wire}, which has no value yet`, {
      details: ["Run each gadget's witness step after the steps that fill its operands.", ...(details ?? [])],
      cause,
    })
    this.wire = wire
    this.gadget = gadget
  }
}

/** Parameters a gadget cannot be built with (circom would reject or mis-size the template). */
export class GadgetParameterError extends BaseError {
  override name = 'GadgetParameterError'
  readonly gadget: string
  readonly problem: string
  constructor({ gadget, problem, details, cause }: ErrorParameters<{ gadget: string; problem: string }>) {
    super(`${gadget}: ${problem}`, { details, cause })
    this.gadget = gadget
    this.problem = problem
  }
}

/** A witness value outside what the gadget's caller proved (its bounds are wrong): no valid hint exists. */
export class GadgetWitnessError extends BaseError {
  override name = 'GadgetWitnessError'
  readonly gadget: string
  readonly problem: string
  constructor({ gadget, problem, details, cause }: ErrorParameters<{ gadget: string; problem: string }>) {
    super(`${gadget}: ${problem}`, { details, cause })
    this.gadget = gadget
    this.problem = problem
  }
}
