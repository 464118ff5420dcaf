import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN } from '../helpers/cli.js'

/**
 * Issue 14 item 9: `--help`, `--version` and the dispatcher's usage errors load none of the heavy
 * libraries (they cost ~1 s of start-up). The built CLI (dist/, rebuilt by the global setup) runs
 * in a child whose resolve hook records every specifier imported, statically or dynamically.
 */
const HEAVY = ['ethers', 'snarkjs', 'onnxruntime-node', 'circomlibjs'] as const

let tmp: string
let register: string
let runs = 0

/** The bare package names the CLI imported while running `args` (and its exit code). */
async function importsOf(args: string[]): Promise<{ code: number; packages: Set<string> }> {
  const log = join(tmp, `imports-${runs++}.log`)
  await writeFile(log, '')
  const code = await new Promise<number>((resolve) => {
    execFile(
      process.execPath,
      ['--import', pathToFileURL(register).href, BIN, ...args],
      { env: { ...process.env, VERIML_IMPORT_LOG: log }, timeout: 60_000 },
      (error) => resolve(error ? Number((error as { code?: unknown }).code ?? -1) : 0),
    )
  })
  const specifiers = (await readFile(log, 'utf8')).split('\n').filter(Boolean)
  // `ethers/lib/…` and `@scope/pkg/…` name their package; relative, absolute and node: ones none.
  const packages = specifiers
    .filter((s) => !/^(\.|\/|node:|file:|data:)/.test(s))
    .map((s) =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    )
  return { code, packages: new Set(packages) }
}

describe('CLI start-up loads no heavy library for help, version and usage errors', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'veriml-startup-'))
    const hooks = join(tmp, 'hooks.mjs')
    register = join(tmp, 'register.mjs')
    await writeFile(
      hooks,
      `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  appendFileSync(process.env.VERIML_IMPORT_LOG, specifier + '\\n')
  return next(specifier, context)
}
`,
    )
    await writeFile(
      register,
      `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\n`,
    )
  })
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  it.each([
    ['--help', ['--help'], 0],
    ['--version', ['--version'], 0],
    ['no command', [], 1],
    ['help setup', ['help', 'setup'], 0],
    ['op claim --help', ['op', 'claim', '--help'], 0],
    ['an unknown command', ['bogus'], 2],
    ['an unknown op command', ['op', 'bogus'], 2],
    ['a flag another verb takes', ['op', 'status', '0x01', '--claim-bond', '5'], 2],
    ['an unknown flag', ['prove', 'DIR', '--no-such-flag'], 2],
    ['a missing argument', ['prove', '--input', 'x.json'], 2],
    ['an extra argument', ['op', 'claim', 'DIR', 'EXTRA'], 2],
  ])('%s', async (_, args, expectedCode) => {
    const { code, packages } = await importsOf(args as string[])
    expect(code).toBe(expectedCode)
    for (const heavy of HEAVY) expect(packages.has(heavy), heavy).toBe(false)
  })

  it('the hook sees what a verb that runs imports (so the checks above can fail)', async () => {
    // `op status` connects with ethers before it can find the endpoint unreachable.
    const { code, packages } = await importsOf([
      'op',
      'status',
      `0x${'01'.repeat(32)}`,
      '--game',
      `0x${'02'.repeat(20)}`,
      '--rpc',
      'http://127.0.0.1:9',
    ])
    expect(code).toBe(1)
    expect(packages.has('ethers')).toBe(true)
  })
})
