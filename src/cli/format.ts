import { BaseError } from '../errors.js'

/** A table with aligned columns, for terminal output. */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String))
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n')
}

export const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`)

export class UsageError extends BaseError {
  override name = 'UsageError'
}

/** Prints an error for a person: the short message, its details, and the cause chain. */
export function describeError(error: unknown): string {
  if (error instanceof BaseError) {
    const lines = [`error: ${error.message}`]
    let cause = (error as Error).cause
    while (cause instanceof Error) { lines.push(`  caused by: ${cause.message.split('\n')[0]}`); cause = cause.cause }
    return lines.join('\n')
  }
  return `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`
}
