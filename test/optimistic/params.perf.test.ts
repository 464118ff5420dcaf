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
  const op: LinearOp = { op: 'linear', inputs: [0], rowPtr: Int32Array.from({ length: rows + 1 }, (_, j) => j * cols), cols: colIdx, vals, bias: Array.from({ length: rows }, (_, j) => BigInt(j - 100)) }
  return {
    name: `dense-${cols}x${rows}`,
    inputs: [inputTensor(0, cols)],
    steps: [{ origin: 'Gemm_0', op, output: { id: 1, name: 'y', shape: [rows] } }],
    outputs: [{ tensor: 1, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
  }
}

describe('parameter commitment speed', () => {
  it('a 10M-weight layer commits in well under 60 s (term trees hashed with WebAssembly keccak, not kept)', () => {
    const model = denseLayer(4_096, 2_442)
    const op = model.steps[0].op as LinearOp
    expect(op.vals.length).toBeGreaterThanOrEqual(10_000_000)
    const t0 = performance.now()
    const params = commitParams(model)
    const ms = performance.now() - t0
    console.log(`commitParams, ${op.vals.length} weights (4,096 × 2,442 linear): ${Math.round(ms)} ms (${((1000 * ms) / op.vals.length).toFixed(2)} µs a weight)`)
    expect(ms).toBeLessThan(60_000)
    // Only the row tree is kept: one leaf per row, each over its recomputed term root.
    expect(params.opTrees[0]!.layers[0]).toHaveLength(4_096)
    for (const j of [0, 1_234, 2_441]) expect(params.opTrees[0]!.layers[0][j]).toBe(linearRowLeaf(op.bias[j], 4_096, termsRootOf(op, j)))
    expect(params.opTrees[0]!.root).toBe(merkleTree(params.opTrees[0]!.layers[0].slice(0, 2_442)).root)
  }, 180_000)
})
