import { readFile } from 'node:fs/promises'
import type { Contract, EventLog, Signer } from 'ethers'
import { connect, walletFor } from '../../chain/rpc.js'
import { runModel } from '../../prove/prove.js'
import { sendBatch } from '../../optimistic/batch.js'
import { DISPUTE_BUDGET, type TxCost } from '../../optimistic/budget.js'
import { gameContract, readClaim, readDispute, submitClaim, withdrawCredit } from '../../optimistic/client.js'
import { moveName, runOptimisticDemo } from '../../optimistic/demo.js'
import {
  DEFAULT_GAME_PARAMETERS,
  deployOptimisticModel,
  loadOptimisticDeployment,
  loadOptimisticModel,
  openDeployment,
  optimisticPath,
  type OptimisticDeployment,
} from '../../optimistic/deployment.js'
import { GameRevertError } from '../../optimistic/errors.js'
import type { Hex } from '../../optimistic/merkle.js'
import { ClaimNotFoundError, DeploymentMismatchError } from '../../optimistic/op-errors.js'
import { claimFromLog } from '../../optimistic/posted.js'
import { callIntent, claimLog, findClaim, gameNow, playSeat } from '../../optimistic/remote.js'
import { buildTrace } from '../../optimistic/trace.js'
import { defendClaim, disputeIfWrong, type GameContext, type WatchEvent, watchClaims } from '../../optimistic/watch.js'
import { queryLogs } from '../../optimistic/logs.js'
import { UsageError, table } from '../format.js'

type Flags = Record<string, string | boolean | undefined>

/** Every flag of every op command (the parser takes their union; each command then accepts only its own). */
export const OP_OPTIONS: Record<string, { type: 'string' | 'boolean'; help: string }> = {
  rpc: { type: 'string', help: 'JSON-RPC endpoint (default http://127.0.0.1:8545)' },
  'private-key': { type: 'string', help: 'sender key (else env VERIML_PRIVATE_KEY); never printed' },
  input: { type: 'string', help: 'input JSON, as for `veriml run`' },
  defend: { type: 'boolean', help: 'keep running: answer every dispute, finalise after the window' },
  'claim-bond': { type: 'string', help: `claim bond in wei (default ${DEFAULT_GAME_PARAMETERS.claimBond})` },
  'challenge-bond': {
    type: 'string',
    help: `challenge bond in wei (default ${DEFAULT_GAME_PARAMETERS.challengeBond})`,
  },
  'challenge-window': {
    type: 'string',
    help: `seconds a claim can be challenged (default ${DEFAULT_GAME_PARAMETERS.challengeWindow})`,
  },
  'move-timeout': { type: 'string', help: `seconds per dispute move (default ${DEFAULT_GAME_PARAMETERS.moveTimeout})` },
  'from-block': { type: 'string', help: 'first block to scan (default: the deployment block)' },
  game: { type: 'string', help: 'game address, when no build folder is given' },
  'poll-ms': { type: 'string', help: 'milliseconds between chain polls (default 1000)' },
  model: { type: 'string', help: 'ONNX model (default: test/fixtures/tiny-mlp.onnx with a fixed input)' },
  calibration: { type: 'string', help: 'calibration samples (JSON), as for `veriml compile`' },
  json: { type: 'boolean', help: 'print one JSON object {transactions, outcome, bonds} and nothing else on stdout' },
}

interface OpCommand {
  usage: string
  summary: string
  /** Names in OP_OPTIONS this command accepts. */
  options: string[]
  run(pos: string[], flags: Flags): Promise<number>
}

const DEFAULT_RPC = 'http://127.0.0.1:8545'
const out = (line: string) => console.log(line)
const eth = (wei: bigint) => `${Number(wei) / 1e18} ETH`
/** Output tensors as one JSON line (bigints as strings). */
const tensorsJson = (tensors: bigint[][]) => JSON.stringify(tensors.map((t) => t.map(String)))

function args(positionals: string[], n: number, usage: string): string[] {
  if (positionals.length !== n)
    throw new UsageError(`expected ${n} argument${n === 1 ? '' : 's'}, got ${positionals.length}`, {
      details: [`usage: veriml ${usage}`],
    })
  return positionals
}

function integerFlag(flags: Flags, name: string): bigint | undefined {
  const v = flags[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d+$/.test(v))
    throw new UsageError(`--${name} must be a non-negative integer; got "${String(v)}"`)
  return BigInt(v)
}

const pollMs = (flags: Flags) => Number(integerFlag(flags, 'poll-ms') ?? 1_000n)

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((cause) => {
    throw new UsageError(`cannot read ${path}`, { cause })
  })
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new UsageError(`${path} is not valid JSON`, { cause })
  }
}

/** Ctrl-C (or SIGTERM) aborts the returned signal; `release` removes the handlers. */
function interruptSignal(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    },
  }
}

interface Opened {
  deployment: OptimisticDeployment
  ctx: GameContext
  address: string
}

/** optimistic.json + compiled model + chain, checked against each other; the game connected to the signer. */
async function open(dir: string, flags: Flags): Promise<Opened> {
  const deployment = await loadOptimisticDeployment(dir)
  const model = await loadOptimisticModel(dir)
  const { provider, chainId } = await connect(String(flags.rpc ?? DEFAULT_RPC))
  const wallet = walletFor(provider, flags['private-key'] as string | undefined)
  const game = await openDeployment({ dir, deployment, model, runner: wallet, chainId })
  const ctx: GameContext = {
    game,
    modelId: deployment.modelId,
    model: model.model,
    params: model.params,
    challengeBond: deployment.challengeBond,
    challengeWindow: deployment.challengeWindow,
  }
  return { deployment, ctx, address: wallet.address }
}

/** optimistic.json + chain only (no model needed): the game connected to the signer. */
async function openGame(
  dir: string,
  flags: Flags,
): Promise<{ deployment: OptimisticDeployment; game: Contract; address: string }> {
  const deployment = await loadOptimisticDeployment(dir)
  const { provider, chainId } = await connect(String(flags.rpc ?? DEFAULT_RPC))
  const path = optimisticPath(dir)
  if (deployment.chainId !== chainId)
    throw new DeploymentMismatchError({
      path,
      what: 'chain',
      expected: String(deployment.chainId),
      actual: String(chainId),
      hint: 'Pass the --rpc of the chain the game was deployed to.',
    })
  if ((await provider.getCode(deployment.gameAddress)) === '0x')
    throw new DeploymentMismatchError({
      path,
      what: 'a game at',
      expected: deployment.gameAddress,
      actual: 'no contract code there',
      hint: 'The chain was reset or --rpc points elsewhere.',
    })
  const wallet = walletFor(provider, flags['private-key'] as string | undefined)
  return { deployment, game: gameContract(deployment.gameAddress, wallet), address: wallet.address }
}

function eventLine(e: WatchEvent): string {
  switch (e.type) {
    case 'claim':
      return `claim ${e.claimId}: ${e.verdict === 'wrong' ? 'WRONG — disputing it' : e.verdict}`
    case 'challenged':
      return `  challenged: dispute ${e.disputeId} (gas ${e.gasUsed}, ${e.calldataBytes} calldata bytes)`
    case 'move':
      return `  ${e.sent.role} ${moveName(e.sent)} in ${e.sent.phase} (gas ${e.sent.gasUsed}, ${e.sent.calldataBytes} calldata bytes)`
    case 'resolved':
      return `  dispute ${e.disputeId} resolved: ${e.claimantWon ? 'the claimant won' : 'the challenger won, the claim is rejected'}`
    case 'finalized':
      return `claim ${e.claimId} finalised (gas ${e.gasUsed}); withdraw the bond with \`veriml op withdraw DIR\``
    case 'error':
      return `  error${e.claimId ? ` (claim ${e.claimId.slice(0, 10)}…)` : ''}${e.disputeId ? ` (dispute ${e.disputeId.slice(0, 10)}…)` : ''}: ${e.message}; retrying`
  }
}

const worstTx = (t: TxCost) =>
  `${t.tx}${t.stepIndex === null ? '' : ` at step ${t.stepIndex} (${t.origin})`}: ≤ ${t.gasBound} gas, ${t.calldataBytes} calldata bytes (budget ${DISPUTE_BUDGET.gas} gas, ${DISPUTE_BUDGET.calldataBytes} bytes)`

async function deploy(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, COMMANDS.deploy.usage)
  if (typeof flags.rpc !== 'string') throw new UsageError('--rpc URL is required for op deploy')
  const { provider, chainId } = await connect(flags.rpc)
  const wallet = walletFor(provider, flags['private-key'] as string | undefined)
  const parameters = {
    claimBond: integerFlag(flags, 'claim-bond'),
    challengeBond: integerFlag(flags, 'challenge-bond'),
    challengeWindow: integerFlag(flags, 'challenge-window'),
    moveTimeout: integerFlag(flags, 'move-timeout'),
  }
  for (const k of ['challengeWindow', 'moveTimeout'] as const)
    if (parameters[k] === 0n)
      throw new UsageError(`--${k === 'challengeWindow' ? 'challenge-window' : 'move-timeout'} must be positive`)
  const defined = Object.fromEntries(Object.entries(parameters).filter(([, v]) => v !== undefined))
  const d = await deployOptimisticModel({ dir, runner: wallet, chainId, parameters: defined })
  out(
    table([
      ['chain id', String(d.chainId)],
      ['game', `${d.gameAddress} (gas ${d.gasUsed.game})`],
      ['executor', `${d.executorAddress} (gas ${d.gasUsed.executor})`],
      ['model id', `${d.modelId} (register gas ${d.gasUsed.register})`],
      ['bonds', `claim ${eth(d.claimBond)}, challenge ${eth(d.challengeBond)}`],
      ['clocks', `challenge window ${d.challengeWindow} s, ${d.moveTimeout} s per move`],
      ...(d.worstDisputeTx ? [['worst dispute tx', worstTx(d.worstDisputeTx)]] : []),
      ['written', optimisticPath(dir)],
    ]),
  )
  return 0
}

async function claim(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, COMMANDS.claim.usage)
  if (typeof flags.input !== 'string') throw new UsageError('--input FILE is required for op claim')
  const json = await readJson(flags.input)
  const { deployment, ctx } = await open(dir, flags)
  const run = await runModel(dir, json)
  const trace = buildTrace(ctx.model, run.inputs)
  const fromBlock = await ctx.game.runner!.provider!.getBlockNumber()
  const submitted = await submitClaim(ctx.game, deployment.modelId, trace, deployment.claimBond)
  out(`claim ${submitted.claimId}`)
  out(
    table([
      ['output', tensorsJson(trace.outputs)],
      ['bond', eth(deployment.claimBond)],
      ['gas', String(submitted.gasUsed)],
      ['window', `${deployment.challengeWindow} s`],
    ]),
  )
  if (!flags.defend) return 0
  out('defending: answering disputes until the window closes (Ctrl-C to stop)')
  const { signal, release } = interruptSignal()
  try {
    const r = await defendClaim({
      ...ctx,
      claimId: submitted.claimId,
      key: submitted.key,
      trace,
      fromBlock,
      pollMs: pollMs(flags),
      signal,
      onEvent: (e) => out(eventLine(e)),
    })
    out(`claim ${submitted.claimId}: ${r.status}`)
    return r.status === 'Rejected' ? 1 : 0
  } finally {
    release()
  }
}

async function challenge(pos: string[], flags: Flags): Promise<number> {
  const [claimId, dir] = args(pos, 2, COMMANDS.challenge.usage)
  const { deployment, ctx } = await open(dir, flags)
  const posted = await findClaim(ctx.game, claimId, ctx.params.layout, {
    fromBlock: deployment.deployBlock,
    modelId: deployment.modelId,
  })
  const seat = await disputeIfWrong(ctx, posted, (e) => out(eventLine(e)))
  if (!seat) return 0
  const { signal, release } = interruptSignal()
  try {
    const view = await playSeat(ctx.game, seat, {
      pollMs: pollMs(flags),
      signal,
      onMove: (sent) => out(eventLine({ type: 'move', claimId: posted.claimId, sent })),
      onError: (message) =>
        out(eventLine({ type: 'error', claimId: posted.claimId, disputeId: seat.disputeId, message })),
    })
    if (!view) {
      out(`stopped; dispute ${seat.disputeId} is still open: run op challenge again to resume it`)
      return 1
    }
    out(
      eventLine({
        type: 'resolved',
        claimId: posted.claimId,
        disputeId: seat.disputeId,
        claimantWon: view.claimantWon,
      }),
    )
    return view.claimantWon ? 1 : 0
  } finally {
    release()
  }
}

async function watch(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, COMMANDS.watch.usage)
  const { deployment, ctx, address } = await open(dir, flags)
  const fromBlock = Number(integerFlag(flags, 'from-block') ?? BigInt(deployment.deployBlock))
  out(
    `watching model ${deployment.modelId} in game ${deployment.gameAddress} from block ${fromBlock} as ${address} (Ctrl-C to stop)`,
  )
  const { signal, release } = interruptSignal()
  try {
    const r = await watchClaims({ ...ctx, fromBlock, pollMs: pollMs(flags), signal, onEvent: (e) => out(eventLine(e)) })
    out(`stopped: ${r.checked} claims checked, ${r.disputes.length} disputes resolved, ${r.open.length} still open`)
    return 0
  } finally {
    release()
  }
}

async function status(pos: string[], flags: Flags): Promise<number> {
  if (pos.length < 1 || pos.length > 2 || (pos.length === 1) === (typeof flags.game !== 'string')) {
    throw new UsageError('give the claim id and either the build folder or --game ADDRESS', {
      details: [`usage: veriml ${COMMANDS.status.usage}`],
    })
  }
  const [claimId, dir] = pos
  const deployment = dir ? await loadOptimisticDeployment(dir) : undefined
  const { provider } = await connect(String(flags.rpc ?? DEFAULT_RPC))
  const gameAddress = deployment?.gameAddress ?? String(flags.game)
  const game = gameContract(gameAddress, provider)
  const log = await claimLog(game, claimId as Hex, { fromBlock: deployment?.deployBlock })
  if (!log) throw new ClaimNotFoundError({ claimId, gameAddress })
  const record = await readClaim(game, claimId as Hex)
  const { key, outputs } = claimFromLog(log)
  const config = await game.model(key.modelId)
  const closesAt = record.createdAt + (config.challengeWindow as bigint)
  const now = await gameNow(provider)
  const rows: string[][] = [
    ['claim', claimId],
    ['status', record.status],
    ['claimant', record.claimant],
    ['model id', key.modelId],
    ['output', tensorsJson(outputs)],
    ['window', now > closesAt ? `closed at ${closesAt}` : `open for ${closesAt - now} s more (closes at ${closesAt})`],
    ['open disputes', String(record.openDisputes)],
  ]
  for (const l of await queryLogs(
    game,
    game.filters.Challenged(null, claimId),
    log.blockNumber,
    await provider.getBlockNumber(),
  )) {
    const { disputeId } = (l as EventLog).args as unknown as { disputeId: Hex }
    const d = await readDispute(game, disputeId)
    const state =
      d.phase === 'Resolved'
        ? d.claimantWon
          ? 'resolved: claimant won'
          : 'resolved: challenger won'
        : `${d.phase}, states ${d.lo}..${d.hi}, deadline ${d.deadline}`
    rows.push([`dispute ${disputeId.slice(0, 10)}…`, `by ${d.challenger}: ${state}`])
  }
  out(table(rows))
  return 0
}

async function finalize(pos: string[], flags: Flags): Promise<number> {
  const [claimId, dir] = args(pos, 2, COMMANDS.finalize.usage)
  const { deployment, game } = await openGame(dir, flags)
  const log = await claimLog(game, claimId as Hex, { fromBlock: deployment.deployBlock, modelId: deployment.modelId })
  if (!log) throw new ClaimNotFoundError({ claimId, gameAddress: deployment.gameAddress, modelId: deployment.modelId })
  const record = await readClaim(game, claimId as Hex)
  if (record.status !== 'Pending') {
    out(`claim ${claimId} is already ${record.status}: nothing to finalise`)
    return record.status === 'Finalized' ? 0 : 1
  }
  if (record.openDisputes > 0) {
    out(
      `claim ${claimId} has ${record.openDisputes} live dispute${record.openDisputes === 1 ? '' : 's'}: it can be finalised once they are resolved (see op status)`,
    )
    return 1
  }
  const closesAt = record.createdAt + deployment.challengeWindow
  const now = await gameNow(game.runner!.provider!)
  if (now <= closesAt) {
    out(
      `claim ${claimId}: the challenge window is still open for ${closesAt - now + 1n} s (until ${closesAt}); finalise after it`,
    )
    return 1
  }
  const [o] = await sendBatch(game.runner as Signer, [
    callIntent(game, 'finalize', 'finalize', [claimFromLog(log).key], null),
  ])
  if (o.state === 'mined') {
    out(
      `claim ${claimId} finalised (gas ${o.gasUsed}); the claim bond is credited to ${record.claimant}: \`veriml op withdraw DIR\` with its key`,
    )
    return 0
  }
  const error = o.state === 'unsent' ? undefined : o.error
  if (error instanceof GameRevertError && error.errorName === 'ChallengeWindowOpen') {
    out(`claim ${claimId}: the chain's clock has not yet passed the window's end (${closesAt}); try again shortly`)
    return 1
  }
  if (error instanceof GameRevertError && error.errorName === 'ClaimNotPending') {
    out(`claim ${claimId} was settled meanwhile: ${(await readClaim(game, claimId as Hex)).status}`)
    return 0
  }
  throw error ?? new Error('finalize was not sent')
}

async function withdraw(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, COMMANDS.withdraw.usage)
  const { game, address } = await openGame(dir, flags)
  const credit = (await game.credit(address)) as bigint
  if (credit === 0n) {
    out(`nothing to withdraw: ${address} has no credit in the game`)
    return 0
  }
  const { gasUsed } = await withdrawCredit(game)
  out(`withdrew ${eth(credit)} (${credit} wei) to ${address} (gas ${gasUsed})`)
  return 0
}

async function demo(pos: string[], flags: Flags): Promise<number> {
  args(pos, 0, COMMANDS.demo.usage)
  if (flags.model !== undefined && typeof flags.input !== 'string')
    throw new UsageError('--input FILE is required with --model', { details: [`usage: veriml ${COMMANDS.demo.usage}`] })
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

const COMMANDS: Record<string, OpCommand> = {
  deploy: {
    usage:
      'op deploy DIR --rpc URL [--private-key KEY] [--claim-bond WEI] [--challenge-bond WEI] [--challenge-window S] [--move-timeout S]',
    summary: 'deploys the game and executor, registers the compiled model, writes DIR/optimistic.json',
    options: ['rpc', 'private-key', 'claim-bond', 'challenge-bond', 'challenge-window', 'move-timeout'],
    run: deploy,
  },
  claim: {
    usage: 'op claim DIR --input input.json [--rpc URL] [--private-key KEY] [--defend] [--poll-ms MS]',
    summary: "posts a claim of the model's output on an input (and defends it with --defend)",
    options: ['rpc', 'private-key', 'input', 'defend', 'poll-ms'],
    run: claim,
  },
  challenge: {
    usage: 'op challenge CLAIM_ID DIR [--rpc URL] [--private-key KEY] [--poll-ms MS]',
    summary: 'recomputes a claim; if it is wrong, disputes it and plays the dispute to the end',
    options: ['rpc', 'private-key', 'poll-ms'],
    run: challenge,
  },
  watch: {
    usage: 'op watch DIR [--rpc URL] [--private-key KEY] [--from-block N] [--poll-ms MS]',
    summary: 'checks every claim of the model and disputes the wrong ones, until Ctrl-C',
    options: ['rpc', 'private-key', 'from-block', 'poll-ms'],
    run: watch,
  },
  status: {
    usage: 'op status CLAIM_ID (DIR | --game ADDRESS) [--rpc URL]',
    summary: "a claim's status, window and disputes",
    options: ['rpc', 'game'],
    run: status,
  },
  finalize: {
    usage: 'op finalize CLAIM_ID DIR [--rpc URL] [--private-key KEY]',
    summary: 'finalises a claim once its window has closed with no live dispute (anyone may)',
    options: ['rpc', 'private-key'],
    run: finalize,
  },
  withdraw: {
    usage: 'op withdraw DIR [--rpc URL] [--private-key KEY]',
    summary: "withdraws this account's credit (bonds won or returned) from the game",
    options: ['rpc', 'private-key'],
    run: withdraw,
  },
  demo: {
    usage: 'op demo [--model model.onnx --input input.json [--calibration samples.json]] [--json]',
    summary: 'honest and cheating claims of a model on an embedded anvil, every transaction and bond shown',
    options: ['model', 'input', 'calibration', 'json', 'poll-ms'],
    run: demo,
  },
}

export const OP_USAGE = [
  'veriml op <command> …   (veriml op <command> --help for its options)',
  ...Object.values(COMMANDS).map((c) => `  ${c.usage}`),
].join('\n')

/** `veriml op [COMMAND] --help`: one command's usage and options, or the list of commands. */
export function opHelp(positionals: string[]): string {
  const command = COMMANDS[positionals.find((p) => !p.startsWith('-') && p !== 'help') ?? '']
  if (!command)
    return [
      `usage: ${OP_USAGE}`,
      '',
      table(Object.entries(COMMANDS).map(([name, c]) => [`  ${name}`, c.summary])),
    ].join('\n')
  const options = command.options.map((k) => [
    `  --${k}${OP_OPTIONS[k].type === 'string' ? ' VALUE' : ''}`,
    OP_OPTIONS[k].help,
  ])
  return [`usage: veriml ${command.usage}`, '', command.summary, '', table(options)].join('\n')
}

/** `veriml op <command>`: dispatches to the optimistic path's subcommands; each accepts only its own flags. */
export async function runOp(positionals: string[], flags: Flags): Promise<number> {
  const [name, ...rest] = positionals
  if (name === 'help') {
    out(opHelp(rest))
    return 0
  }
  const command = name === undefined ? undefined : COMMANDS[name]
  if (!command)
    throw new UsageError(name === undefined ? 'missing op command' : `unknown op command "${name}"`, {
      details: [OP_USAGE],
    })
  const foreign = Object.keys(flags).filter((k) => flags[k] !== undefined && !command.options.includes(k))
  if (foreign.length > 0)
    throw new UsageError(`op ${name} takes no ${foreign.map((k) => `--${k}`).join(', ')}`, {
      details: [`usage: veriml ${command.usage}`],
    })
  return command.run(rest, flags)
}
