import { isAddress } from 'ethers'
import { privateKeyProblem } from '../chain/rpc.js'
import { UsageError } from './format.js'

/**
 * Flags parsed and validated by type before any verb uses them: a wrong value is a
 * UsageError naming the flag and what it must be, never a NaN or an empty path that
 * travels on into a RangeError (or into writing the current folder).
 */
export type Flags = Record<string, string | boolean | undefined>

/** One flag as `node:util` parseArgs takes it, with the line `--help` prints for it. */
export interface FlagDefinition {
  type: 'string' | 'boolean'
  help: string
}

export type FlagSet = Record<string, FlagDefinition>

/**
 * Flags several verbs take, declared once; a verb lists the ones it takes (spread into its
 * flag set, with its own help text where the meaning narrows, e.g. `{ ...FLAG.rpc, help }`).
 */
export const FLAG = {
  rpc: { type: 'string', help: 'JSON-RPC endpoint' },
  'private-key': { type: 'string', help: 'sender key (else env VERIML_PRIVATE_KEY); never printed' },
  input: { type: 'string', help: 'input JSON' },
  calibration: {
    type: 'string',
    help: 'calibration samples: EZKL {"input_data": [[...]]} with samples concatenated',
  },
  dim: { type: 'string', help: 'sizes of symbolic input dimensions: NAME=SIZE[,NAME=SIZE…] (e.g. N=1)' },
  force: { type: 'boolean', help: 'redo even if nothing changed' },
  'poll-ms': { type: 'string', help: 'milliseconds between chain polls (default 1000)' },
} as const satisfies FlagSet

const quoted = (v: unknown) => JSON.stringify(String(v))

/** A string flag, or undefined when absent; an empty value is refused (`--out ''` is not the current folder). */
export function stringFlag(
  flags: Flags,
  name: string,
  { required = false, what = 'VALUE' }: { required?: boolean; what?: string } = {},
): string | undefined {
  const v = flags[name]
  if (v === undefined) {
    if (required) throw new UsageError(`--${name} ${what} is required`)
    return undefined
  }
  if (typeof v !== 'string' || v.trim() === '')
    throw new UsageError(`--${name} must be a non-empty ${what}; got ${quoted(v)}`)
  return v
}

export const requiredString = (flags: Flags, name: string, what: string): string =>
  stringFlag(flags, name, { required: true, what })!

/** A decimal integer in [min, max]; "2.5", "abc", "1e3" and "" are refused. */
export function intFlag(flags: Flags, name: string, { min, max }: { min: number; max: number }): number | undefined {
  const v = stringFlag(flags, name, { what: 'integer' })
  if (v === undefined) return undefined
  if (!/^-?\d+$/.test(v.trim()))
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}; got ${quoted(v)}`)
  const n = Number(v)
  if (n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}; got ${n}`)
  return n
}

/** One of `allowed`. */
export function choiceFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T | undefined {
  const v = flags[name]
  if (v === undefined) return undefined
  if (!allowed.includes(v as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got ${quoted(v)}`)
  return v as T
}

/** An Ethereum address (checked here: ethers would read anything else as an ENS name). */
export function addressFlag(flags: Flags, name: string): string | undefined {
  const v = stringFlag(flags, name, { what: 'address' })
  if (v !== undefined && !isAddress(v))
    throw new UsageError(`--${name} must be a 0x-prefixed 20-byte address (40 hex digits); got ${quoted(v)}`)
  return v
}

/** An http(s) or ws(s) URL. */
export function urlFlag(flags: Flags, name: string, { required = false } = {}): string | undefined {
  const v = stringFlag(flags, name, { required, what: 'URL' })
  if (v === undefined) return undefined
  let url: URL
  try {
    url = new URL(v)
  } catch {
    throw new UsageError(`--${name} must be a URL like http://127.0.0.1:8545; got ${quoted(v)}`)
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol))
    throw new UsageError(`--${name} must be an http(s) or ws(s) URL; got ${quoted(v)}`)
  return v
}

/**
 * The signing key from --private-key, else VERIML_PRIVATE_KEY, checked for form before any
 * connection is made. The error says what is wrong with it and never quotes it.
 */
export function privateKeyFlag(flags: Flags): string | undefined {
  const fromFlag = flags['private-key']
  const key = typeof fromFlag === 'string' ? fromFlag : process.env.VERIML_PRIVATE_KEY
  if (key === undefined || key === '') return typeof fromFlag === 'string' ? usage('--private-key is empty') : undefined
  const problem = privateKeyProblem(key.trim())
  if (problem)
    throw new UsageError(
      `${typeof fromFlag === 'string' ? '--private-key' : 'VERIML_PRIVATE_KEY'} is not a private key: ${problem}`,
      { details: ['A private key is 64 hex digits, optionally 0x-prefixed.'] },
    )
  return typeof fromFlag === 'string' ? fromFlag : undefined
}

function usage(message: string): never {
  throw new UsageError(message)
}

/** Flags whose values are secrets: registered for redaction before anything else happens. */
export const SECRET_FLAGS = ['private-key', 'entropy'] as const

/** Secret values in a raw argv (`--flag VALUE` and `--flag=VALUE`), read before parsing so that even a parse error cannot echo them. */
export function secretValues(argv: readonly string[]): string[] {
  const out: string[] = []
  argv.forEach((a, i) => {
    for (const f of SECRET_FLAGS) {
      if (a === `--${f}` && argv[i + 1] !== undefined) out.push(argv[i + 1])
      else if (a.startsWith(`--${f}=`)) out.push(a.slice(f.length + 3))
    }
  })
  return out
}

/** `--dim N=1,T=16`: sizes of symbolic input dimensions, each a positive integer. */
export function dimsFlag(flags: Flags, name = 'dim'): Record<string, number> | undefined {
  const v = stringFlag(flags, name, { what: 'NAME=SIZE[,NAME=SIZE…]' })
  if (v === undefined) return undefined
  const dims: Record<string, number> = {}
  for (const part of v.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*(\d+)\s*$/.exec(part)
    if (!m || Number(m[2]) < 1 || !Number.isSafeInteger(Number(m[2])))
      throw new UsageError(
        `--${name} must be NAME=SIZE pairs with positive integer sizes, e.g. --${name} N=1; got ${quoted(part)}`,
      )
    dims[m[1]] = Number(m[2])
  }
  return dims
}
