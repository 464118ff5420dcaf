import type { Contract } from 'ethers'
import { connect, walletFor } from '../../chain/rpc.js'
import { DISPUTE_BUDGET, type TxCost } from '../../optimistic/budget.js'
import { finalizeWhenDue } from '../../optimistic/chain/finalize.js'
import { claimStatus } from '../../optimistic/chain/status.js'
import { gameContract, submitClaim, withdrawCredit } from '../../optimistic/chain/client.js'
import {
  DEFAULT_GAME_PARAMETERS,
  deployOptimisticModel,
  loadOptimisticDeployment,
  loadOptimisticModel,
  openDeployment,
  optimisticPath,
  type OptimisticDeployment,
} from '../../optimistic/chain/deployment.js'
import type { Hex } from '../../util/hex.js'
import { DeploymentMismatchError } from '../../optimistic/chain/errors.js'
import { findClaim, playSeat } from '../../optimistic/chain/remote.js'
import { buildTrace } from '../../optimistic/trace.js'
import {
  defendClaim,
  disputeIfWrong,
  type GameContext,
  type WatchEvent,
  watchClaims,
} from '../../optimistic/chain/watch.js'
import { runModel } from '../../prove/prove.js'
import { FLAG, type Flags } from '../flags.js'
import { UsageError, table } from '../format.js'
import { type Group, type Verb, positional } from '../verb.js'
import { DEFAULT_RPC, OP_FLAG, OP_RPC_HINT, eth, integerFlag, out, pollMs, readJson, tensorsJson } from './op-common.js'
import { demo, moveName } from './op-demo.js'

/** `veriml op`: the optimistic path's verbs. Each parses its arguments, calls the library and prints. */

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
  const [dir] = positional(pos, 1, deployVerb.usage)
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
  const [dir] = positional(pos, 1, claimVerb.usage)
  if (typeof flags.input !== 'string') throw new UsageError('--input FILE is required for op claim')
  const json = await readJson(flags.input)
  const { deployment, ctx } = await open(dir, flags)
  const run = await runModel({ model: dir, input: json })
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
  const [claimId, dir] = positional(pos, 2, challengeVerb.usage)
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
  const [dir] = positional(pos, 1, watchVerb.usage)
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
      details: [`usage: ${statusVerb.usage}`],
    })
  }
  const [claimId, dir] = pos
  const deployment = dir ? await loadOptimisticDeployment(dir) : undefined
  const { provider } = await connect(String(flags.rpc ?? DEFAULT_RPC))
  const game = gameContract(deployment?.gameAddress ?? String(flags.game), provider)
  const s = await claimStatus({ game, claimId: claimId as Hex, fromBlock: deployment?.deployBlock })
  const rows: string[][] = [
    ['claim', claimId],
    ['status', s.status],
    ['claimant', s.claimant],
    ['model id', s.modelId],
    ['output', tensorsJson(s.outputs)],
    [
      'window',
      s.now > s.closesAt
        ? `closed at ${s.closesAt}`
        : `open for ${s.closesAt - s.now} s more (closes at ${s.closesAt})`,
    ],
    ['open disputes', String(s.openDisputes)],
  ]
  for (const d of s.disputes) {
    const state =
      d.phase === 'Resolved'
        ? d.claimantWon
          ? 'resolved: claimant won'
          : 'resolved: challenger won'
        : `${d.phase}, states ${d.lo}..${d.hi}, deadline ${d.deadline}`
    rows.push([`dispute ${d.disputeId.slice(0, 10)}…`, `by ${d.challenger}: ${state}`])
  }
  out(table(rows))
  return 0
}

async function finalize(pos: string[], flags: Flags): Promise<number> {
  const [claimId, dir] = positional(pos, 2, finalizeVerb.usage)
  const { deployment, game } = await openGame(dir, flags)
  const r = await finalizeWhenDue({
    game,
    claimId: claimId as Hex,
    challengeWindow: deployment.challengeWindow,
    fromBlock: deployment.deployBlock,
    modelId: deployment.modelId,
  })
  switch (r.outcome) {
    case 'finalized':
      out(
        `claim ${claimId} finalised (gas ${r.gasUsed}); the claim bond is credited to ${r.claimant}: \`veriml op withdraw DIR\` with its key`,
      )
      return 0
    case 'already settled':
      out(`claim ${claimId} is already ${r.status}: nothing to finalise`)
      return r.status === 'Finalized' ? 0 : 1
    case 'settled meanwhile':
      out(`claim ${claimId} was settled meanwhile: ${r.status}`)
      return 0
    case 'disputed':
      out(
        `claim ${claimId} has ${r.openDisputes} live dispute${r.openDisputes === 1 ? '' : 's'}: it can be finalised once they are resolved (see op status)`,
      )
      return 1
    case 'window open':
      out(
        `claim ${claimId}: the challenge window is still open for ${r.closesAt - r.now + 1n} s (until ${r.closesAt}); finalise after it`,
      )
      return 1
    case 'chain clock behind':
      out(`claim ${claimId}: the chain's clock has not yet passed the window's end (${r.closesAt}); try again shortly`)
      return 1
  }
}

async function withdraw(pos: string[], flags: Flags): Promise<number> {
  const [dir] = positional(pos, 1, withdrawVerb.usage)
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

const rpcFlags = { rpc: OP_FLAG.rpc, 'private-key': OP_FLAG['private-key'] }

const deployVerb: Verb = {
  usage:
    'veriml op deploy DIR --rpc URL [--private-key KEY] [--claim-bond WEI] [--challenge-bond WEI] [--challenge-window S] [--move-timeout S]',
  summary: 'deploys the game and executor, registers the compiled model, writes DIR/optimistic.json',
  flags: {
    rpc: FLAG.rpc,
    'private-key': OP_FLAG['private-key'],
    'claim-bond': { type: 'string', help: `claim bond in wei (default ${DEFAULT_GAME_PARAMETERS.claimBond})` },
    'challenge-bond': {
      type: 'string',
      help: `challenge bond in wei (default ${DEFAULT_GAME_PARAMETERS.challengeBond})`,
    },
    'challenge-window': {
      type: 'string',
      help: `seconds a claim can be challenged (default ${DEFAULT_GAME_PARAMETERS.challengeWindow})`,
    },
    'move-timeout': {
      type: 'string',
      help: `seconds per dispute move (default ${DEFAULT_GAME_PARAMETERS.moveTimeout})`,
    },
  },
  rpcHint: 'Check --rpc, or start a local chain with `veriml node` and pass its URL.',
  run: deploy,
}

const claimVerb: Verb = {
  usage: 'veriml op claim DIR --input input.json [--rpc URL] [--private-key KEY] [--defend] [--poll-ms MS]',
  summary: "posts a claim of the model's output on an input (and defends it with --defend)",
  flags: {
    ...rpcFlags,
    input: OP_FLAG.input,
    defend: { type: 'boolean', help: 'keep running: answer every dispute, finalise after the window' },
    'poll-ms': OP_FLAG['poll-ms'],
  },
  rpcHint: OP_RPC_HINT,
  run: claim,
}

const challengeVerb: Verb = {
  usage: 'veriml op challenge CLAIM_ID DIR [--rpc URL] [--private-key KEY] [--poll-ms MS]',
  summary: 'recomputes a claim; if it is wrong, disputes it and plays the dispute to the end',
  flags: { ...rpcFlags, 'poll-ms': OP_FLAG['poll-ms'] },
  rpcHint: OP_RPC_HINT,
  run: challenge,
}

const watchVerb: Verb = {
  usage: 'veriml op watch DIR [--rpc URL] [--private-key KEY] [--from-block N] [--poll-ms MS]',
  summary: 'checks every claim of the model and disputes the wrong ones, until Ctrl-C',
  flags: {
    ...rpcFlags,
    'from-block': { type: 'string', help: 'first block to scan (default: the deployment block)' },
    'poll-ms': OP_FLAG['poll-ms'],
  },
  rpcHint: OP_RPC_HINT,
  run: watch,
}

const statusVerb: Verb = {
  usage: 'veriml op status CLAIM_ID (DIR | --game ADDRESS) [--rpc URL]',
  summary: "a claim's status, window and disputes",
  flags: { rpc: OP_FLAG.rpc, game: { type: 'string', help: 'game address, when no build folder is given' } },
  rpcHint: OP_RPC_HINT,
  run: status,
}

const finalizeVerb: Verb = {
  usage: 'veriml op finalize CLAIM_ID DIR [--rpc URL] [--private-key KEY]',
  summary: 'finalises a claim once its window has closed with no live dispute (anyone may)',
  flags: rpcFlags,
  rpcHint: OP_RPC_HINT,
  run: finalize,
}

const withdrawVerb: Verb = {
  usage: 'veriml op withdraw DIR [--rpc URL] [--private-key KEY]',
  summary: "withdraws this account's credit (bonds won or returned) from the game",
  flags: rpcFlags,
  rpcHint: OP_RPC_HINT,
  run: withdraw,
}

export const op: Group = {
  summary: 'the optimistic path: deploy the fraud-proof game, claim, challenge, watch, status, demo',
  children: {
    deploy: deployVerb,
    claim: claimVerb,
    challenge: challengeVerb,
    watch: watchVerb,
    status: statusVerb,
    finalize: finalizeVerb,
    withdraw: withdrawVerb,
    demo,
  },
}
