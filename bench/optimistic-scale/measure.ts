/**
 * One model of the optimistic scale benchmark, measured in its own process (so its peak RSS is
 * its own): `compile --target optimistic`, load (IR + parameter commitment), claim (run +
 * trace commitment), then on an embedded anvil: deploy, register, an honest claim, and a
 * cheater lying at the widest row of the model, disputed to the end by the honest agents.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Contract, type JsonRpcProvider, Wallet } from 'ethers'
import { seededRandom } from '../../models/mnist-data.js'
import { type BenchModel, scaleModelFile } from '../../models/scale-models.js'
import { startAnvil } from '../../src/chain/anvil.js'
import type { IrModel, LinearOp, MaxOp } from '../../src/ir/types.js'
import { modelId } from '../../src/ir/serialize.js'
import { disputeBudget } from '../../src/optimistic/budget.js'
import {
  challengeClaim,
  gameContract,
  readClaim,
  registerModel,
  submitClaim,
} from '../../src/optimistic/chain/client.js'
import { gameModelConfig } from '../../src/optimistic/config.js'
import { deployOptimistic } from '../../src/optimistic/chain/contracts.js'
import { cheatingTrace } from '../../src/optimistic/cheat.js'
import { loadOptimisticModel } from '../../src/optimistic/chain/deployment.js'
import { honestPlayer, playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { compileModel } from '../../src/prove/compile.js'
import { parseInputs, quantizeInputs } from '../../src/quantize/input.js'
import { sizeOf } from '../../src/util/shape.js'

const ROOT = join(import.meta.dirname, '..', '..')

export interface TxRecord {
  fn: string
  gas: number
  calldataBytes: number
}

export interface ScaleResult {
  name: string
  shape: string
  parameters: number
  steps: number
  /** Largest trace state (elements) and longest row (terms) of a linear or max step. */
  widestState: number
  widestRow: number
  compileMs: number
  modelId: string
  /** irFromJson + commitParams (loadOptimisticModel). */
  loadMs: number
  /** Quantise the input, execute, commit the trace (buildTrace). */
  claimMs: number
  peakRssMb: number
  registerGas: number
  claim: TxRecord
  /** The lie: step, its ONNX origin, op kind, the element and its row length. */
  lie: { stepIndex: number; origin: string; kind: string; element: number; terms: number }
  dispute: {
    challenge: TxRecord
    moves: TxRecord[]
    rounds: number
    totalGas: number
    largest: TxRecord
    /** The largest proof-carrying move (step, startFold, foldStep) and the op kind of its step. */
    largestProof: TxRecord & { stepKind: string }
    maxCalldataBytes: number
    resolved: boolean
    challengerWon: boolean
    claimStatus: string
    disputeMs: number
  }
  /** src/optimistic/budget.ts's prediction of the largest transaction, to compare. */
  budget: {
    tx: string
    origin: string | null
    calldataBytes: number
    gasBound: number
    fits: boolean
    byKind: Record<string, { calldataBytes: number; gasBound: number }>
  }
}

const BONDS = { claimBond: 10n ** 17n, challengeBond: 5n * 10n ** 16n, challengeWindow: 3_600n, moveTimeout: 600n }

/** The model's sample input (EZKL form): MNIST's own digit, else seeded values in [-1, 1). */
async function sampleInput(m: BenchModel, sizes: number[]): Promise<unknown> {
  if ('path' in m.source) {
    const file = m.name === 'mnist-cnn' ? 'mnist-cnn-input.json' : 'mnist-input.json'
    return JSON.parse(await readFile(join(ROOT, 'models', 'data', file), 'utf8')) as unknown
  }
  const r = seededRandom(4242)
  return { input_data: sizes.map((n) => Array.from({ length: n }, () => Math.round((2 * r() - 1) * 1e4) / 1e4)) }
}

const calibrationOf = (m: BenchModel) =>
  'path' in m.source
    ? join(ROOT, 'models', 'data', m.name === 'mnist-cnn' ? 'mnist-cnn-calibration.json' : 'mnist-calibration.json')
    : undefined

/** The step holding the longest row of a linear or max op, and that row (the lie's target). */
function widestRow(model: IrModel): { stepIndex: number; row: number; terms: number } {
  let best = { stepIndex: -1, row: 0, terms: -1 }
  model.steps.forEach((s, i) => {
    if (s.op.op !== 'linear' && s.op.op !== 'max') return
    const op = s.op as LinearOp | MaxOp
    for (let j = 0; j + 1 < op.rowPtr.length; j++) {
      const terms = op.rowPtr[j + 1] - op.rowPtr[j]
      if (terms > best.terms) best = { stepIndex: i, row: j, terms }
    }
  })
  return best
}

/** Every transaction to the game in blocks (from, to]: anvil mines one per transaction. */
async function gameTransactions(
  provider: JsonRpcProvider,
  game: Contract,
  from: number,
  to: number,
): Promise<TxRecord[]> {
  const address = (await game.getAddress()).toLowerCase()
  const out: TxRecord[] = []
  for (let b = from + 1; b <= to; b++) {
    const block = await provider.getBlock(b, true)
    for (const tx of block!.prefetchedTransactions) {
      if (tx.to?.toLowerCase() !== address) continue
      const receipt = await provider.getTransactionReceipt(tx.hash)
      out.push({
        fn: game.interface.parseTransaction({ data: tx.data })?.name ?? tx.data.slice(0, 10),
        gas: Number(receipt!.gasUsed),
        calldataBytes: (tx.data.length - 2) / 2,
      })
    }
  }
  return out
}

export async function measureModel(
  m: BenchModel,
  workDir: string,
  cacheDir: string,
  log: (line: string) => void,
): Promise<ScaleResult> {
  const onnxPath = await scaleModelFile(m, cacheDir)
  const dir = join(workDir, m.name)
  let t = performance.now()
  const compiled = await compileModel({
    onnxPath,
    outDir: dir,
    target: 'optimistic',
    calibrationPath: calibrationOf(m),
    force: true,
  })
  const compileMs = performance.now() - t
  log(`${m.name}: compiled in ${(compileMs / 1000).toFixed(1)} s`)

  t = performance.now()
  const { model, params } = await loadOptimisticModel({ model: dir })
  const loadMs = performance.now() - t
  log(`${m.name}: loaded (IR + parameter commitment) in ${(loadMs / 1000).toFixed(1)} s`)

  const input = await sampleInput(
    m,
    model.inputs.map((i) => sizeOf(i.shape)),
  )
  t = performance.now()
  const honest = buildTrace(model, quantizeInputs(model.inputs, parseInputs(input, model.inputs)[0]))
  const claimMs = performance.now() - t
  log(`${m.name}: claim (run + trace commitment) in ${(claimMs / 1000).toFixed(1)} s`)

  const target = widestRow(model)
  const state = model.inputs.length + target.stepIndex
  const lie = cheatingTrace(model, honest, state, target.row, 1n)
  const budget = disputeBudget(params)

  const anvil = await startAnvil({ accounts: 4 })
  try {
    const [deployer, claimant, cheater, challenger] = anvil.accounts.map(
      (a) => new Wallet(a.privateKey, anvil.provider),
    )
    const deployed = await deployOptimistic(deployer)
    const game = (w: Wallet) => gameContract(deployed.gameAddress, w)
    const registered = await registerModel(
      game(deployer),
      modelId(model),
      gameModelConfig(params, { executor: deployed.executorAddress, ...BONDS }),
    )

    let block = await anvil.provider.getBlockNumber()
    await submitClaim(game(claimant), registered.modelId, honest, BONDS.claimBond)
    const [claimTx] = await gameTransactions(
      anvil.provider,
      game(claimant),
      block,
      await anvil.provider.getBlockNumber(),
    )

    const cheat = await submitClaim(game(cheater), registered.modelId, lie, BONDS.claimBond)
    block = await anvil.provider.getBlockNumber()
    t = performance.now()
    const ch = await challengeClaim(game(challenger), cheat.key, BONDS.challengeBond)
    const { view, moves } = await playDispute({
      disputeId: ch.disputeId,
      claimant: honestPlayer({ role: 'claimant', game: game(cheater), trace: lie, model, params }),
      challenger: honestPlayer({ role: 'challenger', game: game(challenger), trace: honest, model, params }),
      maxMoves: 4096,
    })
    const disputeMs = performance.now() - t
    const txs = await gameTransactions(anvil.provider, game(challenger), block, await anvil.provider.getBlockNumber())
    const largest = txs.reduce((a, x) => (x.gas > a.gas ? x : a))
    const largestProof = txs
      .filter((x) => ['step', 'startFold', 'foldStep'].includes(x.fn))
      .reduce((a, x) => (x.gas > a.gas ? x : a))
    const status = (await readClaim(game(challenger), cheat.claimId)).status
    log(`${m.name}: dispute of ${moves.length} moves in ${(disputeMs / 1000).toFixed(1)} s, claim ${status}`)
    return {
      name: m.name,
      shape: m.shape,
      parameters: m.parameters,
      steps: model.steps.length,
      widestState: Math.max(...params.layout.stateSizes),
      widestRow: target.terms,
      compileMs: Math.round(compileMs),
      modelId: compiled.manifest.modelId,
      loadMs: Math.round(loadMs),
      claimMs: Math.round(claimMs),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      registerGas: Number(registered.gasUsed),
      claim: claimTx,
      lie: {
        stepIndex: target.stepIndex,
        origin: model.steps[target.stepIndex].origin,
        kind: model.steps[target.stepIndex].op.op,
        element: target.row,
        terms: target.terms,
      },
      dispute: {
        challenge: txs[0],
        moves: txs.slice(1),
        rounds: moves.length,
        totalGas: txs.reduce((a, x) => a + x.gas, 0),
        largest,
        largestProof: { ...largestProof, stepKind: model.steps[view.hi - model.inputs.length].op.op },
        maxCalldataBytes: Math.max(...txs.map((x) => x.calldataBytes)),
        resolved: view.phase === 'Resolved',
        challengerWon: view.phase === 'Resolved' && !view.claimantWon,
        claimStatus: status,
        disputeMs: Math.round(disputeMs),
      },
      budget: {
        tx: budget.worst.tx,
        origin: budget.worst.origin,
        calldataBytes: budget.worst.calldataBytes,
        gasBound: budget.worst.gasBound,
        fits: budget.fits,
        byKind: Object.fromEntries(
          Object.entries(budget.byKind).map(([k, c]) => [k, { calldataBytes: c.calldataBytes, gasBound: c.gasBound }]),
        ),
      },
    }
  } finally {
    await anvil.stop()
  }
}
