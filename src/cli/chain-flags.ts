import { isAddress } from 'ethers'
import { privateKeyProblem } from '../chain/rpc.js'
import { type Flags, stringFlag } from './flags.js'
import { UsageError } from './format.js'

/** The flags checked with ethers: only the verbs' actions import this, never the command tree. */

const quoted = (v: unknown) => JSON.stringify(String(v))

/** An Ethereum address (checked here: ethers would read anything else as an ENS name). */
export function addressFlag(flags: Flags, name: string): string | undefined {
  const v = stringFlag(flags, name, { what: 'address' })
  if (v !== undefined && !isAddress(v))
    throw new UsageError({
      problem: `--${name} must be a 0x-prefixed 20-byte address (40 hex digits); got ${quoted(v)}`,
    })
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
    throw new UsageError({
      problem: `${typeof fromFlag === 'string' ? '--private-key' : 'VERIML_PRIVATE_KEY'} is not a private key: ${problem}`,
      details: ['A private key is 64 hex digits, optionally 0x-prefixed.'],
    })
  return typeof fromFlag === 'string' ? fromFlag : undefined
}

function usage(message: string): never {
  throw new UsageError({ problem: message })
}
