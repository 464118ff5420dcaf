import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { measureModel } from '../../bench/optimistic-scale/measure.js'
import { benchModels, scaleCnn, scaleMlp, scaleModelFile } from '../../models/scale-models.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { DISPUTE_BUDGET } from '../../src/optimistic/budget.js'

const parametersOf = (bytes: Uint8Array) =>
  [...parseOnnx(bytes, 'm').initializers.values()].reduce((a, t) => a + t.data.length, 0)

describe('scale benchmark models (models/scale-models.ts)', () => {
  it('are seeded: the same bytes every time, other bytes for another seed', () => {
    const a = scaleMlp([16, 32, 4], 7).build()
    expect(scaleMlp([16, 32, 4], 7).build()).toEqual(a)
    expect(scaleMlp([16, 32, 4], 8).build()).not.toEqual(a)
  })

  it('state their parameter counts exactly; the small CNN and MLP builders agree with the ONNX they write', () => {
    for (const m of [scaleMlp([16, 32, 8, 4], 1), scaleCnn(3, 12, 4, 2)])
      expect(parametersOf(m.build())).toBe(m.parameters)
  })

  it('cover the brief: a 4,096- and an 8,192-wide layer, a 3×128×128 input map, ≥ 10M parameters, and the bundled MNIST models', () => {
    const names = benchModels().map((m) => m.name)
    expect(names).toEqual([
      'mnist-cnn',
      'mnist-mlp',
      'mlp-256-4096-32-8192-10',
      'cnn-3x128x128-c16',
      'mlp-1024-4096-2048-10',
      'nanogpt',
    ])
    const big = benchModels().find((m) => m.name === 'mlp-1024-4096-2048-10')!
    expect(big.parameters).toBeGreaterThanOrEqual(10_000_000)
    expect(parametersOf((big.source as { build(): Uint8Array }).build())).toBe(big.parameters)
    const cnn = parseOnnx((benchModels()[3].source as { build(): Uint8Array }).build(), 'cnn')
    expect(cnn.inputs[0].shape).toEqual([1, 3, 128, 128])
  }, 60_000)
})

/** The benchmark's measurement on the smallest model: a whole dispute at its widest row, on anvil. */
describe('measureModel (mnist-cnn)', () => {
  let work: string
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'veriml-scale-test-'))
  })
  afterAll(async () => {
    await rm(work, { recursive: true, force: true })
  })

  it('the cheater lying at the widest row loses; every transaction fits the budget and its predicted bound', async () => {
    const m = benchModels().find((x) => x.name === 'mnist-cnn')!
    expect(await scaleModelFile(m, work)).toMatch(/models\/mnist-cnn\.onnx$/)
    const r = await measureModel(m, join(work, 'builds'), work, () => {})
    expect(r.dispute.challengerWon).toBe(true)
    expect(r.dispute.claimStatus).toBe('Rejected')
    expect(r.lie).toMatchObject({ kind: 'linear', terms: 256 })
    // Bisection over steps, then elements, then the row's 256 terms: 8 fold rounds of 2 moves.
    expect(r.dispute.moves.filter((x) => x.fn === 'foldPropose')).toHaveLength(8)
    const txs = [r.dispute.challenge, ...r.dispute.moves]
    for (const tx of txs) {
      expect(tx.gas).toBeLessThanOrEqual(Math.min(DISPUTE_BUDGET.gas, r.budget.byKind[tx.fn].gasBound))
      expect(tx.calldataBytes).toBeLessThanOrEqual(
        Math.min(DISPUTE_BUDGET.calldataBytes, r.budget.byKind[tx.fn].calldataBytes),
      )
    }
    expect(r.dispute.totalGas).toBe(txs.reduce((a, x) => a + x.gas, 0))
    expect(r.dispute.largestProof.stepKind).toBe('linear')
    expect(r.budget.fits).toBe(true)
    expect(r.peakRssMb).toBeGreaterThan(0)
  }, 240_000)
})
