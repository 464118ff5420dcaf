import { BaseError, type ErrorParameters, walkError } from '../errors.js'
import { toTypedError } from '../util/external.js'
import { redact } from '../util/secrets.js'

// Shared with the library (inspect), so they live outside the CLI; re-exported for its verbs.
export { UsageError } from '../errors.js'
export { table } from '../util/table.js'

export const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`)

/** An error no call site typed: a veriml bug, printed without its stack or its full message. */
export class InternalError extends BaseError {
  override name = 'InternalError'
  readonly problem: string
  constructor({ problem, ...options }: ErrorParameters<{ problem: string }>) {
    super(problem, options)
    this.problem = problem
  }
}

/** Longest cause line printed: a cause may quote a whole transaction (tens of KB of hex). */
const MAX_CAUSE_CHARS = 240

/** Long hex runs (transactions, bytecode) shortened to their length: nobody reads them, and they may hide secrets. */
const shortenHex = (line: string) =>
  line.replace(/0x[0-9a-fA-F]{66,}/g, (h) => `0x${h.slice(2, 10)}…(${h.length - 2} hex digits)`)

function causeLine(cause: Error): string {
  const typed = toTypedError(cause)
  const first = shortenHex((typed ? typed.shortMessage : cause.message).split('\n')[0])
  return first.length > MAX_CAUSE_CHARS ? `${first.slice(0, MAX_CAUSE_CHARS)}…` : first
}

/**
 * Prints an error for a person: the short message, its details, and the cause chain, one
 * line each. Never a stack trace, never an untyped error's full message, and every line
 * passes through `redact` so no registered secret can reach the terminal.
 * VERIML_DEBUG=1 adds the (redacted) stack for developers.
 */
export function describeError(error: unknown): string {
  const typed =
    toTypedError(error) ??
    new InternalError({
      problem: `unexpected internal error: ${error instanceof Error ? causeLine(error) : String(error).split('\n')[0].slice(0, MAX_CAUSE_CHARS)}`,
      details: [
        'This is a veriml bug: please report it with the command that caused it (VERIML_DEBUG=1 prints the stack).',
      ],
    })
  const lines = [`error: ${typed.message}`]
  // A converted error (errno, ethers) already says what its original said.
  // The Error causes below the error, at most five (walkError stops at a loop).
  const causes: Error[] = []
  if (error instanceof Error)
    walkError(error.cause, (c) => {
      if (!(c instanceof Error) || causes.length === 5) return true
      causes.push(c)
      return false
    })
  for (const c of causes) lines.push(`  caused by: ${causeLine(c)}`)
  if (process.env.VERIML_DEBUG === '1' && error instanceof Error && error.stack) lines.push(error.stack)
  return redact(lines.join('\n'))
}
