import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { FIXTURES, fixturePath } from '../../models/make-fixtures.js'
import { UnsupportedOpsError, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { matchesOnnxruntime } from '../helpers/onnx.js'

const supported = FIXTURES.filter((f) => f.file !== 'unsupported.onnx')

describe('ONNX lowering', () => {
  it.each(supported.map((f) => [f.file, f]))('%s: the fused float graph equals onnxruntime', async (_, f) => {
    await matchesOnnxruntime(new Uint8Array(readFileSync(fixturePath(f.file))), 7, { samples: 8 })
  })

  it('fuses each chain of constant linear ops into one affine step', () => {
    const graph = lowerOnnx(parseOnnx(readFileSync(fixturePath('matmul-add.onnx'))))
    // MatMul + Add → affine; Relu → clamp; MatMul + Add → affine.
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['affine', 'clamp', 'affine'])
  })

  it('reports every unsupported node in one error, with name, op type and opset', () => {
    const onnx = parseOnnx(readFileSync(fixturePath('unsupported.onnx')))
    let error: unknown
    try {
      lowerOnnx(onnx)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(UnsupportedOpsError)
    const nodes = (error as UnsupportedOpsError).nodes
    expect(nodes.map((n) => n.opType).sort()).toEqual(['LRN'])
    expect(nodes.every((n) => n.name.length > 0 && n.opset === onnx.opset)).toBe(true)
    expect((error as Error).message).toMatch(/1 unsupported ONNX node:/)
  })

  it('rejects bytes that are not ONNX with a specific error', () => {
    expect(() => parseOnnx(Uint8Array.from([1, 2, 3, 255, 255]), 'junk.onnx')).toThrow(/junk.onnx/)
  })
})
