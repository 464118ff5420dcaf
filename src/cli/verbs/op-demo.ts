// The one import of the optimistic demo: helper B moves it to src/cli/demos/optimistic.ts (issue 14),
// and this line is the only one that follows it. `moveName` is re-exported for the op verbs.
import { moveName, runOptimisticDemo } from '../demos/optimistic.js'
import type { Flags } from '../flags.js'
import { UsageError, table } from '../format.js'
import { type Verb, positional } from '../verb.js'
import { OP_FLAG, eth, out, pollMs, readJson } from './op-common.js'

export { moveName }

/** `veriml op demo`: honest and cheating claims played out on an embedded chain. */
export const demo: Verb = {
  usage: 'veriml op demo [--model model.onnx --input input.json [--calibration samples.json]] [--json]',
  summary: 'honest and cheating claims of a model on an embedded anvil, every transaction and bond shown',
  flags: {
    model: { type: 'string', help: 'ONNX model (default: test/fixtures/tiny-mlp.onnx with a fixed input)' },
    input: OP_FLAG.input,
    calibration: { type: 'string', help: 'calibration samples (JSON), as for `veriml compile`' },
    json: { type: 'boolean', help: 'print one JSON object {transactions, outcome, bonds} and nothing else on stdout' },
    'poll-ms': OP_FLAG['poll-ms'],
  },
  run: runDemo,
}

async function runDemo(pos: string[], flags: Flags): Promise<number> {
  positional(pos, 0, demo.usage)
  if (flags.model !== undefined && typeof flags.input !== 'string')
    throw new UsageError('--input FILE is required with --model', { details: [`usage: ${demo.usage}`] })
  const input = typeof flags.input === 'string' ? await readJson(flags.input) : undefined
  const json = Boolean(flags.json)
  const r = await runOptimisticDemo({
    modelPath: flags.model as string | undefined,
    input,
    calibrationPath: flags.calibration as string | undefined,
    log: json ? undefined : (line) => out(`· ${line}`),
    pollMs: flags['poll-ms'] === undefined ? undefined : pollMs(flags),
  })
  const b = r.bonds
  const party = (p: { deposited: bigint; withdrawn: bigint }) => ({
    deposited: String(p.deposited),
    withdrawn: String(p.withdrawn),
    net: String(p.withdrawn - p.deposited),
  })
  if (json) {
    out(
      JSON.stringify({
        transactions: r.transactions.map((t) => ({
          who: t.who,
          action: t.action,
          gas: Number(t.gasUsed),
          calldataBytes: t.calldataBytes,
        })),
        outcome: {
          ok: r.ok,
          honestClaim: r.honest.status,
          cheatingClaim: r.cheat.status,
          watcherVerdicts: { honest: r.honest.verdict, cheating: r.cheat.verdict },
          lie: r.lie,
        },
        bonds: {
          claimant: party(b.claimant),
          cheater: party(b.cheater),
          watcher: party(b.watcher),
          burned: String(b.burned),
        },
      }),
    )
    return r.ok ? 0 : 1
  }
  out('')
  out(
    table([
      ['who', 'transaction', 'gas', 'calldata bytes'],
      ...r.transactions.map((t) => [t.who, t.action, String(t.gasUsed), String(t.calldataBytes)]),
    ]),
  )
  const net = (p: { deposited: bigint; withdrawn: bigint }) =>
    `deposited ${eth(p.deposited)}, withdrew ${eth(p.withdrawn)} (net ${eth(p.withdrawn - p.deposited)})`
  out('')
  out(
    table([
      ['honest claim', `${r.honest.status}; watcher verdict: ${r.honest.verdict}`],
      [
        'cheating claim',
        `${r.cheat.status}; watcher verdict: ${r.cheat.verdict}; lie at element ${r.lie.element} of state ${r.lie.state} (${r.lie.origin}, ${r.lie.terms} terms)`,
      ],
      ['claimant', net(b.claimant)],
      ['cheater', net(b.cheater)],
      ['watcher', net(b.watcher)],
      ['burned', eth(b.burned)],
      ['outcome', r.ok ? 'the honest side lost nothing' : 'FAILED: the honest side lost'],
    ]),
  )
  return r.ok ? 0 : 1
}
