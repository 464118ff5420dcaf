/**
 * Base of every error veriml throws: a one-line `shortMessage`, optional `details` lines
 * (what to do about it), and the original `cause` kept. Modelled on viem's BaseError.
 *
 * One constructor shape for every error class (checked by test/guardrails/error-shape.test.ts):
 * - Only subclasses call `BaseError(shortMessage, { details, cause })`; nothing else
 *   constructs an error through it.
 * - Every subclass constructor takes ONE object, `ErrorParameters<{ ...fields }>`: its named
 *   fields plus optional `details` and `cause`, e.g.
 *   `new LoweringError({ node, problem: 'unsupported Constant form', details: [...] })`.
 *   The fields are kept on the instance as `readonly` properties, so a catcher reads
 *   `error.node` rather than parsing the message.
 * - An error whose content is free text names that field `problem` (or `reason` where that
 *   was already the name); a class with no other fields still takes `{ problem }`, so every
 *   class is built the same way.
 * - Details a class always adds come first; a caller's `details` follow them.
 * - Class names are unique across src/: two classes of one name make `instanceof` miss.
 */

/** The options every error takes besides its own fields. */
export interface BaseErrorParameters {
  details?: string[]
  cause?: unknown
}

/** A subclass constructor's one parameter: its own fields `T` plus `details` and `cause`. */
export type ErrorParameters<T extends object = object> = T & BaseErrorParameters

export class BaseError extends Error {
  override name = 'VerimlError'
  readonly shortMessage: string
  readonly details: string[]

  constructor(shortMessage: string, { details = [], cause }: BaseErrorParameters = {}) {
    super([shortMessage, ...details.map((d) => `  ${d}`)].join('\n'), cause === undefined ? undefined : { cause })
    this.shortMessage = shortMessage
    this.details = details
  }

  /**
   * Without `fn`: the deepest `cause` in the chain (this error when it has none). With `fn`:
   * the first error in the chain, starting with this one, for which `fn` is true, else null.
   */
  walk(fn?: (error: unknown) => boolean): unknown {
    return walkError(this, fn)
  }
}

/** The next link of a cause chain: an object's `cause`, or undefined at the end. */
function causeOf(error: unknown): unknown {
  if (typeof error !== 'object' || error === null || !('cause' in error)) return undefined
  return error.cause ?? undefined
}

/**
 * `BaseError.walk` from any root, Error or not (a CLI catching `unknown`). A chain that
 * loops back on itself ends at its last new link: a cycle must not hang an error printer.
 */
export function walkError(error: unknown, fn?: (error: unknown) => boolean): unknown {
  const seen = new Set<unknown>()
  let current = error
  for (;;) {
    if (fn?.(current)) return current
    seen.add(current)
    const next = causeOf(current)
    if (next === undefined || seen.has(next)) return fn ? null : current
    current = next
  }
}

/** A caller's argument or input file is unusable as given (a bad flag, unparseable JSON). */
export class UsageError extends BaseError {
  override name = 'UsageError'
}
