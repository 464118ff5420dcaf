import { BaseError, type BaseErrorParameters } from '../errors.js'

/** An external tool (circom2, snarkjs) failed: keeps its argv, the tail of its stderr and the cause. */
export class ToolError extends BaseError {
  override name = 'ToolError'
  readonly tool: string
  readonly argv: string[]
  readonly stderrTail: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { tool: string; argv: string[]; stderr?: string; problem: string }) {
    // Stack frames (a wasm trap prints a screen of them) say nothing to a user: only the tool's own lines are kept.
    const tail = (p.stderr ?? '')
      .trim()
      .split('\n')
      .filter((l) => !/^\s+at |wasm-function\[|^\s*\^+\s*$|^Node\.js v\d/.test(l))
      .slice(-15)
      .join('\n')
    super(`${p.tool}: ${p.problem}`, {
      details: [...(p.details ?? []), ...(tail ? [`stderr (last lines):\n${tail}`] : []), `argv: ${p.argv.join(' ')}`],
      cause: p.cause,
    })
    this.tool = p.tool
    this.argv = p.argv
    this.stderrTail = tail
    this.problem = p.problem
  }
}

/** A build folder lacks an artifact a step needs. */
export class MissingArtifactError extends BaseError {
  override name = 'MissingArtifactError'
  readonly path: string
  /** What makes the artifact: the step to run first. */
  readonly hint: string
  constructor(p: BaseErrorParameters & { path: string; hint: string }) {
    super(`missing ${p.path}`, { details: [p.hint, ...(p.details ?? [])], cause: p.cause })
    this.path = p.path
    this.hint = p.hint
  }
}

/** The circuit's witness disagrees with the reference executor: a compiler bug, never a user error. */
export class WitnessMismatchError extends BaseError {
  override name = 'WitnessMismatchError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}
