import type { FlagSet, Flags } from './flags.js'
import { UsageError, table } from './format.js'

/**
 * A leaf of the command tree: what a user runs. Each leaf declares its own usage line, summary
 * and flags, so its `--help` shows only itself and a flag it does not declare is refused.
 */
export interface Verb {
  /** The full usage line, starting with `veriml`. */
  usage: string
  summary: string
  flags: FlagSet
  /**
   * What to try when its JSON-RPC endpoint cannot be reached. It depends on the verb: only
   * `verify --onchain` has an embedded chain to fall back on.
   */
  rpcHint?: string
  run(args: string[], flags: Flags): Promise<number>
}

/** A node with subcommands (`veriml`, `veriml setup`, `veriml op`). */
export interface Group {
  summary: string
  children: Record<string, Verb | Group>
  /** The leaf run when the first argument names no child: `veriml setup DIR`. */
  fallback?: Verb
}

export const isGroup = (node: Verb | Group): node is Group => 'children' in node

/** Every leaf under `group`, keyed by its path words (`['op', 'status']`). */
export function leaves(group: Group, path: string[] = []): { path: string[]; verb: Verb }[] {
  const out: { path: string[]; verb: Verb }[] = []
  if (group.fallback) out.push({ path, verb: group.fallback })
  for (const [name, node] of Object.entries(group.children))
    if (isGroup(node)) out.push(...leaves(node, [...path, name]))
    else out.push({ path: [...path, name], verb: node })
  return out
}

/** The positional arguments, exactly `n` of them, or a UsageError quoting the usage line. */
export function positional(args: string[], n: number, usage: string): string[] {
  if (args.length !== n)
    throw new UsageError(`expected ${n} argument${n === 1 ? '' : 's'}, got ${args.length}`, {
      details: [`usage: ${usage}`],
    })
  return args
}

/** `veriml … LEAF --help`: its usage, summary and its own flags only. */
export function verbHelp(v: Verb): string {
  const flags = Object.entries(v.flags).map(([k, o]) => [`  --${k}${o.type === 'string' ? ' VALUE' : ''}`, o.help])
  return [`usage: ${v.usage}`, '', v.summary, ...(flags.length ? ['', table(flags)] : [])].join('\n')
}

/** `veriml [GROUP] --help`: the leaves under a group, each with its summary, then their usage lines. */
export function groupHelp(group: Group, path: string[], title: string): string {
  const prefix = ['veriml', ...path].join(' ')
  const all = leaves(group, path)
  return [
    title,
    '',
    `usage: ${prefix} <command> [options]   (${prefix} <command> --help for its flags)`,
    '',
    table(all.map((l) => [`  ${l.path.join(' ') || prefix}`, l.verb.summary])),
    ...(path.length > 0 ? ['', ...all.map((l) => `  ${l.verb.usage}`)] : []),
  ].join('\n')
}
