import { describe, expect, it } from 'vitest'
import type { IrModel } from '../../src/ir/types.js'
import { denseStarts, encodeProgram, programSize, widthOf } from '../../src/onchain/encode.js'
import { OnchainEncodeError } from '../../src/onchain/errors.js'
import { inputCommitment, statementCommitments } from '../../src/ir/commitment.js'
import { execute } from '../../src/ir/execute.js'
import { claimKeyOf } from '../../src/optimistic/config.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { estimateOnchainGas, ONCHAIN_GAS_BUDGET, TX_GAS_CAP } from '../../src/onchain/gas.js'
import { denseLinear, inputTensor, mlp, randomInputs, randomModel, rng } from '../optimistic/models.js'
import { step } from '../../models/optimistic-models.js'

const quant = { scale: 1, zeroPoint: 0 }

/** One linear row of two terms over input x (domain [lo, hi]): vals · [x0, x0]. */
function cancelling(lo: bigint, hi: bigint, vals: [bigint, bigint]): IrModel {
  return {
    name: 'cancelling',
    inputs: [{ id: 0, name: 'x', shape: [1], quant, lo, hi }],
    steps: [
      {
        origin: 'row',
        output: { id: 1, name: 'y', shape: [1] },
        op: { op: 'linear', inputs: [0], rowPtr: Int32Array.of(0, 2), cols: Int32Array.of(0, 0), vals, bias: [0n] },
      },
    ],
    outputs: [{ tensor: 1, name: 'y', quant }],
  }
}

describe('on-chain program encoding and gas estimate', () => {
  it('stores an array in the fewest signed bytes', () => {
    expect([[127], [-128], [128], [-129], [0, 32767, -32768], [(1n << 255n) - 1n], [1n << 255n]].map(widthOf)).toEqual([
      1, 1, 2, 2, 2, 32, 33,
    ])
  })

  it('stores a row of consecutive columns as its start only', () => {
    expect(denseStarts({ rowPtr: Int32Array.of(0, 3, 3, 5), cols: Int32Array.of(4, 5, 6, 0, 1) })).toEqual(
      Int32Array.of(4, 0, 0),
    )
    expect(denseStarts({ rowPtr: Int32Array.of(0, 2), cols: Int32Array.of(1, 3) })).toBeNull()
    const dense = encodeProgram(mlp([16, 8], 1)).length
    const model = mlp([16, 8], 1)
    const op = model.steps[0].op as { cols: Int32Array }
    op.cols = op.cols.map((c) => 15 - c)
    // 128 column bytes instead of 8 starts.
    expect(encodeProgram(model).length - dense).toBe(128 - 8)
  })

  it('programSize counts exactly the bytes encodeProgram writes', () => {
    for (const model of [mlp([16, 8, 4], 1), ...[1, 2, 3, 4].map((seed) => randomModel(seed, 10, { divIsqrt: true }))])
      expect(programSize(model), model.name).toBe(encodeProgram(model).length)
  })

  it('refuses a linear row whose partial sums can leave int256 though its result cannot', () => {
    // x = 2^200 only: each term is ±2^260 (past int256), the row's sum 0.
    const x = 1n << 200n
    expect(() => encodeProgram(cancelling(x, x, [1n << 60n, -(1n << 60n)]))).toThrow(OnchainEncodeError)
    expect(() => encodeProgram(cancelling(x, x, [1n << 50n, -(1n << 50n)]))).not.toThrow()
  })

  it('the MNIST-sized 784-128-10 MLP fits the budget; 784-256-10 with 16-bit weights does not', () => {
    expect(ONCHAIN_GAS_BUDGET).toBeLessThan(TX_GAS_CAP)
    const small = estimateOnchainGas(mlp([784, 128, 10], 1))
    expect(small).toMatchObject({ fits: true, chunks: 5 })
    const r = rng(2)
    const wide: IrModel = {
      name: 'wide',
      inputs: [inputTensor(0, 784)],
      steps: [step(1, denseLinear([0], 784, 256, r, 1000), 256), step(2, denseLinear([1], 256, 10, r, 1000), 10)],
      outputs: [{ tensor: 2, name: 'out', quant }],
    }
    const big = estimateOnchainGas(wide)
    expect(big.fits).toBe(false)
    expect(big.run).toBeGreaterThan(TX_GAS_CAP)
  })

  it("the on-chain statement's commitments are an optimistic claim's (two inputs, several outputs)", () => {
    for (const seed of [1, 2, 3]) {
      const model = randomModel(seed, 10, { divIsqrt: true })
      const input = randomInputs(model, rng(seed))
      const key = claimKeyOf('0x01', buildTrace(model, input), '0x0000000000000000000000000000000000000001')
      const c = statementCommitments(model, input, execute(model, input).outputs)
      expect([c.inputCommitment, c.outputsHash], model.name).toEqual([key.inputHash, key.outputsHash])
      expect(inputCommitment(model, input)).toBe(key.inputHash)
    }
  })
})
