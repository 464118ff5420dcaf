import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Wallet } from 'ethers'
import { startAnvil } from '../chain/anvil.js'
import { BaseError } from '../errors.js'
import { operands } from '../ir/execute.js'
import { applyOp } from '../ir/ops.js'
import type { IrModel } from '../ir/types.js'
import { compileModel } from '../prove/compile.js'
import { runModel } from '../prove/prove.js'
import { gameContract, submitClaim, withdrawCredit } from './client.js'
import { claimKeyOf } from './config.js'
import { deployOptimisticModel, loadOptimisticModel, type OptimisticDeployment } from './deployment.js'
import type { Hex } from './merkle.js'
import type { SentMove } from './remote.js'
import { buildTrace, type Trace, traceFromStates } from './trace.js'
import { defendClaim, type GameContext, type WatchEvent, watchClaims } from './watch.js'

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/tiny-mlp.onnx', import.meta.url))
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
      states[pos] = op.op === 'lookup' ? x.map((v) => op.table[Math.max(0, Math.min(op.table.length - 1, Number(v - op.offset)))]) : applyOp(op, x)
    }
    values.set(step.output.id, states[pos])
  })
  return traceFromStates(honest.layout, states)
}

export interface DemoMove {
  who: string
  action: string
  gasUsed: bigint
}

export interface OptimisticDemoReturnType {
  deployment: OptimisticDeployment
  honest: { claimId: Hex; verdict: string; status: string; output: bigint[] }
  cheat: { claimId: Hex; verdict: string; status: string; claimedOutput: bigint[]; trueOutput: bigint[]; claimantWon: boolean | undefined }
  /** Every transaction of both claims, in order, with its gas. */
  moves: DemoMove[]
  /** Credits withdrawn by each party (wei): the bond flows. */
  withdrawn: Record<string, bigint>
  ok: boolean
}

/**
 * Honest vs cheating claims on a fresh local anvil: the tiny-mlp fixture is compiled into a
 * temporary folder, the game deployed, an honest watcher started; an honest claim finalises
 * after the window (time advanced with evm_increaseTime), a cheating claim is disputed by the
 * watcher and rejected. Anvil and the folder are removed afterwards.
 */
export async function runOptimisticDemo(p: { log?: (line: string) => void; pollMs?: number } = {}): Promise<OptimisticDemoReturnType> {
  const log = p.log ?? (() => {})
  const pollMs = p.pollMs ?? 100
  const dir = await mkdtemp(join(tmpdir(), 'veriml-op-demo-'))
  const anvil = await startAnvil({ accounts: 4 })
  const controller = new AbortController()
  try {
    log(`anvil on ${anvil.rpcUrl}; compiling ${FIXTURE}`)
    await compileModel({ onnxPath: FIXTURE, outDir: dir })
    const [deployer, claimant, cheater, watcher] = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
    const deployment = await deployOptimisticModel({ dir, runner: deployer, chainId: anvil.chainId })
    log(`game ${deployment.gameAddress}, model ${deployment.modelId}`)
    const m = await loadOptimisticModel(dir)
    const ctx = (w: Wallet): GameContext => ({ game: gameContract(deployment.gameAddress, w), modelId: deployment.modelId, model: m.model, params: m.params, challengeBond: deployment.challengeBond, challengeWindow: deployment.challengeWindow })
    const moves: DemoMove[] = []
    const verdicts = new Map<Hex, string>()
    const record = (who: string) => (e: WatchEvent) => {
      if (e.type === 'claim') verdicts.set(e.claimId, e.verdict)
      if (e.type === 'challenged') moves.push({ who, action: 'challenge', gasUsed: e.gasUsed })
      if (e.type === 'move') moves.push({ who, action: moveName(e.sent), gasUsed: e.sent.gasUsed })
      if (e.type === 'finalized') moves.push({ who, action: 'finalize', gasUsed: e.gasUsed })
    }
    // Caught at once (an unhandled rejection would end the process) and rethrown after the run.
    let watchError: unknown
    const watching = watchClaims({ ...ctx(watcher), fromBlock: deployment.deployBlock, pollMs, signal: controller.signal, onEvent: record('watcher') })
      .catch((error) => { watchError = error; controller.abort() })
    const until = async (what: string, done: () => boolean) => {
      for (let i = 0; i < 600 && !done(); i++) await new Promise((r) => setTimeout(r, pollMs))
      if (watchError) throw watchError
      if (!done()) throw new BaseError(`op demo: timed out waiting for ${what}`)
    }

    const run = await runModel(dir, DEMO_INPUT)
    const honestTrace = buildTrace(m.model, run.inputs)
    const honest = await submitClaim(ctx(claimant).game, deployment.modelId, honestTrace, deployment.claimBond)
    moves.push({ who: 'claimant', action: 'claim (honest)', gasUsed: honest.gasUsed })
    log(`honest claim ${honest.claimId}`)
    await until('the watcher to check the honest claim', () => verdicts.has(honest.claimId))
    log(`watcher: ${verdicts.get(honest.claimId)}; advancing time past the ${deployment.challengeWindow} s window`)
    await anvil.provider.send('evm_increaseTime', [Number(deployment.challengeWindow) + 1])
    await anvil.provider.send('evm_mine', [])
    const honestKey = claimKeyOf(deployment.modelId, honestTrace, claimant.address)
    const h = await defendClaim({ ...ctx(claimant), claimId: honest.claimId, key: honestKey, trace: honestTrace, fromBlock: deployment.deployBlock, pollMs, maxPolls: 50, onEvent: record('claimant') })

    // The cheater shifts one element of the earliest step whose lie reaches the output, and recomputes the rest.
    const { inputCount } = m.params.layout
    const outputState = m.params.layout.outputStates[0]
    let lie = cheatingTrace(m.model, honestTrace, outputState, 0, 1n)
    for (let state = inputCount; state < outputState; state++) {
      const candidate = cheatingTrace(m.model, honestTrace, state, 0, 50n)
      if (candidate.outputs[0].some((v, i) => v !== honestTrace.outputs[0][i])) { lie = candidate; break }
    }
    const cheat = await submitClaim(ctx(cheater).game, deployment.modelId, lie, deployment.claimBond)
    moves.push({ who: 'cheater', action: 'claim (wrong)', gasUsed: cheat.gasUsed })
    log(`cheating claim ${cheat.claimId}`)
    const cheatKey = claimKeyOf(deployment.modelId, lie, cheater.address)
    const c = await defendClaim({ ...ctx(cheater), claimId: cheat.claimId, key: cheatKey, trace: lie, fromBlock: deployment.deployBlock, pollMs, maxPolls: 600, onEvent: record('cheater') })
    log(`cheating claim ${c.status}`)
    controller.abort()
    await watching
    if (watchError) throw watchError

    const withdrawn: Record<string, bigint> = {}
    for (const [name, w] of [['claimant', claimant], ['cheater', cheater], ['watcher', watcher]] as const) {
      const game = gameContract(deployment.gameAddress, w)
      withdrawn[name] = (await game.credit(w.address)) as bigint
      if (withdrawn[name] > 0n) moves.push({ who: name, action: 'withdraw', gasUsed: (await withdrawCredit(game)).gasUsed })
    }
    const claimantWon = c.disputes[0]?.claimantWon
    const ok = h.status === 'Finalized' && c.status === 'Rejected' && verdicts.get(honest.claimId) === 'correct' && claimantWon === false
    return {
      deployment, moves, withdrawn, ok,
      honest: { claimId: honest.claimId, verdict: verdicts.get(honest.claimId) ?? '?', status: h.status, output: honestTrace.outputs[0] },
      cheat: { claimId: cheat.claimId, verdict: verdicts.get(cheat.claimId) ?? '?', status: c.status, claimedOutput: lie.outputs[0], trueOutput: honestTrace.outputs[0], claimantWon },
    }
  } finally {
    controller.abort()
    await anvil.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

export function moveName(m: SentMove): string {
  return m.move === 'timeout' ? `timeout (${m.phase})` : m.move
}
