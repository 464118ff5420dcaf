import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { type Contract, Wallet } from 'ethers'
import { startAnvil } from '../../chain/anvil.js'
import { BaseError, type ErrorParameters, UsageError } from '../../errors.js'
import { modelId } from '../../ir/serialize.js'
import type { IrModel } from '../../ir/types.js'
import { lowerOnnx } from '../../onnx/lower.js'
import { readOnnxFile } from '../../onnx/file.js'
import { parseInputs, quantizeInputs } from '../../quantize/input.js'
import { quantize } from '../../quantize/quantize.js'
import { defaultCalibration } from '../../prove/compile.js'
import { calldataBytesOf } from '../../optimistic/chain/batch.js'
import { gameContract, submitClaim, withdrawCredit } from '../../optimistic/chain/client.js'
import { deployOptimisticCommitment, type OptimisticDeployment } from '../../optimistic/chain/deployment.js'
import type { Hex } from '../../util/hex.js'
import { cheatingTrace, mostExpensiveElement } from '../../optimistic/cheat.js'
import { commitParams } from '../../optimistic/params.js'
import type { SentMove } from '../../optimistic/chain/remote.js'
import { buildTrace, type Trace } from '../../optimistic/trace.js'
import { defendClaim, type GameContext, type WatchEvent, watchClaims } from '../../optimistic/chain/watch.js'

// Shipped in models/ (a package carries no test/); the same bytes as test/fixtures/tiny-mlp.onnx.
export const DEMO_MODEL = fileURLToPath(new URL('../../../models/tiny-mlp.onnx', import.meta.url))
/** The local chain did not reach a state the demo waits for (an agent stopped, anvil stalled). */
export class DemoTimeoutError extends BaseError {
  override name = 'DemoTimeoutError'
  readonly waitingFor: string
  constructor({ waitingFor, ...options }: ErrorParameters<{ waitingFor: string }>) {
    super(`op demo: timed out waiting for ${waitingFor}`, options)
    this.waitingFor = waitingFor
  }
}

/** Real-valued input of the 8-input fixture. */
const DEMO_INPUT = { input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }

/** The lie at the most expensive element, with a shift that reaches the output when one does. */
function cheatAt(model: IrModel, honest: Trace, at: { state: number; element: number }): Trace {
  const same = (t: Trace) =>
    JSON.stringify(t.outputs.map((o) => o.map(String))) === JSON.stringify(honest.outputs.map((o) => o.map(String)))
  for (const delta of [1_000n, -1_000n, 100n, -100n, 10n, -10n]) {
    const lie = cheatingTrace(model, honest, at.state, at.element, delta)
    if (!same(lie)) return lie
  }
  // No shift reaches the output (a later clamp absorbs it): the trace is still wrong, and disputed.
  return cheatingTrace(model, honest, at.state, at.element, 1n)
}

/** ONNX → integer IR, as `veriml compile` quantises it (no circuit: the optimistic path needs none). */
export async function optimisticIrOf(onnxPath: string, calibrationPath?: string): Promise<IrModel> {
  const { model: onnx } = await readOnnxFile(onnxPath)
  const graph = lowerOnnx(onnx)
  const samples = calibrationPath
    ? parseInputs(JSON.parse(await readFile(calibrationPath, 'utf8')), graph.inputs, { many: true })
    : defaultCalibration(graph.inputs)
  return quantize(graph, samples)
}

export interface DemoTransaction {
  who: string
  action: string
  gasUsed: bigint
  calldataBytes: number
}

export interface PartyBonds {
  /** Wei sent with claims and challenges. */
  deposited: bigint
  /** Wei withdrawn from the game's credit at the end. */
  withdrawn: bigint
}

export interface OptimisticDemoReturnType {
  deployment: OptimisticDeployment
  model: string
  lie: { state: number; element: number; terms: number; origin: string }
  honest: { claimId: Hex; verdict: string; status: string; outputs: bigint[][] }
  cheat: {
    claimId: Hex
    verdict: string
    status: string
    claimedOutputs: bigint[][]
    trueOutputs: bigint[][]
    claimantWon: boolean | undefined
  }
  /** Every game transaction, in order: who sent it, what, its gas and calldata size. */
  transactions: DemoTransaction[]
  bonds: { claimant: PartyBonds; cheater: PartyBonds; watcher: PartyBonds; burned: bigint }
  /** The honest claim finalised, the cheating one was rejected, and neither honest party lost wei. */
  ok: boolean
}

export interface RunOptimisticDemoParameters {
  /** ONNX model (default: models/tiny-mlp.onnx with a fixed input). */
  modelPath?: string
  /** Input JSON, as for `veriml run`; required with `modelPath`. */
  input?: unknown
  calibrationPath?: string
  log?: (line: string) => void
  pollMs?: number
}

/**
 * Honest vs cheating claims of a model on a fresh local anvil: the game is deployed, an honest
 * watcher started; an honest claim finalises after the window (time advanced with
 * evm_increaseTime); a cheating claim, lying at the element most expensive to dispute, is
 * disputed by the watcher and rejected. Anvil is stopped afterwards.
 */
export async function runOptimisticDemo(p: RunOptimisticDemoParameters = {}): Promise<OptimisticDemoReturnType> {
  const log = p.log ?? (() => {})
  const pollMs = p.pollMs ?? 100
  const modelPath = p.modelPath ?? DEMO_MODEL
  if (p.modelPath && p.input === undefined)
    throw new UsageError({ problem: 'op demo: an input is required with a model of your own (--input input.json)' })
  const model = await optimisticIrOf(modelPath, p.calibrationPath)
  const params = commitParams(model)
  const inputs = quantizeInputs(model.inputs, parseInputs(p.input ?? DEMO_INPUT, model.inputs)[0])
  const honestTrace = buildTrace(model, inputs)
  const at = mostExpensiveElement(model)
  const lie = cheatAt(model, honestTrace, at)
  const anvil = await startAnvil({ accounts: 4 })
  const controller = new AbortController()
  try {
    log(`anvil on ${anvil.rpcUrl}; model ${modelPath}: ${model.steps.length} steps, ${params.layout.stateCount} states`)
    const [deployer, claimant, cheater, watcher] = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
    const deployment = await deployOptimisticCommitment({
      params,
      modelName: model.name,
      buildModelId: modelId(model),
      runner: deployer,
      chainId: anvil.chainId,
    })
    log(`game ${deployment.gameAddress}, model ${deployment.modelId}`)
    const ctx = (w: Wallet): GameContext => ({
      game: gameContract(deployment.gameAddress, w),
      modelId: deployment.modelId,
      model,
      params,
      challengeBond: deployment.challengeBond,
      challengeWindow: deployment.challengeWindow,
    })
    const transactions: DemoTransaction[] = []
    const verdicts = new Map<Hex, string>()
    let challenges = 0n
    const sent = async (who: string, action: string, r: { gasUsed: bigint; hash: string }) => {
      const tx = await anvil.provider.getTransaction(r.hash)
      transactions.push({ who, action, gasUsed: r.gasUsed, calldataBytes: calldataBytesOf(tx!.data) })
    }
    const record = (who: string) => (e: WatchEvent) => {
      if (e.type === 'claim') verdicts.set(e.claimId, e.verdict)
      if (e.type === 'challenged') {
        challenges++
        transactions.push({ who, action: 'challenge', gasUsed: e.gasUsed, calldataBytes: e.calldataBytes })
      }
      if (e.type === 'move')
        transactions.push({
          who,
          action: moveName(e.sent),
          gasUsed: e.sent.gasUsed,
          calldataBytes: e.sent.calldataBytes,
        })
      if (e.type === 'finalized')
        transactions.push({ who, action: 'finalize', gasUsed: e.gasUsed, calldataBytes: e.calldataBytes })
      if (e.type === 'error') log(`${who}: ${e.message} (retrying)`)
    }
    // Caught at once (an unhandled rejection would end the process) and rethrown after the run.
    let watchError: unknown
    const watching = watchClaims({
      ...ctx(watcher),
      fromBlock: deployment.deployBlock,
      pollMs,
      signal: controller.signal,
      onEvent: record('watcher'),
    }).catch((error) => {
      watchError = error
      controller.abort()
    })
    const until = async (what: string, done: () => boolean) => {
      for (let i = 0; i < 600 && !done() && !watchError; i++) await new Promise((r) => setTimeout(r, pollMs))
      if (watchError) throw watchError
      if (!done()) throw new DemoTimeoutError({ waitingFor: what })
    }

    const honest = await submitClaim(ctx(claimant).game, deployment.modelId, honestTrace, deployment.claimBond)
    await sent('claimant', 'claim (honest)', honest)
    log(`honest claim ${honest.claimId}`)
    await until('the watcher to check the honest claim', () => verdicts.has(honest.claimId))
    log(`watcher: ${verdicts.get(honest.claimId)}; advancing time past the ${deployment.challengeWindow} s window`)
    await anvil.provider.send('evm_increaseTime', [Number(deployment.challengeWindow) + 1])
    await anvil.provider.send('evm_mine', [])
    const h = await defendClaim({
      ...ctx(claimant),
      claimId: honest.claimId,
      key: honest.key,
      trace: honestTrace,
      fromBlock: deployment.deployBlock,
      pollMs,
      maxPolls: 50,
      onEvent: record('claimant'),
    })

    log(`the cheater lies at element ${at.element} of state ${at.state} (${at.origin}, ${at.terms} terms)`)
    const cheat = await submitClaim(ctx(cheater).game, deployment.modelId, lie, deployment.claimBond)
    await sent('cheater', 'claim (wrong)', cheat)
    log(`cheating claim ${cheat.claimId}`)
    const c = await defendClaim({
      ...ctx(cheater),
      claimId: cheat.claimId,
      key: cheat.key,
      trace: lie,
      fromBlock: deployment.deployBlock,
      pollMs,
      maxPolls: 600,
      onEvent: record('cheater'),
    })
    log(`cheating claim ${c.status}`)
    controller.abort()
    await watching
    if (watchError) throw watchError

    const withdrawn: Record<string, bigint> = {}
    for (const [name, w] of [
      ['claimant', claimant],
      ['cheater', cheater],
      ['watcher', watcher],
    ] as const) {
      const game = gameContract(deployment.gameAddress, w)
      withdrawn[name] = (await game.credit(w.address)) as bigint
      if (withdrawn[name] > 0n) await sent(name, 'withdraw', await withdrawCredit(game))
    }
    const bonds = {
      claimant: { deposited: deployment.claimBond, withdrawn: withdrawn.claimant },
      cheater: { deposited: deployment.claimBond, withdrawn: withdrawn.cheater },
      watcher: { deposited: challenges * deployment.challengeBond, withdrawn: withdrawn.watcher },
      burned: (await (ctx(deployer).game as Contract).burned()) as bigint,
    }
    const claimantWon = c.disputes[0]?.claimantWon
    const honestSideWhole =
      bonds.claimant.withdrawn >= bonds.claimant.deposited && bonds.watcher.withdrawn >= bonds.watcher.deposited
    const ok =
      h.status === 'Finalized' &&
      c.status === 'Rejected' &&
      verdicts.get(honest.claimId) === 'correct' &&
      claimantWon === false &&
      honestSideWhole
    return {
      deployment,
      model: modelPath,
      lie: at,
      transactions,
      bonds,
      ok,
      honest: {
        claimId: honest.claimId,
        verdict: verdicts.get(honest.claimId) ?? '?',
        status: h.status,
        outputs: honestTrace.outputs,
      },
      cheat: {
        claimId: cheat.claimId,
        verdict: verdicts.get(cheat.claimId) ?? '?',
        status: c.status,
        claimedOutputs: lie.outputs,
        trueOutputs: honestTrace.outputs,
        claimantWon,
      },
    }
  } finally {
    controller.abort()
    await anvil.stop()
  }
}

export function moveName(m: SentMove): string {
  return m.move === 'timeout' ? `timeout (${m.phase})` : m.move
}
