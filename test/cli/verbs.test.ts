import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { COMMAND_TREE } from '../../src/cli/main.js'
import { leaves } from '../../src/cli/verb.js'
import { ROOT, cliInProcess as cli } from '../helpers/cli.js'

/** Issue 14 item 5: every leaf verb has its own usage, flags and help; --version works. */
const LEAVES = leaves(COMMAND_TREE)
const ALL_FLAGS = new Set(LEAVES.flatMap((l) => Object.keys(l.verb.flags)))
const name = (path: string[]) => path.join(' ')
const isFallback = (path: string[]) => LEAVES.some((l) => l.path.length > path.length && l.path[0] === path[0])

describe('the command tree', () => {
  it('has every verb the CLI offers, each leaf once', () => {
    expect(LEAVES.map((l) => name(l.path))).toEqual([
      'inspect',
      'quantize',
      'compile',
      'setup',
      'setup contribute',
      'setup beacon',
      'setup verify',
      'run',
      'prove',
      'verify',
      'node',
      'deploy',
      'calldata',
      'export-verifier',
      'op deploy',
      'op claim',
      'op challenge',
      'op watch',
      'op status',
      'op finalize',
      'op settle',
      'op withdraw',
      'op demo',
      'result',
      'demo',
      // web (issue 19)
      'web',
      'bundle',
      // serve (issue 18)
      'serve',
      'worker',
    ])
    for (const l of LEAVES) expect(l.verb.usage.startsWith(`veriml ${name(l.path)}`), name(l.path)).toBe(true)
  })

  it.each(LEAVES.map((l) => [name(l.path), l] as const))(
    '%s --help prints its own usage and flags only',
    async (_, leaf) => {
      // `setup --help` is the group's; the fallback leaf's own help is `setup DIR --help`.
      const r = await cli(...leaf.path, ...(isFallback(leaf.path) ? ['DIR'] : []), '--help')
      expect(r.code).toBe(0)
      expect(r.stdout.startsWith(`usage: ${leaf.verb.usage}\n`)).toBe(true)
      expect(r.stdout).toContain(leaf.verb.summary)
      for (const other of LEAVES)
        if (other !== leaf) expect(r.stdout, `mentions ${name(other.path)}`).not.toContain(other.verb.usage)
      for (const flag of ALL_FLAGS) {
        const listed = new RegExp(`^  --${flag}( |$)`, 'm').test(r.stdout)
        expect(listed, `--${flag}`).toBe(flag in leaf.verb.flags)
      }
    },
  )

  it.each(LEAVES.map((l) => [name(l.path), l] as const))(
    '%s refuses a flag it does not declare, naming it',
    async (_, leaf) => {
      const foreign = [...ALL_FLAGS].find((f) => !(f in leaf.verb.flags))!
      const r = await cli(...leaf.path, 'ARG', `--${foreign}`, '5')
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${name(leaf.path)} takes no --${foreign}`)
      expect(r.stderr).toContain(`usage: ${leaf.verb.usage}`)
      const unknown = await cli(...leaf.path, 'ARG', '--frobnicate')
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain("Unknown option '--frobnicate'")
    },
  )

  it('op status X DIR --claim-bond 5 is refused: the flag belongs to op deploy', async () => {
    const r = await cli('op', 'status', `0x${'ab'.repeat(32)}`, 'build', '--claim-bond', '5')
    expect(r).toMatchObject({ code: 2, stdout: '' })
    expect(r.stderr).toContain('op status takes no --claim-bond')
  })

  it('--version prints the package version; help and --help list every leaf', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    expect(await cli('--version')).toEqual({ code: 0, stdout: `veriml ${version}`, stderr: '' })
    for (const argv of [['help'], ['--help']]) {
      const r = await cli(...argv)
      expect(r.code).toBe(0)
      for (const l of LEAVES) expect(r.stdout).toMatch(new RegExp(`^  ${name(l.path)}  `, 'm'))
    }
    const op = await cli('op', '--help')
    expect(op.code).toBe(0)
    for (const l of LEAVES.filter((l) => l.path[0] === 'op')) expect(op.stdout).toContain(l.verb.usage)
    expect(op.stdout).not.toContain('veriml compile')
    expect((await cli('help', 'setup', 'beacon')).stdout).toMatch(/^usage: veriml setup beacon DIR --hash HEX/)
    // A group's help, however asked for, lists its leaves (setup DIR among them).
    for (const argv of [
      ['setup', '--help'],
      ['setup', 'help'],
      ['help', 'setup'],
    ]) {
      const r = await cli(...argv)
      expect(r.code, argv.join(' ')).toBe(0)
      for (const l of LEAVES.filter((l) => l.path[0] === 'setup')) expect(r.stdout).toContain(l.verb.usage)
    }
  })

  it('a group given no or an unknown command is a usage error listing its commands', async () => {
    for (const argv of [['op'], ['op', 'bogus']]) {
      const r = await cli(...argv)
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(argv[1] ? /unknown op command "bogus"/ : /missing op command/)
      expect(r.stderr).toContain('usage: veriml op withdraw DIR')
    }
    for (const word of ['frobnicate', 'constructor', '__proto__']) {
      const r = await cli(word)
      expect(r.code, word).toBe(2)
      expect(r.stderr).toContain(`unknown command "${word}"`)
    }
    expect((await cli('op', 'toString')).stderr).toContain('unknown op command "toString"')
  })

  it('the unreachable-endpoint hint fits the verb: op verbs have no embedded chain', async () => {
    const dead = 'http://127.0.0.1:1'
    const game = `0x${'00'.repeat(19)}01`
    const r = await cli('op', 'status', `0x${'ab'.repeat(32)}`, '--game', game, '--rpc', dead)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`JSON-RPC endpoint ${dead} is unreachable`)
    expect(r.stderr).toContain('`veriml node`')
    expect(r.stderr).not.toContain('embedded')
  })
})
