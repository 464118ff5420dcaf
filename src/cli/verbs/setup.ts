import { beaconSetup, contributeSetup, verifySetup } from '../../prove/ceremony.js'
import { setupModel } from '../../prove/setup.js'
import { terminalProgress } from '../../util/progress.js'
import { type Flags, intFlag, stringFlag } from '../flags.js'
import { UsageError, ms, table } from '../format.js'
import { type Group, type Verb, positional } from '../verb.js'

/** `veriml setup`: Groth16 keys, then the phase-2 ceremony steps on them. */

const INSECURE_NOTE =
  'WARNING: dev keys are INSECURE (the toxic waste was known while they were made). Never use them for anything of value.'

/** A hex string flag (0x optional). */
function hexFlag(flags: Flags, name: string, what: string): string | undefined {
  const v = stringFlag(flags, name, { what })
  if (v !== undefined && !/^(0x)?[0-9a-fA-F]+$/.test(v))
    throw new UsageError(`--${name} must be hexadecimal; got "${v}"`)
  return v
}

const keys: Verb = {
  usage: 'veriml setup DIR [--dev | --ptau FILE [--ptau-hash HEX]] [--force]   (no flag: a cached ceremony ptau)',
  summary: 'Groth16 keys (--dev fast and INSECURE; --ptau a ceremony file)',
  flags: {
    dev: { type: 'boolean', help: 'fast local setup; its keys are insecure by construction' },
    ptau: { type: 'string', help: 'ceremony .ptau file, prepared for phase 2' },
    'ptau-hash': {
      type: 'string',
      help: "pinned blake2b-512 (hex) of the --ptau file, from the ceremony's published list",
    },
    force: { type: 'boolean', help: 'redo even if keys exist' },
  },
  async run(args, flags) {
    const [dir] = positional(args, 1, this.usage)
    const ptauPath = stringFlag(flags, 'ptau', { what: 'FILE' })
    if (flags.dev && ptauPath !== undefined)
      throw new UsageError(
        '--dev and --ptau conflict: choose fast insecure dev keys (--dev) or a ceremony file (--ptau FILE)',
      )
    const ptauBlake2b = hexFlag(flags, 'ptau-hash', 'HEX')
    if (flags.dev && ptauBlake2b !== undefined)
      throw new UsageError('--dev and --ptau-hash conflict: dev keys use no ceremony file')
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
  },
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

const NAME_FLAG = { type: 'string', help: 'name recorded in the key' } as const

const contribute: Verb = {
  usage: 'veriml setup contribute DIR [--name N] [--entropy E]',
  summary: 'adds a phase-2 contribution to the keys',
  flags: {
    name: NAME_FLAG,
    entropy: { type: 'string', help: 'extra entropy (default: random)' },
  },
  async run(args, flags) {
    const dir = stepDir('contribute', args, this.usage)
    return printContribution(
      await contributeSetup({
        model: dir,
        name: stringFlag(flags, 'name', { what: 'NAME' }),
        entropy: stringFlag(flags, 'entropy', { what: 'string' }),
      }),
    )
  },
}

const beacon: Verb = {
  usage: 'veriml setup beacon DIR --hash HEX [--name N] [--iterations N]',
  summary: 'closes phase 2 with a public random beacon',
  flags: {
    name: NAME_FLAG,
    hash: { type: 'string', help: 'the beacon value, hex' },
    iterations: { type: 'string', help: 'log2 of the hash iterations, 10 … 63 (default 10)' },
  },
  async run(args, flags) {
    const dir = stepDir('beacon', args, this.usage)
    const beaconHashHex = hexFlag(flags, 'hash', 'HEX')
    if (beaconHashHex === undefined) throw new UsageError('--hash HEX is required for a beacon')
    return printContribution(
      await beaconSetup({
        model: dir,
        name: stringFlag(flags, 'name', { what: 'NAME' }),
        beaconHashHex,
        iterationsExp: intFlag(flags, 'iterations', { min: 10, max: 63 }),
      }),
    )
  },
}

const verify: Verb = {
  usage: 'veriml setup verify DIR',
  summary: 'checks the keys and their contribution chain with snarkjs zkey verify',
  flags: {},
  async run(args) {
    const dir = stepDir('verify', args, this.usage)
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
  },
}

export const setup: Group = {
  summary: 'Groth16 keys and the phase-2 ceremony on them',
  fallback: keys,
  children: { contribute, beacon, verify },
}
