import { BaseError, type ErrorParameters } from '../../errors.js'

/**
 * A signal declared out of snarkjs's wire order. The r1cs header only counts outputs, public
 * and private inputs; their wires must be 1.., in that order, before every internal wire.
 */
export class SignalOrderError extends BaseError {
  override name = 'SignalOrderError'
  readonly signal: string
  readonly role: string
  readonly after: string
  constructor({
    signal,
    role,
    after,
    details = [],
    cause,
  }: ErrorParameters<{ signal: string; role: string; after: string }>) {
    super(`cannot declare ${role} ${signal} after ${after} signals`, {
      details: [
        'Wires are numbered 1 (the constant one), outputs, public inputs, private inputs, internal: declare them in that order.',
        ...details,
      ],
      cause,
    })
    this.signal = signal
    this.role = role
    this.after = after
  }
}

/** A linear combination names a wire the system has not declared. */
export class UnknownWireError extends BaseError {
  override name = 'UnknownWireError'
  readonly wire: number
  readonly wireCount: number
  constructor({ wire, wireCount, details, cause }: ErrorParameters<{ wire: number; wireCount: number }>) {
    super(`wire ${wire} is not declared (the system has wires 0..${wireCount - 1})`, { details, cause })
    this.wire = wire
    this.wireCount = wireCount
  }
}

/** A witness assignment is missing a wire, has too many, or gives wire 0 a value other than 1. */
export class WitnessAssignmentError extends BaseError {
  override name = 'WitnessAssignmentError'
  readonly wire: number
  readonly signal: string
  readonly problem: string
  constructor({
    wire,
    signal,
    problem,
    details,
    cause,
  }: ErrorParameters<{ wire: number; signal: string; problem: string }>) {
    super(`witness wire ${wire} (${signal}): ${problem}`, { details, cause })
    this.wire = wire
    this.signal = signal
    this.problem = problem
  }
}
