import { describe, expect, it } from 'vitest'
import type { IrModel, LinearOp } from '../../src/ir/types.js'
import { linearRowLeaf } from '../../src/optimistic/abi.js'
import { merkleTree } from '../../src/optimistic/merkle.js'
import { commitParams, termsRootOf } from '../../src/optimistic/params.js'
import { inputTensor } from './models.js'

/** One dense linear layer of `rows` × `cols` int8-range weights (fast to build: no PRNG per weight). */
function denseLayer(cols: number, rows: number): IrModel {
  const n = cols * rows
  const colIdx = new Int32Array(n)
  for (let k = 0; k < n; k++) colIdx[k] = k % cols
  const vals = Array.from({ length: n }, (_, k) => BigInt(((k * 7_919) % 255) - 127))
  const op: LinearOp = {
    op: 'linear',
    inputs: [0],
    rowPtr: Int32Array.from({ length: rows + 1 }, (_, j) => j * cols),
    cols: colIdx,
    vals,
    bias: Array.from({ length: rows }, (_, j) => BigInt(j - 100)),
  }
  return {
    name: `dense-${cols}x${rows}`,
    inputs: [inputTensor(0, cols)],
    steps: [{ origin: 'Gemm_0', op, output: { id: 1, name: 'y', shape: [rows] } }],
    outputs: [{ tensor: 1, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

// Speed is measured in bench/optimistic-scale.ts (the "load" column: ir.json + this commitment
// for a 12.6M-parameter model), never asserted in a unit test.
describe('parameter commitment', () => {
  it("keeps one row tree per linear step, each leaf over its row's recomputed term root (term trees are not kept)", () => {
    const model = denseLayer(300, 70)
    const op = model.steps[0].op as LinearOp
    const params = commitParams(model)
    expect(params.opTrees[0]!.layers[0]).toHaveLength(128)
    for (const j of [0, 33, 69])
      expect(params.opTrees[0]!.layers[0][j]).toBe(linearRowLeaf(op.bias[j], 300, termsRootOf(op, j)))
    expect(params.opTrees[0]!.root).toBe(merkleTree(params.opTrees[0]!.layers[0].slice(0, 70)).root)
  })
})
