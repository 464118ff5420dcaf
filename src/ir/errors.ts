import { BaseError, type ErrorParameters } from '../errors.js'

/** A model input of the wrong shape or kind for the IR: names the input and what was expected. */
export class IrInputError extends BaseError {
  override name = 'IrInputError'
  readonly input: string
  readonly expected: string
  readonly actual: string
  constructor(p: ErrorParameters<{ input: string; expected: string; actual: string }>) {
    super(`input "${p.input}": expected ${p.expected}, found ${p.actual}`, { details: p.details, cause: p.cause })
    this.input = p.input
    this.expected = p.expected
    this.actual = p.actual
  }
}

/** A model whose proven bounds could leave the range where field arithmetic equals integer arithmetic. */
export class FieldOverflowError extends BaseError {
  override name = 'FieldOverflowError'
  readonly step: string
  readonly bits: number
  readonly limitBits: number
  constructor(p: ErrorParameters<{ step: string; bits: number; limitBits: number }>) {
    super(`step "${p.step}": values may need ${p.bits} bits, beyond the safe ${p.limitBits} bits of the BN254 field`, {
      details: [
        'Lower --weight-bits or --activation-bits, calibrate with representative inputs (--calibration), or clamp the activations.',
        ...(p.details ?? []),
      ],
      cause: p.cause,
    })
    this.step = p.step
    this.bits = p.bits
    this.limitBits = p.limitBits
  }
}

/** A lookup whose input could leave its table's domain: the table would have no entry to prove. */
export class LookupDomainError extends BaseError {
  override name = 'LookupDomainError'
  readonly params: { step?: string; element: number; lo: bigint; hi: bigint; domainLo: bigint; domainHi: bigint }
  constructor({
    details = [],
    cause,
    ...p
  }: ErrorParameters<{ step?: string; element: number; lo: bigint; hi: bigint; domainLo: bigint; domainHi: bigint }>) {
    super(
      `${p.step ? `step "${p.step}": ` : ''}lookup input element ${p.element} may take values in [${p.lo}, ${p.hi}], outside the table domain [${p.domainLo}, ${p.domainHi}]`,
      {
        details: ['Clamp (requantise) the input to the table domain first.', ...details],
        cause,
      },
    )
    this.params = p
  }
}

/**
 * An operand whose proven range leaves the op's domain: a divisor that may be below 1, a
 * square root of a value that may be negative. Names the step, the element and its range.
 */
export class OperandRangeError extends BaseError {
  override name = 'OperandRangeError'
  readonly params: { step?: string; op: 'div' | 'isqrt'; element: number; lo: bigint; hi: bigint }
  constructor({
    details = [],
    cause,
    ...p
  }: ErrorParameters<{ step?: string; op: 'div' | 'isqrt'; element: number; lo: bigint; hi: bigint }>) {
    const what = p.op === 'div' ? 'divisor' : 'square-root operand'
    const need = p.op === 'div' ? 'at least 1' : 'at least 0'
    super(
      `${p.step ? `step "${p.step}": ` : ''}${what} of element ${p.element} may take values in [${p.lo}, ${p.hi}]; it must be ${need}`,
      {
        details: [
          p.op === 'div'
            ? 'Clamp the divisor to at least 1 (a requant with lo = 1) before dividing.'
            : 'Clamp the operand to at least 0 before the square root.',
          ...details,
        ],
        cause,
      },
    )
    this.params = p
  }
}
