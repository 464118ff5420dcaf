import { BaseError, type ErrorParameters } from '../../errors.js'

/**
 * The direct backend does not build this visibility yet (hashed needs the Poseidon gadget,
 * built elsewhere): compile with --compiler circom.
 */
export class DirectVisibilityError extends BaseError {
  override name = 'DirectVisibilityError'
  readonly part: string
  readonly visibility: string
  constructor({ part, visibility, details = [], cause }: ErrorParameters<{ part: string; visibility: string }>) {
    super(`the direct backend cannot build ${part} visibility "${visibility}" yet`, {
      details: ['Only public and private parts are built directly; use --compiler circom.', ...details],
      cause,
    })
    this.part = part
    this.visibility = visibility
  }
}

/** An op kind (or weight mode) the direct backend does not build yet: compile with --compiler circom. */
export class DirectOpError extends BaseError {
  override name = 'DirectOpError'
  readonly op: string
  constructor({ op, details = [], cause }: ErrorParameters<{ op: string }>) {
    super(`the direct backend cannot build "${op}" yet`, {
      details: ['Use --compiler circom for this model.', ...details],
      cause,
    })
    this.op = op
  }
}

/**
 * circom's O1 would merge an input or output of main into another signal (or a constant):
 * circom then keeps the header count but not the wire, which the builder's role order cannot
 * express. Never seen on veriml's circuits; refused rather than written differently.
 */
export class EliminatedInputError extends BaseError {
  override name = 'EliminatedInputError'
  readonly signal: string
  readonly into: string
  constructor({ signal, into, details = [], cause }: ErrorParameters<{ signal: string; into: string }>) {
    super(`circom's O1 would merge ${signal} into ${into}`, { details, cause })
    this.signal = signal
    this.into = into
  }
}

/**
 * The witness pass and the compile's wire map disagree on the circuit (another number of
 * signals or steps): the wire map is from another build. Recompile.
 */
export class DirectWiresMismatchError extends BaseError {
  override name = 'DirectWiresMismatchError'
  readonly what: 'signals' | 'steps'
  readonly expected: number
  readonly actual: number
  constructor({
    what,
    expected,
    actual,
    details = [],
    cause,
  }: ErrorParameters<{ what: 'signals' | 'steps'; expected: number; actual: number }>) {
    super(
      `the wire map describes ${expected} ${what === 'signals' ? 'pre-O1 signals' : 'steps'} but this model has ${actual}`,
      {
        details: ['The wire map (circuit/model.wires) is from another build: recompile the model.', ...details],
        cause,
      },
    )
    this.what = what
    this.expected = expected
    this.actual = actual
  }
}
