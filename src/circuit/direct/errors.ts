import { BaseError, type ErrorParameters } from '../../errors.js'

/**
 * A build that hashes something (hashed input or output visibility, hashed weights) was not
 * given the Poseidon constants: they load asynchronously (`await loadPoseidonTables()`), and
 * buildDirect is synchronous, so the caller passes them as `poseidon`.
 */
export class MissingPoseidonTablesError extends BaseError {
  override name = 'MissingPoseidonTablesError'
  readonly what: string
  constructor({ what, details = [], cause }: ErrorParameters<{ what: string }>) {
    super(`a direct build with ${what} needs the Poseidon tables`, {
      details: [
        'Pass `poseidon: await loadPoseidonTables()` (src/circuit/direct/gadgets/poseidon-constants.ts).',
        ...details,
      ],
      cause,
    })
    this.what = what
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
