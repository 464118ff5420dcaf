import { connect, walletFor } from '../../chain/rpc.js'
import { DISPUTE_BUDGET, type TxCost } from '../../optimistic/budget.js'
import { gameContract, withdrawCredit } from '../../optimistic/chain/client.js'
import { deployOptimisticModel, loadOptimisticDeployment, optimisticPath } from '../../optimistic/chain/deployment.js'
import { finalizeWhenDue } from '../../optimistic/chain/finalize.js'
import { settleClaimByProof } from '../../optimistic/chain/settle.js'
import { verifyBuildOnChain } from '../../chain/model.js'
import { findClaim, playSeat } from '../../optimistic/chain/remote.js'
import { connectToGame, connectToModel, postClaim } from '../../optimistic/chain/session.js'
import { claimStatus } from '../../optimistic/chain/status.js'
import { defendClaim, disputeIfWrong, type WatchEvent, watchClaims } from '../../optimistic/chain/watch.js'
import type { Hex } from '../../util/hex.js'
import type { Flags } from '../flags.js'
import { UsageError, table } from '../format.js'
import { type Verb, positional } from '../verb.js'
import { DEFAULT_RPC, eth, integerFlag, out, pollMs, readJson, tensorsJson } from '../verbs/op-common.js'
import { moveName } from './op-demo.js'

/** `veriml op`: what the optimistic path's verbs do. Each parses its arguments, calls the library and prints. */

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

/** The endpoint and signer of a verb's flags. */
const session = (flags: Flags) => ({
  rpcUrl: String(flags.rpc ?? DEFAULT_RPC),
  privateKey: flags['private-key'] as string | undefined,
})

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

export async function deploy(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(pos, 1, verb.usage)
  if (typeof flags.rpc !== 'string') throw new UsageError({ problem: '--rpc URL is required for op deploy' })
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
      throw new UsageError({
        problem: `--${k === 'challengeWindow' ? 'challenge-window' : 'move-timeout'} must be positive`,
      })
  const defined = Object.fromEntries(Object.entries(parameters).filter(([, v]) => v !== undefined))
  const hubAddress = typeof flags.registry === 'string' ? flags.registry : undefined
  const d = await deployOptimisticModel({ model: dir, runner: wallet, chainId, parameters: defined, hubAddress })
  out(
    table([
      ['chain id', String(d.chainId)],
      ['registry', `${d.hubAddress}${hubAddress ? ' (reused)' : ` (gas ${d.gasUsed.hub})`}`],
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

export async function claim(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(pos, 1, verb.usage)
  if (typeof flags.input !== 'string') throw new UsageError({ problem: '--input FILE is required for op claim' })
  const input = await readJson(flags.input)
  const { deployment, model, ctx } = await connectToModel({ model: dir, ...session(flags) })
  const submitted = await postClaim({ model: model.compiled, deployment, game: ctx.game, input })
  out(`claim ${submitted.claimId}`)
  out(
    table([
      ['output', tensorsJson(submitted.trace.outputs)],
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
      trace: submitted.trace,
      fromBlock: submitted.fromBlock,
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

export async function challenge(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [claimId, dir] = positional(pos, 2, verb.usage)
  const { deployment, ctx } = await connectToModel({ model: dir, ...session(flags) })
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

export async function watch(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(pos, 1, verb.usage)
  const { deployment, ctx, address } = await connectToModel({ model: dir, ...session(flags) })
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

export async function status(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  if (pos.length < 1 || pos.length > 2 || (pos.length === 1) === (typeof flags.game !== 'string')) {
    throw new UsageError({
      problem: 'give the claim id and either the build folder or --game ADDRESS',
      details: [`usage: ${verb.usage}`],
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

/** `op settle`: a proof (verified here with --proof, or before) settles the claim now. Exit 1 when it rejects the claim or no proof is recorded. */
export async function settle(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [claimId, dir] = positional(pos, 2, verb.usage)
  const { deployment, game } = await connectToGame({ dir, ...session(flags) })
  const settleNow = () =>
    settleClaimByProof({
      game,
      claimId: claimId as Hex,
      fromBlock: deployment.deployBlock,
      modelId: deployment.modelId,
      rewardDispute: typeof flags.dispute === 'string' ? (flags.dispute as Hex) : undefined,
    })
  let r = await settleNow()
  if (r.outcome === 'no proof' && typeof flags.proof === 'string') {
    const v = await verifyBuildOnChain({ model: dir, proofDir: flags.proof, ...session(flags) })
    if (!v.accepted) throw v.rejection
    if (v.deployment.registry.address.toLowerCase() !== deployment.hubAddress.toLowerCase())
      throw new UsageError({
        problem: `the proof was verified by registry ${v.deployment.registry.address} (deployment.json), but the game follows ${deployment.hubAddress} (optimistic.json)`,
        details: ['Deploy both paths to one registry: veriml op deploy DIR --registry <deployment.json registry>.'],
      })
    out(`proof verified and recorded (gas ${v.gasUsed})`)
    r = await settleNow()
  }
  switch (r.outcome) {
    case 'already settled':
      out(`claim ${claimId} is already ${r.status}: nothing to settle`)
      return r.status === 'Finalized' ? 0 : 1
    case 'no proof':
      out(
        `the registry has no proof of this claim's statement (${r.statementId}, settled: ${r.settlement}): prove its input and pass --proof PROOF_DIR, or verify it first (veriml verify DIR PROOF_DIR --rpc URL)`,
      )
      return 1
  }
  const closed = r.closed.map((c) => `${c.disputeId} (gas ${c.gasUsed})`).join(', ')
  out(
    `claim ${claimId} ${r.status === 'Finalized' ? 'finalised: the proof agrees; its bond is credited to the claimant' : 'rejected: the proof shows other outputs; its bond is forfeit'} (gas ${r.gasUsed})${closed ? `; disputes closed: ${closed}` : ''}`,
  )
  return r.status === 'Finalized' ? 0 : 1
}

export async function finalize(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [claimId, dir] = positional(pos, 2, verb.usage)
  const { deployment, game } = await connectToGame({ dir, ...session(flags) })
  const r = await finalizeWhenDue({
    game,
    claimId: claimId as Hex,
    challengeWindow: deployment.challengeWindow,
    fromBlock: deployment.deployBlock,
    modelId: deployment.modelId,
  })
  switch (r.outcome) {
    case 'finalized':
      if (r.status === 'Rejected') {
        out(
          `claim ${claimId} rejected (gas ${r.gasUsed}): a proof of its statement shows other outputs; its bond is burned`,
        )
        return 1
      }
      out(
        r.status === 'Superseded'
          ? `claim ${claimId} superseded (gas ${r.gasUsed}): another claim of this input with other outputs settled first and stands (veriml result); the claim bond is credited to ${r.claimant}`
          : `claim ${claimId} finalised (gas ${r.gasUsed}); the claim bond is credited to ${r.claimant}: \`veriml op withdraw DIR\` with its key`,
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

export async function withdraw(pos: string[], flags: Flags, verb: Verb): Promise<number> {
  const [dir] = positional(pos, 1, verb.usage)
  const { game, address } = await connectToGame({ dir, ...session(flags) })
  const credit = (await game.credit(address)) as bigint
  if (credit === 0n) {
    out(`nothing to withdraw: ${address} has no credit in the game`)
    return 0
  }
  const { gasUsed } = await withdrawCredit(game)
  out(`withdrew ${eth(credit)} (${credit} wei) to ${address} (gas ${gasUsed})`)
  return 0
}
