import { fileURLToPath } from 'node:url'
import { Contract, ContractFactory, type InterfaceAbi, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { compileSolidity } from '../../src/chain/solc.js'
import type { IrModel } from '../../src/ir/types.js'
import { deployOptimistic, optimisticArtifacts } from '../../src/optimistic/chain/contracts.js'
import {
  buildFoldRowProof,
  buildFoldStepProof,
  buildOneStepProof,
  foldAccs,
  foldQuery,
  isFoldOp,
  stepQuery,
} from '../../src/optimistic/one-step.js'
import { commitParams } from '../../src/optimistic/params.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { gasModel, legacyGasModel, mulModel } from './fixtures.js'
import { randomInputs, rng } from './models.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Execution gas of the executor per op kind on fixed models, measured by GasProbe as the game
 * pays it inside its transaction: `valueAt` for requant, gather, lookup and mul; `foldRow` and
 * one `foldStep` for linear and max (every term costs the same: one term leaf, one operand).
 */
describe('one-step gas', () => {
  let anvil: AnvilInstance
  let executor: Contract
  let wallet: Wallet
  let probe: Contract
  beforeAll(async () => {
    anvil = await startAnvil()
    wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
    const { executorAddress } = await deployOptimistic(wallet)
    executor = new Contract(executorAddress, optimisticArtifacts().executor.abi as InterfaceAbi, wallet)
    const p = compileSolidity({ baseDir: ROOT, files: ['test/optimistic/GasProbe.sol'] }).contracts.GasProbe
    probe = (await (
      await new ContractFactory(p.abi as InterfaceAbi, p.bytecode, wallet).deploy()
    ).waitForDeployment()) as Contract
  })
  afterAll(async () => anvil?.stop())

  interface GasRow {
    step: string
    /** valueAt, or foldRow for a fold op. */
    executionGas: bigint
    /** The last term's foldStep (fold ops only). */
    termGas: bigint | null
  }

  /** Gas of element `elementOf(size)` of every step (the last element by default). */
  async function measure(model: IrModel, elementOf = (size: number) => size - 1): Promise<GasRow[]> {
    const params = commitParams(model)
    const trace = buildTrace(model, randomInputs(model, rng(5)))
    const at = await executor.getAddress()
    const rows: GasRow[] = []
    for (let s = 0; s < model.steps.length; s++) {
      const pos = params.layout.inputCount + s
      const element = elementOf(trace.states[pos].length)
      const q = stepQuery(params, trace, s, element)
      const p = { model, params, trace, stepIndex: s, element }
      const op = model.steps[s].op
      if (!isFoldOp(op)) {
        const [value, executionGas] = await probe.measure(at, q, buildOneStepProof(p))
        expect(value).toBe(trace.states[pos][element])
        rows.push({ step: `${s} ${model.steps[s].origin}`, executionGas, termGas: null })
        continue
      }
      const [, termCount, , executionGas] = await probe.measureFoldRow(at, q, buildFoldRowProof(p))
      const accs = foldAccs(model, params, trace, s, element)
      const term = Number(termCount) - 1
      const f = foldQuery(model, params, trace, s, element, term, accs[term])
      const [next, termGas] = await probe.measureFoldStep(at, f, buildFoldStepProof({ ...p, term }))
      expect(next).toBe(trace.states[pos][element])
      rows.push({ step: `${s} ${model.steps[s].origin}`, executionGas, termGas })
    }
    const lines = rows.map(
      (r) =>
        `  ${r.step.padEnd(28)} ${String(r.executionGas).padStart(9)} ${r.termGas === null ? '' : String(r.termGas).padStart(9)}`,
    )
    console.log(`${model.name}: executor gas (valueAt or foldRow; foldStep)\n${lines.join('\n')}`)
    return rows
  }

  it('linear (foldRow + foldStep), requant, gather on a fixed model', async () => {
    const rows = await measure(legacyGasModel())
    // A linear element no longer reads its whole operand: its row and one term, whatever the width.
    // Bounds about 30% above what was measured (2026-12-06: at most 18k foldRow, 21k foldStep, 21k valueAt).
    for (const r of rows) expect(r.executionGas, r.step).toBeLessThan(26_000n)
    for (const r of rows.filter((x) => x.termGas !== null)) expect(r.termGas!, r.step).toBeLessThan(26_000n)
  })

  it('max (pooling rows of 4 and 9, term by term), lookup (256 entries) and half-even requant', async () => {
    // Element 36 of an 8×8 map is (4, 4): an interior 3×3 window, 9 operands.
    const rows = await measure(gasModel(), (size) => (size === 64 ? 36 : size - 1))
    for (const r of rows) expect(r.executionGas, r.step).toBeLessThan(26_000n)
    for (const r of rows.filter((x) => x.termGas !== null)) expect(r.termGas!, r.step).toBeLessThan(26_000n)
  })

  it('mul: a square, a product across operand tensors, a product of products', async () => {
    const model = mulModel()
    // Elements 0 (x[0]·x[0]), 1 (in0·in1), 4 (in0·t2) of the first mul; 1 of the second.
    const rows = [
      ...(await measure(model, () => 0)),
      ...(await measure(model, () => 1)),
      ...(await measure(model, (size) => (size === 7 ? 4 : size - 1))),
    ]
    const mulRows = rows.filter((r) => r.step.includes('mul_'))
    expect(mulRows).toHaveLength(6)
    // Two element openings and a pair leaf.
    for (const r of mulRows) expect(r.executionGas, r.step).toBeLessThan(MUL_GAS_BUDGET)
  })
})

const MUL_GAS_BUDGET = 30_000n
