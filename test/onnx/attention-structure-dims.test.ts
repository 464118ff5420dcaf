import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { inspectModel } from '../../src/inspect.js'
import { SymbolicDimensionError, parseOnnx, parseOnnxSelfContained } from '../../src/onnx/parse.js'
import { compileModel } from '../../src/prove/compile.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'

// Symbolic input dimensions (a sequence length "S", a batch "N") bound from the samples file
// when no --dim binds them.

const dir = mkdtempSync(join(tmpdir(), 'veriml-dims-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** x [N, S, 2] and m [S, 2]: Q·Kᵀ of x with itself plus m, so S is used twice. */
const bytes = buildModel({
  name: 'dims',
  opset: 13,
  inputs: [
    { name: 'x', shape: ['N', 'S', 2] },
    { name: 'm', shape: ['S', 2] },
  ],
  outputs: [{ name: 'y', shape: ['N', 'S', 2] }],
  nodes: [{ op: 'Add', name: 'y', inputs: ['x', 'm'], outputs: ['y'] }],
} satisfies BuildModelParameters)
const nested = (shape: number[], v = 0.5): unknown =>
  shape.length === 0 ? v : Array.from({ length: shape[0] }, () => nested(shape.slice(1), v))

describe('symbolic dimensions from the input file', () => {
  it('a nested list of the input shape binds them; one of rank + 1 is a list of samples', () => {
    const one = parseOnnxSelfContained(bytes, 'dims', { inputFile: { x: nested([1, 3, 2]), m: nested([3, 2]) } })
    expect(one.model.inputs.map((i) => i.shape)).toEqual([
      [1, 3, 2],
      [3, 2],
    ])
    expect(one.inferredDims).toEqual({ N: 1, S: 3 })
    const many = parseOnnxSelfContained(bytes, 'dims', {
      inputFile: { input_data: [nested([5, 2, 4, 2]), nested([5, 4, 2])] },
    })
    expect(many.model.inputs[0].shape).toEqual([2, 4, 2])
  })

  it('--dim wins over the file; a flat list binds nothing, and unbound dims are still refused', () => {
    const m = parseOnnx(bytes, 'dims', { dims: { N: 2 }, inputFile: { x: nested([1, 3, 2]), m: nested([3, 2]) } })
    expect(m.inputs[0].shape).toEqual([2, 3, 2])
    expect(() => parseOnnx(bytes, 'dims', { inputFile: { input_data: [nested([6]), nested([6])] } })).toThrow(
      SymbolicDimensionError,
    )
    expect(() => parseOnnx(bytes, 'dims', { inputFile: 'not an object' })).toThrow(/dimension 0 is symbolic \("N"\)/)
  })

  it('a name the file gives two sizes is a SymbolicDimensionError naming both', () => {
    const parse = () => parseOnnx(bytes, 'dims', { inputFile: { x: nested([1, 3, 2]), m: nested([4, 2]) } })
    expect(parse).toThrow(SymbolicDimensionError)
    expect(parse).toThrow(
      expect.objectContaining({
        details: expect.arrayContaining(['The input file gives "S" size 3 in input "x" and 4 here.']),
      }),
    )
  })

  it('inspect and compile (optimistic target) bind them from --calibration; compile records them', async () => {
    const onnxPath = join(dir, 'dims.onnx')
    writeFileSync(onnxPath, bytes)
    const calibrationPath = join(dir, 'cal.json')
    writeFileSync(calibrationPath, JSON.stringify({ x: nested([4, 1, 3, 2], 0.25), m: nested([4, 3, 2], -0.5) }))
    await expect(inspectModel({ onnxPath })).rejects.toThrow(SymbolicDimensionError)
    const report = await inspectModel({ onnxPath, calibrationPath })
    expect(report.text).toMatch(/x \[1,3,2\], m \[3,2\]/)
    const built = await compileModel({ onnxPath, calibrationPath, outDir: join(dir, 'out'), target: 'optimistic' })
    expect(built.manifest.options.dims).toEqual({ N: 1, S: 3 })
  })
})
