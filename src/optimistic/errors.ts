/**
 * Errors of the pure optimistic core: a model the game cannot play, trace and proof indices,
 * input encoding, the dispute budget, the honest agent. Errors that need a chain (a revert,
 * a deployment file, a posted claim) are in chain/errors.ts; each error lives in one of the two.
 * Every constructor takes one object: the error's fields (kept on it) plus `details` and `cause`.
 */
import { BaseError, type BaseErrorParameters } from '../errors.js'

/** The model cannot be played by the optimistic game as it is (shape or constant out of range). */
export class OptimisticModelError extends BaseError {
  override name = 'OptimisticModelError'
  readonly model: string
  readonly reason: string
  constructor(p: { model: string; reason: string } & BaseErrorParameters) {
    super(`model "${p.model}" cannot be played optimistically: ${p.reason}`, { details: p.details, cause: p.cause })
    this.model = p.model
    this.reason = p.reason
  }
}

/** A state or element index outside the trace. */
export class TraceIndexError extends BaseError {
  override name = 'TraceIndexError'
  readonly what: string
  readonly index: number
  readonly size: number
  constructor(p: { what: string; index: number; size: number } & BaseErrorParameters) {
    super(`${p.what} index ${p.index} is outside [0, ${p.size})`, { details: p.details, cause: p.cause })
    this.what = p.what
    this.index = p.index
    this.size = p.size
  }
}

/** The agent was asked to move in a dispute it cannot play (not its turn, or no honest move exists). */
export class AgentMoveError extends BaseError {
  override name = 'AgentMoveError'
  readonly disputeId: string
  readonly phase: string
  readonly reason: string
  constructor(p: { disputeId: string; phase: string; reason: string } & BaseErrorParameters) {
    super(`dispute ${p.disputeId} in phase ${p.phase}: ${p.reason}`, { details: p.details, cause: p.cause })
    this.disputeId = p.disputeId
    this.phase = p.phase
    this.reason = p.reason
  }
}

/**
 * An input value is outside its input's declared domain [lo, hi] (the game refuses it:
 * InputOutOfDomain), or a packed input is malformed (`value` null and `reason` set: a wrong
 * length, a set padding bit).
 */
export class InputEncodingError extends BaseError {
  override name = 'InputEncodingError'
  readonly index: number
  readonly value: bigint | null
  readonly layout: { laneBits: number; lo: bigint; hi: bigint }
  readonly reason?: string
  constructor(
    p: {
      index: number
      value: bigint | null
      layout: { laneBits: number; lo: bigint; hi: bigint }
      reason?: string
    } & BaseErrorParameters,
  ) {
    super(
      p.value !== null
        ? `input value ${p.value} at index ${p.index} is outside its domain [${p.layout.lo}, ${p.layout.hi}]`
        : (p.reason ?? `packed input is malformed at index ${p.index}`),
      {
        details: p.details ?? [
          'A claim posts each input as the circuit packs it: values in the domain the model was compiled for (`veriml inspect` shows it).',
        ],
        cause: p.cause,
      },
    )
    this.index = p.index
    this.value = p.value
    this.layout = { laneBits: p.layout.laneBits, lo: p.layout.lo, hi: p.layout.hi }
    if (p.reason !== undefined) this.reason = p.reason
  }
}

/**
 * A claim's outputs do not fit the model's output layouts (src/optimistic/output.ts): a value
 * outside an output's lane domain, or packed outputs of the wrong length or with a non-zero
 * padding bit (the game reverts on those: OutputsSizeMismatch, OutputPaddingNotZero).
 */
export class OutputEncodingError extends BaseError {
  override name = 'OutputEncodingError'
  /** The output at fault (0 for a wrong total length). */
  readonly output: number
  readonly reason: string
  constructor(p: { output: number; reason: string } & BaseErrorParameters) {
    super(`packed outputs: ${p.reason}`, { details: p.details, cause: p.cause })
    this.output = p.output
    this.reason = p.reason
  }
}

/**
 * A one-step proof of the wrong kind was asked for: linear and max elements are folds
 * (`buildFoldRowProof`, `buildFoldStepProof`), the other ops are re-executed whole
 * (`buildOneStepProof`), as `IntegerOneStep.valueAt` reverts `FoldRequired` for a fold op.
 * `fold` is whether the step is a fold (the default: a fold was given to the whole-op prover).
 */
export class FoldRequiredError extends BaseError {
  override name = 'FoldRequiredError'
  readonly stepIndex: number
  readonly op: string
  readonly fold: boolean
  constructor(p: { stepIndex: number; op: string; fold?: boolean } & BaseErrorParameters) {
    const fold = p.fold !== false
    super(
      fold
        ? `step ${p.stepIndex} (${p.op}) is a fold over its row: prove it with buildFoldRowProof and buildFoldStepProof`
        : `step ${p.stepIndex} (${p.op}) is not a fold: prove it with buildOneStepProof`,
      { details: p.details, cause: p.cause },
    )
    this.stepIndex = p.stepIndex
    this.op = p.op
    this.fold = fold
  }
}

/**
 * A dispute transaction of the model would exceed the per-transaction budget (gas or calldata):
 * the game could not be played to the end on chain.
 */
export class DisputeBudgetError extends BaseError {
  override name = 'DisputeBudgetError'
  readonly model: string
  readonly tx: string
  readonly stepIndex: number | null
  readonly origin: string | null
  readonly calldataBytes: number
  readonly gasBound: number
  readonly budget: { gas: number; calldataBytes: number }
  constructor(
    p: {
      model: string
      tx: string
      stepIndex: number | null
      origin: string | null
      calldataBytes: number
      gasBound: number
      budget: { gas: number; calldataBytes: number }
    } & BaseErrorParameters,
  ) {
    const where = p.stepIndex === null ? '' : ` at step ${p.stepIndex} ("${p.origin}")`
    super(
      `model "${p.model}": its ${p.tx} transaction${where} may need ${p.gasBound} gas and ${p.calldataBytes} calldata bytes; a dispute transaction may use at most ${p.budget.gas} gas and ${p.budget.calldataBytes} bytes`,
      {
        details: [
          'Split the layer (fewer operands or a smaller operand tensor), or shrink the model input.',
          ...(p.details ?? []),
        ],
        cause: p.cause,
      },
    )
    this.model = p.model
    this.tx = p.tx
    this.stepIndex = p.stepIndex
    this.origin = p.origin
    this.calldataBytes = p.calldataBytes
    this.gasBound = p.gasBound
    this.budget = p.budget
  }
}
