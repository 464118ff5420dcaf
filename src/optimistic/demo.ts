import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Contract, Wallet } from 'ethers'
import { startAnvil } from '../chain/anvil.js'
import { BaseError } from '../errors.js'
import { operands } from '../ir/execute.js'
import { applyOp } from '../ir/ops.js'
import { modelId } from '../ir/serialize.js'
import type { IrModel } from '../ir/types.js'
import { lowerOnnx } from '../onnx/lower.js'
import { parseOnnx } from '../onnx/parse.js'
import { parseInputs, quantizeInputs } from '../quantize/input.js'
import { quantize } from '../quantize/quantize.js'
import { sizeOf } from '../util/shape.js'
import { calldataBytesOf } from './batch.js'
import { gameContract, submitClaim, withdrawCredit } from './client.js'
import { deployOptimisticCommitment, type OptimisticDeployment } from './deployment.js'
import type { Hex } from './merkle.js'
import { isFoldOp } from './one-step.js'
import { commitParams } from './params.js'
import type { SentMove } from './remote.js'
import { buildTrace, type Trace, traceFromStates } from './trace.js'
import { defendClaim, type GameContext, type WatchEvent, watchClaims } from './watch.js'

export const DEMO_MODEL = fileURLToPath(new URL('../../models/tiny-mlp.onnx', import.meta.url))
/** Real-valued input of the 8-input fixture. */
const DEMO_INPUT = { input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }

/**
 * A consistent lie: element `element` of state `state` shifted by `delta`, and every later
 * step recomputed from it, so only one step of the trace is wrong and the output differs.
 * A lie may push a later lookup's input out of its table; the liar then reads the nearest
 * end of the table (there is no right answer to recompute, and the lie is the wrong step).
 */
export function cheatingTrace(model: IrModel, honest: Trace, state: number, element: number, delta: bigint): Trace {
  const states = honest.states.map((s) => [...s])
  states[state][element] += delta
  const values = new Map<number, bigint[]>()
  model.inputs.forEach((info, i) => values.set(info.id, states[i]))
  model.steps.forEach((step, i) => {
    const pos = model.inputs.length + i
    if (pos > state) {
      const x = operands(values, step.op.inputs)
      const op = step.op
      states[pos] =
        op.op === 'lookup'
          ? x.map((v) => op.table[Math.max(0, Math.min(op.table.length - 1, Number(v - op.offset)))])
          : applyOp(op, x)
    }
    values.set(step.output.id, states[pos])
  })
  return traceFromStates(honest.layout, states)
}

/**
 * The element whose dispute costs most: the widest row (most terms) of any step the one-step
 * proof folds over (`isFoldOp`). Without such a step, element 0 of the last step.
 */
export function mostExpensiveElement(model: IrModel): {
  state: number
  element: number
  terms: number
  origin: string
} {
  const last = model.steps.length - 1
  let best = { state: model.inputs.length + last, element: 0, terms: 0, origin: model.steps[last].origin }
  model.steps.forEach((step, i) => {
    const op = step.op
    if (!isFoldOp(op)) return
    for (let row = 0; row + 1 < op.rowPtr.length; row++) {
      const terms = op.rowPtr[row + 1] - op.rowPtr[row]
      if (terms > best.terms) best = { state: model.inputs.length + i, element: row, terms, origin: step.origin }
    }
  })
  return best
}

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
  const onnx = parseOnnx(new Uint8Array(await readFile(onnxPath)), basename(onnxPath))
  const graph = lowerOnnx(onnx)
  const samples = calibrationPath
    ? parseInputs(JSON.parse(await readFile(calibrationPath, 'utf8')), graph.inputs, { many: true })
    : defaultCalibration(graph.inputs)
  return quantize(graph, samples)
}

/** compile.ts's default calibration: 32 seeded uniform samples in [-1, 1). (A quantised ONNX model ignores them.) */
function defaultCalibration(specs: { shape: number[] }[]): Float64Array[][] {
  let s = 0x9e3779b9
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return Array.from({ length: 32 }, () =>
    specs.map((x) => Float64Array.from({ length: sizeOf(x.shape) }, () => rand() * 2 - 1)),
  )
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
    throw new BaseError('op demo: an input is required with a model of your own (--input input.json)')
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
      if (!done()) throw new BaseError(`op demo: timed out waiting for ${what}`)
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
