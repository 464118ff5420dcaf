import { parseArgs } from 'node:util'
import { RpcUnreachableError } from '../chain/errors.js'
import { shutdown } from '../shutdown.js'
import { VERIML_VERSION } from '../util/versions.js'
import { redact, registerSecret } from '../util/secrets.js'
import { demo } from './verbs/demo.js'
import { type Flags, secretValues } from './flags.js'
import { UsageError, describeError } from './format.js'
import { type Group, type Verb, groupHelp, isGroup, leaves, verbHelp } from './verb.js'
import { deploy, node } from './verbs/chain.js'
import { compile, inspect, quantize } from './verbs/model.js'
import { op } from './verbs/op.js'
import { calldata, exportVerifierVerb, prove, run, verify } from './verbs/proof.js'
import { setup } from './verbs/setup.js'
import { result } from './verbs/result.js'
// web (issue 19): prove in the browser.
import { bundle, web } from './verbs/web.js'
// serve (issue 18): the prover service and its workers.
import { serve, worker } from './verbs/serve.js'

/** The command tree: groups down to leaf verbs, each leaf with its own usage, flags and help. */
export const COMMAND_TREE: Group = {
  summary: 'veriml — verifiable ML inference (zkML with Groth16)',
  children: {
    inspect,
    quantize,
    compile,
    setup,
    run,
    prove,
    verify,
    node,
    deploy,
    calldata,
    'export-verifier': exportVerifierVerb,
    op,
    // issue 17 (hub): the one result record of a statement
    result,
    demo,
    // web (issue 19): the proving page, served or bundled.
    web,
    bundle,
    // serve (issue 18): proving as a service.
    serve,
    worker,
  },
}

/** Every flag some leaf declares: one a leaf does not declare is "not taken here", not "unknown". */
const KNOWN_FLAGS = new Set(leaves(COMMAND_TREE).flatMap((l) => Object.keys(l.verb.flags)))

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h'

type Resolved =
  | { kind: 'verb'; path: string[]; verb: Verb; args: string[] }
  | { kind: 'group'; path: string[]; group: Group; rest: string[] }

/** Walks the command words down the tree: to a leaf, or to the group where they stop naming children. */
function resolve(argv: string[], { forHelp = false } = {}): Resolved {
  let group = COMMAND_TREE
  const path: string[] = []
  let args = argv
  for (;;) {
    // Own keys only: `veriml constructor` is an unknown command, not Object.prototype's.
    const child = args[0] !== undefined && Object.hasOwn(group.children, args[0]) ? group.children[args[0]] : undefined
    if (child === undefined) {
      // `veriml setup DIR` (and bare `veriml setup`, which the leaf answers with its usage).
      // For help, words that end at a group mean the group (`veriml help setup`).
      if (group.fallback && !(forHelp && args.length === 0) && !isHelp(args[0]) && args[0] !== 'help')
        return { kind: 'verb', path, verb: group.fallback, args }
      return { kind: 'group', path, group, rest: args }
    }
    path.push(args[0])
    args = args.slice(1)
    if (!isGroup(child)) return { kind: 'verb', path, verb: child, args }
    group = child
  }
}

/** `veriml help [COMMAND…]`, `veriml [GROUP] --help`, and a group given no or an unknown command. */
function runGroup(path: string[], group: Group, rest: string[]): number {
  const help = () =>
    groupHelp(group, path, group.summary) + (path.length === 0 ? '\n\nveriml --version prints the version.' : '')
  const [head, ...tail] = rest
  if (head === 'help' && tail.length === 0) {
    console.log(help())
    return 0
  }
  if (head === 'help') {
    const target = resolve([...path, ...tail], { forHelp: true })
    console.log(
      target.kind === 'verb' ? verbHelp(target.verb) : groupHelp(target.group, target.path, target.group.summary),
    )
    return 0
  }
  if (isHelp(head)) {
    console.log(help())
    return 0
  }
  if (path.length === 0) {
    if (head === undefined) {
      console.log(help())
      return 1
    }
    if (head === '--version') {
      console.log(`veriml ${VERIML_VERSION}`)
      return 0
    }
    console.error(redact(`error: unknown command "${head}"\n\n${help()}`))
    return 2
  }
  const name = path.join(' ')
  console.error(
    describeError(
      new UsageError({
        problem: head === undefined ? `missing ${name} command` : `unknown ${name} command "${head}"`,
        details: leaves(group, path).map((l) => `usage: ${l.verb.usage}`),
      }),
    ),
  )
  return 2
}

/** Flags this leaf does not take but another does: named as such, before the parser calls them unknown. */
function refuseForeignFlags(path: string[], verb: Verb, args: string[]): void {
  const { tokens } = parseArgs({ args, options: verb.flags, allowPositionals: true, strict: false, tokens: true })
  const foreign = [
    ...new Set(
      tokens.flatMap((t) =>
        t.kind === 'option' && !Object.hasOwn(verb.flags, t.name) && KNOWN_FLAGS.has(t.name) ? [t.name] : [],
      ),
    ),
  ]
  if (foreign.length > 0)
    throw new UsageError({
      problem: `${path.join(' ')} takes no ${foreign.map((k) => `--${k}`).join(', ')}`,
      details: [`usage: ${verb.usage}`],
    })
}

/** The verb's own hint for an endpoint it cannot reach (the library's hint cannot know the verb). */
function withVerbHint(error: unknown, verb: Verb): unknown {
  if (!(error instanceof RpcUnreachableError) || verb.rpcHint === undefined) return error
  return new RpcUnreachableError({ rpcUrl: error.rpcUrl, hint: verb.rpcHint, cause: error.cause })
}

async function runVerb(path: string[], verb: Verb, args: string[]): Promise<number> {
  if (args.some(isHelp)) {
    console.log(verbHelp(verb))
    return 0
  }
  try {
    refuseForeignFlags(path, verb, args)
    const { values, positionals } = parseArgs({ args, options: verb.flags, allowPositionals: true, strict: true })
    return await verb.run(positionals, values as Flags)
  } catch (error) {
    const usage =
      error instanceof Error &&
      'code' in error &&
      String((error as { code: unknown }).code).startsWith('ERR_PARSE_ARGS')
    console.error(
      usage
        ? redact(`error: ${(error as Error).message}\nusage: ${verb.usage}`)
        : describeError(withVerbHint(error, verb)),
    )
    return usage || error instanceof UsageError ? 2 : 1
  } finally {
    await shutdown()
  }
}

/** CLI entry: returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // Before anything can fail: whatever is printed from here on is redacted of these.
  for (const v of secretValues(argv)) registerSecret(v)
  registerSecret(process.env.VERIML_PRIVATE_KEY)
  const r = resolve(argv)
  return r.kind === 'verb' ? runVerb(r.path, r.verb, r.args) : runGroup(r.path, r.group, r.rest)
}
