import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { FIXTURES, fixturePath } from '../../models/make-fixtures.js'
import { executeFloat } from '../../src/onnx/graph.js'
import { UnsupportedOpsError, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { runOnnxruntime } from '../../src/onnx/runtime.js'
import { rng } from '../helpers/circuit.js'

const supported = FIXTURES.filter((f) => f.file !== 'unsupported.onnx')

describe('ONNX lowering', () => {
  it.each(supported.map((f) => [f.file, f]))('%s: the fused float graph equals onnxruntime', async (_, f) => {
    const bytes = readFileSync(fixturePath(f.file))
    const onnx = parseOnnx(bytes)
    const graph = lowerOnnx(onnx)
    const r = rng(7)
    const samples = Array.from({ length: 8 }, () => graph.inputs.map((i) => Float64Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1)))
    const reference = await runOnnxruntime(bytes, onnx.inputs, samples)
    samples.forEach((s, k) => {
      const values = executeFloat(graph, s)
      graph.outputs.forEach((o, j) => {
        const got = values.get(o.id)!
        expect(got.length).toBe(reference[k][j].length)
        got.forEach((v, i) => expect(v).toBeCloseTo(reference[k][j][i], 4))
      })
    })
  })

  it('fuses each chain of constant linear ops into one affine step', () => {
    const graph = lowerOnnx(parseOnnx(readFileSync(fixturePath('matmul-add.onnx'))))
    // MatMul + Add → affine; Relu → clamp; MatMul + Add → affine.
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp', 'affine'])
  })

  it('reports every unsupported node in one error, with name, op type and opset', () => {
    const onnx = parseOnnx(readFileSync(fixturePath('unsupported.onnx')))
    let error: unknown
    try { lowerOnnx(onnx) } catch (e) { error = e }
    expect(error).toBeInstanceOf(UnsupportedOpsError)
    const nodes = (error as UnsupportedOpsError).nodes
    expect(nodes.map((n) => n.opType).sort()).toEqual(['Erf', 'LRN'])
    expect(nodes.every((n) => n.name.length > 0 && n.opset === onnx.opset)).toBe(true)
    expect((error as Error).message).toMatch(/2 unsupported ONNX nodes/)
  })

  it('rejects bytes that are not ONNX with a specific error', () => {
    expect(() => parseOnnx(Uint8Array.from([1, 2, 3, 255, 255]), 'junk.onnx')).toThrow(/junk.onnx/)
  })
})
