import { beaconSetup, contributeSetup, verifySetup } from '../../prove/ceremony.js'
import { setupModel } from '../../prove/setup.js'
import { terminalProgress } from '../../util/progress.js'
import { type Flags, intFlag, stringFlag } from '../flags.js'
import { UsageError, ms, table } from '../format.js'
import { type Verb, positional } from '../verb.js'

/** `veriml setup`: Groth16 keys, then the phase-2 ceremony steps on them. */

const INSECURE_NOTE =
  'WARNING: dev keys are INSECURE (the toxic waste was known while they were made). Never use them for anything of value.'

/** A hex string flag (0x optional). */
function hexFlag(flags: Flags, name: string, what: string): string | undefined {
  const v = stringFlag(flags, name, { what })
  if (v !== undefined && !/^(0x)?[0-9a-fA-F]+$/.test(v))
    throw new UsageError({ problem: `--${name} must be hexadecimal; got "${v}"` })
  return v
}

export async function keys(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(args, 1, verb.usage)
  const ptauPath = stringFlag(flags, 'ptau', { what: 'FILE' })
  if (flags.dev && ptauPath !== undefined)
    throw new UsageError({
      problem: '--dev and --ptau conflict: choose fast insecure dev keys (--dev) or a ceremony file (--ptau FILE)',
    })
  const ptauBlake2b = hexFlag(flags, 'ptau-hash', 'HEX')
  if (flags.dev && ptauBlake2b !== undefined)
    throw new UsageError({ problem: '--dev and --ptau-hash conflict: dev keys use no ceremony file' })
  const r = await setupModel({
    model: dir,
    dev: Boolean(flags.dev),
    ptauPath,
    ptauBlake2b,
    force: Boolean(flags.force),
    progress: terminalProgress(),
  })
  console.log(
    table([
      ['setup', r.kind],
      ['time', ms(r.setupMs)],
      ['zkey sha256', r.zkeySha256],
    ]),
  )
  if (r.insecure) console.log(INSECURE_NOTE)
  return 0
}

/** The table both phase-2 steps print, and the warning dev keys keep after any contribution. */
function printContribution(r: Awaited<ReturnType<typeof contributeSetup>>): number {
  console.log(
    table([
      ['step', `${r.contribution.kind} "${r.contribution.name}"`],
      ['contribution hash', r.contribution.contributionHash],
      ['contributions', String(r.record.contributions.length)],
      ['time', ms(r.stepMs)],
      ['zkey sha256', r.record.zkeySha256],
    ]),
  )
  if (r.insecure)
    console.log(
      'WARNING: these are dev keys: they stay INSECURE after any contribution, because the phase-1 tau was known when they were made. Use --ptau with a ceremony file for real keys.',
    )
  return 0
}

/**
 * DIR after a step's name. Counted as `veriml setup` always counted its arguments (the step's
 * name is the first of two), so "expected 2 arguments" stays what a user and the tests read.
 */
const stepDir = (step: string, args: string[], usage: string): string => positional([step, ...args], 2, usage)[1]

export async function contribute(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const dir = stepDir('contribute', args, verb.usage)
  return printContribution(
    await contributeSetup({
      model: dir,
      name: stringFlag(flags, 'name', { what: 'NAME' }),
      entropy: stringFlag(flags, 'entropy', { what: 'string' }),
    }),
  )
}

export async function beacon(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const dir = stepDir('beacon', args, verb.usage)
  const beaconHashHex = hexFlag(flags, 'hash', 'HEX')
  if (beaconHashHex === undefined) throw new UsageError({ problem: '--hash HEX is required for a beacon' })
  return printContribution(
    await beaconSetup({
      model: dir,
      name: stringFlag(flags, 'name', { what: 'NAME' }),
      beaconHashHex,
      iterationsExp: intFlag(flags, 'iterations', { min: 10, max: 63 }),
    }),
  )
}

export async function verify(args: string[], _flags: Flags, verb: Verb): Promise<number> {
  const dir = stepDir('verify', args, verb.usage)
  const r = await verifySetup({ model: dir })
  console.log(
    table([
      ['ptau', r.ptauPath],
      ['contributions', r.contributions.map((c) => `${c.kind} "${c.name}"`).join(', ') || 'none'],
      ['time', ms(r.verifyMs)],
    ]),
  )
  console.log(
    r.valid
      ? 'setup OK: snarkjs zkey verify accepts the key and its contribution chain'
      : `setup INVALID:\n  ${r.problems.join('\n  ')}`,
  )
  if (r.insecure) console.log(INSECURE_NOTE)
  return r.valid ? 0 : 1
}
