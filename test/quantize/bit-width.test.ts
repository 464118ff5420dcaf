import { describe, expect, it } from 'vitest'
import type { FloatGraph } from '../../src/onnx/graph.js'
import { BitWidthError, compileModel, quantize } from '../../src/index.js'

describe('one BitWidthError for quantize() and compileModel()', () => {
  it.each([
    [{ activationBits: 1 }, 'activationBits', 1],
    [{ weightBits: 2.5 }, 'weightBits', 2.5],
    [{ weightBits: 33 }, 'weightBits', 33],
  ])('quantize(%o) names the option', (options, option, value) => {
    // The widths are checked before the graph is looked at.
    expect(() => quantize({} as FloatGraph, [], options)).toThrow(BitWidthError)
    expect(() => quantize({} as FloatGraph, [], options)).toThrow(
      expect.objectContaining({
        option,
        value,
        shortMessage: `${option} must be an integer from 2 to 32; got ${value}`,
      }),
    )
  })

  it('compileModel names the flag, before it reads anything', async () => {
    const compiling = compileModel({ onnxPath: '/nonexistent/model.onnx', outDir: '/nonexistent/out', weightBits: 0 })
    await expect(compiling).rejects.toThrow(BitWidthError)
    await expect(compiling).rejects.toMatchObject({
      option: '--weight-bits',
      shortMessage: '--weight-bits must be an integer from 2 to 32; got 0',
    })
  })
})
