import { readFile } from 'node:fs/promises'
import type { Contract, EventLog } from 'ethers'
import { connect, walletFor } from '../chain/rpc.js'
import { runModel } from '../prove/prove.js'
import { gameContract, readClaim, readDispute, submitClaim } from '../optimistic/client.js'
import { claimKeyOf } from '../optimistic/config.js'
import { runOptimisticDemo, moveName } from '../optimistic/demo.js'
import { DEFAULT_GAME_PARAMETERS, deployOptimisticModel, loadOptimisticDeployment, loadOptimisticModel, openDeployment, optimisticPath, type OptimisticDeployment } from '../optimistic/deployment.js'
import type { Hex } from '../optimistic/merkle.js'
import { ClaimNotFoundError } from '../optimistic/op-errors.js'
import { findClaim, playSeat } from '../optimistic/remote.js'
import { buildTrace } from '../optimistic/trace.js'
import { defendClaim, disputeIfWrong, type GameContext, type WatchEvent, watchClaims } from '../optimistic/watch.js'
import { UsageError, table } from './format.js'

type Flags = Record<string, string | boolean | undefined>

export const OP_USAGE = [
  'veriml op <command> …',
  '  op deploy DIR --rpc URL [--claim-bond WEI] [--challenge-bond WEI] [--challenge-window S] [--move-timeout S]',
  '  op claim DIR --input input.json [--rpc URL] [--defend]',
  '  op challenge CLAIM_ID DIR [--rpc URL]',
  '  op watch DIR [--rpc URL] [--from-block N]',
  '  op status CLAIM_ID (DIR | --game ADDRESS) [--rpc URL]',
  '  op demo',
].join('\n')

export const OP_OPTIONS: Record<string, { type: 'string' | 'boolean'; help: string }> = {
  rpc: { type: 'string', help: 'JSON-RPC endpoint (default http://127.0.0.1:8545)' },
  'private-key': { type: 'string', help: 'sender key (else env VERIML_PRIVATE_KEY); never printed' },
  input: { type: 'string', help: 'claim: input JSON, as for `veriml run`' },
  defend: { type: 'boolean', help: 'claim: keep running, answer every dispute, finalise after the window' },
  'claim-bond': { type: 'string', help: `deploy: claim bond in wei (default ${DEFAULT_GAME_PARAMETERS.claimBond})` },
  'challenge-bond': { type: 'string', help: `deploy: challenge bond in wei (default ${DEFAULT_GAME_PARAMETERS.challengeBond})` },
  'challenge-window': { type: 'string', help: `deploy: seconds a claim can be challenged (default ${DEFAULT_GAME_PARAMETERS.challengeWindow})` },
  'move-timeout': { type: 'string', help: `deploy: seconds per dispute move (default ${DEFAULT_GAME_PARAMETERS.moveTimeout})` },
  'from-block': { type: 'string', help: 'watch: first block to scan (default: the deployment block)' },
  game: { type: 'string', help: 'status: game address, when no build folder is given' },
  'poll-ms': { type: 'string', help: 'milliseconds between chain polls (default 1000)' },
}

const DEFAULT_RPC = 'http://127.0.0.1:8545'
const out = (line: string) => console.log(line)
const eth = (wei: bigint) => `${Number(wei) / 1e18} ETH`

function args(positionals: string[], n: number, usage: string): string[] {
  if (positionals.length !== n) throw new UsageError(`expected ${n} argument${n === 1 ? '' : 's'}, got ${positionals.length}`, { details: [`usage: veriml ${usage}`] })
  return positionals
}

function integerFlag(flags: Flags, name: string): bigint | undefined {
  const v = flags[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer; got "${String(v)}"`)
  return BigInt(v)
}

const pollMs = (flags: Flags) => Number(integerFlag(flags, 'poll-ms') ?? 1_000n)

/** Ctrl-C (or SIGTERM) aborts the returned signal; `release` removes the handlers. */
function interruptSignal(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return { signal: controller.signal, release: () => { process.off('SIGINT', stop); process.off('SIGTERM', stop) } }
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
  const ctx: GameContext = { game, modelId: deployment.modelId, model: model.model, params: model.params, challengeBond: deployment.challengeBond, challengeWindow: deployment.challengeWindow }
  return { deployment, ctx, address: wallet.address }
}

function printEvent(e: WatchEvent): void {
  switch (e.type) {
    case 'claim': return out(`claim ${e.claimId}: ${e.verdict === 'wrong' ? 'WRONG — disputing it' : e.verdict === 'input mismatch' ? 'INPUT ROOT WRONG — proving it' : e.verdict}`)
    case 'challenged': return out(`  challenged: dispute ${e.disputeId} (gas ${e.gasUsed})`)
    case 'input-mismatch-proved': return out(`  input mismatch proven (gas ${e.gasUsed}): the claim is rejected, its bond credited to this account`)
    case 'move': return out(`  ${e.sent.role} ${moveName(e.sent)} in ${e.sent.phase} (gas ${e.sent.gasUsed})`)
    case 'resolved': return out(`  dispute ${e.disputeId} resolved: ${e.claimantWon ? 'the claimant won' : 'the challenger won, the claim is rejected'}`)
    case 'finalized': return out(`claim ${e.claimId} finalised (gas ${e.gasUsed}); withdraw the bond with the game's withdraw()`)
  }
}

async function deploy(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, 'op deploy DIR --rpc URL')
  if (typeof flags.rpc !== 'string') throw new UsageError('--rpc URL is required for op deploy')
  const { provider, chainId } = await connect(flags.rpc)
  const wallet = walletFor(provider, flags['private-key'] as string | undefined)
  const parameters = {
    claimBond: integerFlag(flags, 'claim-bond'), challengeBond: integerFlag(flags, 'challenge-bond'),
    challengeWindow: integerFlag(flags, 'challenge-window'), moveTimeout: integerFlag(flags, 'move-timeout'),
  }
  for (const k of ['challengeWindow', 'moveTimeout'] as const) if (parameters[k] === 0n) throw new UsageError(`--${k === 'challengeWindow' ? 'challenge-window' : 'move-timeout'} must be positive`)
  const defined = Object.fromEntries(Object.entries(parameters).filter(([, v]) => v !== undefined))
  const d = await deployOptimisticModel({ dir, runner: wallet, chainId, parameters: defined })
  out(table([
    ['chain id', String(d.chainId)], ['game', `${d.gameAddress} (gas ${d.gasUsed.game})`], ['executor', `${d.executorAddress} (gas ${d.gasUsed.executor})`],
    ['model id', `${d.modelId} (register gas ${d.gasUsed.register})`], ['bonds', `claim ${eth(d.claimBond)}, challenge ${eth(d.challengeBond)}`],
    ['clocks', `challenge window ${d.challengeWindow} s, ${d.moveTimeout} s per move`], ['written', optimisticPath(dir)],
  ]))
  return 0
}

async function claim(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, 'op claim DIR --input input.json')
  if (typeof flags.input !== 'string') throw new UsageError('--input FILE is required for op claim')
  const text = await readFile(flags.input, 'utf8').catch((cause) => { throw new UsageError(`cannot read ${flags.input}`, { cause }) })
  let json: unknown
  try { json = JSON.parse(text) } catch (cause) { throw new UsageError(`${flags.input} is not valid JSON`, { cause }) }
  const { deployment, ctx, address } = await open(dir, flags)
  const run = await runModel(dir, json)
  const trace = buildTrace(ctx.model, run.inputs)
  const fromBlock = await ctx.game.runner!.provider!.getBlockNumber()
  const { claimId, gasUsed } = await submitClaim(ctx.game, deployment.modelId, trace, deployment.claimBond)
  out(`claim ${claimId}`)
  out(table([['output', JSON.stringify(trace.outputs[0].map(String))], ['bond', eth(deployment.claimBond)], ['gas', String(gasUsed)], ['window', `${deployment.challengeWindow} s`]]))
  if (!flags.defend) return 0
  out('defending: answering disputes until the window closes (Ctrl-C to stop)')
  const { signal, release } = interruptSignal()
  try {
    const key = claimKeyOf(deployment.modelId, trace, address)
    const r = await defendClaim({ ...ctx, claimId, key, trace, fromBlock, pollMs: pollMs(flags), signal, onEvent: printEvent })
    out(`claim ${claimId}: ${r.status}`)
    return r.status === 'Rejected' ? 1 : 0
  } finally {
    release()
  }
}

async function challenge(pos: string[], flags: Flags): Promise<number> {
  const [claimId, dir] = args(pos, 2, 'op challenge CLAIM_ID DIR')
  const { deployment, ctx } = await open(dir, flags)
  const posted = await findClaim(ctx.game, claimId, ctx.params.layout, { fromBlock: deployment.deployBlock, modelId: deployment.modelId })
  const seat = await disputeIfWrong(ctx, posted, printEvent)
  if (!seat) return 0
  const { signal, release } = interruptSignal()
  try {
    const view = await playSeat(ctx.game, seat, { pollMs: pollMs(flags), signal, onMove: (sent) => printEvent({ type: 'move', claimId: posted.claimId, sent }) })
    if (!view) { out(`stopped; dispute ${seat.disputeId} is still open: run op challenge again to resume it`); return 1 }
    printEvent({ type: 'resolved', claimId: posted.claimId, disputeId: seat.disputeId, claimantWon: view.claimantWon })
    return view.claimantWon ? 1 : 0
  } finally {
    release()
  }
}

async function watch(pos: string[], flags: Flags): Promise<number> {
  const [dir] = args(pos, 1, 'op watch DIR')
  const { deployment, ctx, address } = await open(dir, flags)
  const fromBlock = Number(integerFlag(flags, 'from-block') ?? BigInt(deployment.deployBlock))
  out(`watching model ${deployment.modelId} in game ${deployment.gameAddress} from block ${fromBlock} as ${address} (Ctrl-C to stop)`)
  const { signal, release } = interruptSignal()
  try {
    const r = await watchClaims({ ...ctx, fromBlock, pollMs: pollMs(flags), signal, onEvent: printEvent })
    out(`stopped: ${r.checked} claims checked, ${r.disputes.length} disputes resolved, ${r.open.length} still open`)
    return 0
  } finally {
    release()
  }
}

async function claimLog(game: Contract, claimId: Hex, fromBlock: number): Promise<EventLog | undefined> {
  return (await game.queryFilter(game.filters.ClaimSubmitted(claimId), fromBlock, 'latest'))[0] as EventLog | undefined
}

async function status(pos: string[], flags: Flags): Promise<number> {
  if (pos.length < 1 || pos.length > 2 || (pos.length === 1) === (typeof flags.game !== 'string')) {
    throw new UsageError('give the claim id and either the build folder or --game ADDRESS', { details: ['usage: veriml op status CLAIM_ID (DIR | --game ADDRESS) [--rpc URL]'] })
  }
  const [claimId, dir] = pos
  const deployment = dir ? await loadOptimisticDeployment(dir) : undefined
  const { provider } = await connect(String(flags.rpc ?? DEFAULT_RPC))
  const gameAddress = deployment?.gameAddress ?? String(flags.game)
  const game = gameContract(gameAddress, provider)
  const notFound = new ClaimNotFoundError({ claimId, gameAddress })
  if (!/^0x[0-9a-fA-F]{64}$/.test(claimId)) throw notFound
  const record = await readClaim(game, claimId)
  const log = record.status === 'None' ? undefined : await claimLog(game, claimId, deployment?.deployBlock ?? 0)
  if (!log) throw notFound
  const { key, output } = log.args as unknown as { key: { modelId: Hex }; output: bigint[] }
  const config = await game.model(key.modelId)
  const closesAt = record.createdAt + (config.challengeWindow as bigint)
  const now = BigInt((await provider.getBlock('latest'))!.timestamp)
  const rows: string[][] = [
    ['claim', claimId], ['status', record.status],
    ['claimant', record.claimant], ['model id', key.modelId],
    ['output', JSON.stringify(output.map(String))],
    ['window', now > closesAt ? `closed at ${closesAt}` : `open for ${closesAt - now} s more (closes at ${closesAt})`],
    ['open disputes', String(record.openDisputes)],
  ]
  for (const l of await game.queryFilter(game.filters.Challenged(null, claimId), log.blockNumber, 'latest')) {
    const { disputeId } = (l as EventLog).args as unknown as { disputeId: Hex }
    const d = await readDispute(game, disputeId)
    const state = d.phase === 'Resolved' ? (d.claimantWon ? 'resolved: claimant won' : 'resolved: challenger won') : `${d.phase}, states ${d.lo}..${d.hi}, deadline ${d.deadline}`
    rows.push([`dispute ${disputeId.slice(0, 10)}…`, `by ${d.challenger}: ${state}`])
  }
  out(table(rows))
  return 0
}

async function demo(): Promise<number> {
  const r = await runOptimisticDemo({ log: (line) => out(`· ${line}`) })
  out('')
  out(table([['who', 'transaction', 'gas'], ...r.moves.map((m) => [m.who, m.action, String(m.gasUsed)])]))
  const d = r.deployment
  out('')
  out(table([
    ['honest claim', `${r.honest.status}; watcher verdict: ${r.honest.verdict}`],
    ['cheating claim', `${r.cheat.status}; watcher verdict: ${r.cheat.verdict}; claimed ${JSON.stringify(r.cheat.claimedOutput.map(String))}, true ${JSON.stringify(r.cheat.trueOutput.map(String))}`],
    ['bond flows', `claimant withdrew ${eth(r.withdrawn.claimant)} (its claim bond back); cheater ${eth(r.withdrawn.cheater)} (lost ${eth(d.claimBond)}); watcher ${eth(r.withdrawn.watcher)} (its ${eth(d.challengeBond)} challenge bond + the cheater's claim bond)`],
    ['deploy gas', `game ${d.gasUsed.game}, executor ${d.gasUsed.executor}, register ${d.gasUsed.register}`],
  ]))
  return r.ok ? 0 : 1
}

const COMMANDS: Record<string, (pos: string[], flags: Flags) => Promise<number>> = { deploy, claim, challenge, watch, status, demo }

/** `veriml op <command>`: dispatches to the optimistic path's subcommands. */
export async function runOp(positionals: string[], flags: Flags): Promise<number> {
  const [command, ...rest] = positionals
  const run = command === undefined ? undefined : COMMANDS[command]
  if (!run) throw new UsageError(command === undefined ? 'missing op command' : `unknown op command "${command}"`, { details: [OP_USAGE] })
  return run(rest, flags)
}
