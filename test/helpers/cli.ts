import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { vi } from 'vitest'
import { main } from '../../src/cli/main.js'

export const ROOT = join(import.meta.dirname, '..', '..')
export const BIN = join(ROOT, 'bin', 'veriml.mjs')

export interface CliResult {
  /** Exit code; null when the process was killed (see `timedOut`). */
  code: number | null
  stdout: string
  stderr: string
}

/** The CLI's entry in this process, with what it prints captured (fast: no process start). */
export async function cliInProcess(...argv: string[]): Promise<CliResult & { code: number }> {
  const stdout: string[] = []
  const stderr: string[] = []
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void stdout.push(a.join(' ')))
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void stderr.push(a.join(' ')))
  try {
    return { code: await main(argv), stdout: stdout.join('\n'), stderr: stderr.join('\n') }
  } finally {
    log.mockRestore()
    error.mockRestore()
  }
}

export interface SpawnCliOptions {
  env?: Record<string, string>
  cwd?: string
  /** Milliseconds before the process is killed (a hang). */
  timeoutMs?: number
}

/** The installed binary (`node bin/veriml.mjs …`) as a user runs it; never rejects. */
export function cliSpawn(
  args: string[],
  { env = {}, cwd = ROOT, timeoutMs = 120_000 }: SpawnCliOptions = {},
): Promise<CliResult & { ms: number; timedOut: boolean }> {
  const started = Date.now()
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string; killed?: boolean }) | null
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          stdout,
          stderr,
          ms: Date.now() - started,
          timedOut: Boolean(e?.killed),
        })
      },
    )
  })
}
