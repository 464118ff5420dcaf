/**
 * One model through both paths: zk (compile, dev setup, witness, prove, verify, on-chain
 * verify gas) and optimistic (claim gas, one whole dispute against a cheating claim).
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Contract, Wallet } from 'ethers'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { deployBuild } from '../../src/chain/model.js'
import { verifyOnChain } from '../../src/chain/verify-on-chain.js'
import { gameContract, challengeClaim, registerModel, submitClaim } from '../../src/optimistic/chain/client.js'
import { claimKeyOf, gameModelConfig } from '../../src/optimistic/config.js'
import { cheatingTrace } from '../../src/optimistic/cheat.js'
import { DEFAULT_GAME_PARAMETERS, loadOptimisticModel } from '../../src/optimistic/chain/deployment.js'
import { honestPlayer, playDispute } from '../../src/optimistic/chain/play.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { compileModel } from '../../src/prove/compile.js'
import { proofPaths } from '../../src/prove/paths.js'
import { proveModel, runModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import type { Progress } from '../../src/util/progress.js'
import type { WeightVisibility } from '../../src/circuit/layout.js'
import { type CircomCompile, measureCircomCompile, weightTerms } from './circom-compare.js'
import { withPeakMemory } from './memory.js'
import type { SweepModel } from './models.js'

/** Groth16 on BN254: A (G1, 64 B) + B (G2, 128 B) + C (G1, 64 B), uncompressed. */
export const RAW_PROOF_BYTES = 256

export interface ZkResult {
  /**
   * Which backend wrote the R1CS (the sweep compiles with the direct backend). Absent in
   * results from before the direct backend (circom).
   */
  compiler?: 'direct' | 'circom'
  /** Σ weights of the IR's linear ops (a conv counts each output position's kernel). */
  weightTerms: number
  constraints: number
  activations: number
  /** report.json's cost model, constraints by kind. */
  cost: Record<string, number>
  publicSignals: number
  compileMs: number
  setupMs: number
  witnessMs: number
  proveMs: number
  verifyMs: number
  peakRssBytes: { compile: number; setup: number; prove: number }
  proofJsonBytes: number
  proofRawBytes: number
  /** Registry `verifyInference` (verify + record + event). */
  verifyGas: number
  /** circom on the same circuit source, in the same run (absent when not asked for: the hashed-weights baseline). */
  circomCompile?: CircomCompile
}

export interface OptimisticResult {
  claimGas: number
  /** The dispute: claim of the lie + challenge + every move, one-step included. */
  disputeGas: number
  /** Moves of the dispute after the challenge (bisection, reveal and one-step transactions). */
  rounds: number
  oneStepGas: number
  /** The IR step the one-step re-executed. */
  oneStepOp: string
  traceStates: number
}

export type Skipped = { skipped: string }

/** Elements of a state tried for a lie that reaches the output. */
const MAX_LIE_ELEMENTS = 256

export interface ChainContext {
  anvil: AnvilInstance
  wallets: Wallet[]
  registryAddress?: string
  gameAddress: string
  executorAddress: string
}

export const VISIBILITY = { input: 'hashed', output: 'public' } as const

export async function measureZk(
  m: SweepModel,
  dir: string,
  chain: ChainContext,
  progress: Progress,
  weights: WeightVisibility = 'constant',
  { circomCompare = false }: { circomCompare?: boolean } = {},
): Promise<ZkResult> {
  const label = weights === 'hashed' ? `${m.name} (hashed weights)` : m.name
  await mkdir(dir, { recursive: true })
  // Beside the build folder, not in it: compile writes only into a new, empty or build folder.
  const onnxPath = typeof m.onnx === 'string' ? m.onnx : `${dir}.source.onnx`
  if (typeof m.onnx !== 'string') await writeFile(onnxPath, m.onnx)
  // The direct backend, passed explicitly whatever compile's default is (issue 15).
  const compiler = 'direct' as const
  const [compiled, compileMem] = await withPeakMemory(() =>
    progress.step(`${label}: compile (${compiler})`, () =>
      compileModel({
        onnxPath,
        outDir: dir,
        calibrationPath: m.calibrationPath,
        visibility: VISIBILITY,
        weights,
        compiler,
        force: true,
      }),
    ),
  )
  const [setup, setupMem] = await withPeakMemory(() =>
    progress.step(`${label}: dev setup`, () => setupModel({ model: compiled.model, dev: true, force: true })),
  )
  const { model } = setup
  const proofDir = join(dir, 'proof')
  const [proved, proveMem] = await withPeakMemory(() =>
    progress.step(`${label}: prove`, () => proveModel({ model, input: m.input, outDir: proofDir })),
  )
  const verified = await verifyProof({ model, proofDir })
  if (!verified.valid) throw new Error(`${label}: snarkjs rejected the proof`)
  const report = JSON.parse(await readFile(model.paths.report, 'utf8')) as { cost: Record<string, number> }

  const privateKey = chain.anvil.accounts[0].privateKey
  const deployment = await progress.step(`${label}: deploy + verify on anvil`, () =>
    deployBuild({
      model,
      rpcUrl: chain.anvil.rpcUrl,
      privateKey,
      registryAddress: chain.registryAddress,
      deploymentPath: join(dir, 'bench-deployment.json'),
    }),
  )
  chain.registryAddress = deployment.registry.address
  const pp = proofPaths(proofDir)
  const proof = JSON.parse(await readFile(pp.proof, 'utf8'))
  const publicSignals = JSON.parse(await readFile(pp.public, 'utf8')) as string[]
  const onChain = await verifyOnChain({
    rpcUrl: chain.anvil.rpcUrl,
    privateKey,
    registryAddress: deployment.registry.address,
    modelId: deployment.modelId,
    proof,
    publicSignals,
  })
  if (!onChain.accepted) throw new Error(`${label}: proof rejected on chain`)

  const terms = weightTerms(compiled.model.ir)
  // After every other measurement, so circom's compile does not disturb them.
  const circomCompile = !circomCompare
    ? undefined
    : await progress.step(`${label}: circom compile of the same source`, () =>
        measureCircomCompile(m.name, terms, model.paths.circuit, dir),
      )
  return {
    compiler,
    weightTerms: terms,
    constraints: compiled.manifest.constraintCount,
    activations: report.cost.activations,
    cost: report.cost,
    publicSignals: compiled.manifest.layout.count,
    compileMs: compiled.manifest.timings.compileMs,
    setupMs: setup.setupMs ?? NaN,
    witnessMs: proved.witnessMs,
    proveMs: proved.proveMs,
    verifyMs: verified.verifyMs,
    peakRssBytes: { compile: compileMem.peakRssBytes, setup: setupMem.peakRssBytes, prove: proveMem.peakRssBytes },
    proofJsonBytes: (await stat(pp.proof)).size,
    proofRawBytes: RAW_PROOF_BYTES,
    verifyGas: Number(onChain.gasUsed),
    ...(circomCompile ? { circomCompile } : {}),
  }
}

/** A model past the zk limit: `compile --target optimistic` (the IR only) into `dir`, for measureOptimistic. */
export async function compileOptimisticOnly(m: SweepModel, dir: string, progress: Progress): Promise<void> {
  await mkdir(dir, { recursive: true })
  const onnxPath = typeof m.onnx === 'string' ? m.onnx : join(dir, 'source.onnx')
  if (typeof m.onnx !== 'string') await writeFile(onnxPath, m.onnx)
  await progress.step(`${m.name}: compile --target optimistic`, () =>
    compileModel({ onnxPath, outDir: dir, calibrationPath: m.calibrationPath, target: 'optimistic', force: true }),
  )
}

/**
 * Registers the compiled model in the game, posts an honest claim (its gas is the claim
 * cost), then a cheating claim whose lie sits in the earliest state that changes the output
 * (see below) and plays the whole dispute with honest agents on both sides.
 */
export async function measureOptimistic(
  m: SweepModel,
  dir: string,
  chain: ChainContext,
  progress: Progress,
): Promise<OptimisticResult | Skipped> {
  const model = await loadOptimisticModel({ model: dir })
  const game = (i: number): Contract => gameContract(chain.gameAddress, chain.wallets[i])
  const bonds = DEFAULT_GAME_PARAMETERS
  const config = gameModelConfig(model.params, { executor: chain.executorAddress, ...bonds })
  const { modelId } = await registerModel(game(0), model.buildModelId, config)
  const run = await runModel({ model: dir, input: m.input })
  const honest = buildTrace(model.model, run.inputs)
  const claim = await submitClaim(game(1), modelId, honest, bonds.claimBond)

  const { inputCount } = model.params.layout
  const outputState = model.params.layout.outputStates[0]
  // The earliest state, then the first of its elements, whose +50 lie reaches the output:
  // for these models the first linear layer's output, the widest one-step (most operands).
  let lie: typeof honest | undefined
  let lieState = inputCount
  let lieElement = 0
  search: for (; lieState < outputState; lieState++) {
    for (lieElement = 0; lieElement < Math.min(honest.states[lieState].length, MAX_LIE_ELEMENTS); lieElement++) {
      const candidate = cheatingTrace(model.model, honest, lieState, lieElement, 50n)
      if (candidate.outputs[0].some((v, i) => v !== honest.outputs[0][i])) {
        lie = candidate
        break search
      }
    }
  }
  if (!lie)
    return {
      skipped: `no +50 lie in the first ${MAX_LIE_ELEMENTS} elements of any intermediate state changes the output`,
    }
  return progress.step(`${m.name}: optimistic dispute`, async () => {
    const c = await submitClaim(game(2), modelId, lie, bonds.claimBond)
    const ch = await challengeClaim(game(3), claimKeyOf(modelId, lie, chain.wallets[2].address), bonds.challengeBond)
    const { view, moves } = await playDispute({
      disputeId: ch.disputeId,
      claimant: honestPlayer({ role: 'claimant', game: game(2), trace: lie, model: model.model, params: model.params }),
      challenger: honestPlayer({
        role: 'challenger',
        game: game(3),
        trace: honest,
        model: model.model,
        params: model.params,
      }),
    })
    if (view.claimantWon || view.phase !== 'Resolved')
      throw new Error(`${m.name}: the cheating claim was not rejected (phase ${view.phase})`)
    const disputeGas = moves.reduce((a, mv) => a + mv.gasUsed, c.gasUsed + ch.gasUsed)
    const step = model.model.steps[lieState - inputCount]
    return {
      claimGas: Number(claim.gasUsed),
      disputeGas: Number(disputeGas),
      rounds: moves.length,
      oneStepGas: Number(moves.at(-1)!.gasUsed),
      oneStepOp: `${step.op.op} (${step.origin}) → ${step.output.shape.join('×')}, element ${lieElement}`,
      traceStates: model.params.layout.stateSizes.length,
    }
  })
}
