import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FIXTURES, fixturePath } from '../../models/make-fixtures.js'
import { irFromJson, irToJson, modelId } from '../../src/ir/serialize.js'
import type { IrModel } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { hasFixedScales } from '../../src/quantize/fixed.js'
import { quantize } from '../../src/quantize/quantize.js'
import { defaultCalibration } from '../../src/prove/compile.js'

/** The definition the fast writer must match byte for byte: model ids of earlier builds depend on it. */
const reference = (v: unknown) =>
  JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Int32Array ? Array.from(x) : x))
const ROOT = join(import.meta.dirname, '..', '..')
const sha = (s: string) => `0x${createHash('sha256').update(s).digest('hex')}`

describe('irToJson / modelId: the chunked writer is JSON.stringify with the canonical replacer', () => {
  it('on every supported fixture and the bundled MNIST models (linear, requant, max, fixed-scale int8)', async () => {
    const files = [
      ...FIXTURES.filter((f) => f.file !== 'unsupported.onnx').map((f) => fixturePath(f.file)),
      ...['mnist-mlp', 'mnist-cnn', 'mnist-cnn.int8'].map((m) => join(ROOT, 'models', `${m}.onnx`)),
    ]
    const kinds = new Set<string>()
    for (const file of files) {
      const graph = lowerOnnx(parseOnnx(new Uint8Array(await readFile(file)), file))
      const ir = quantize(graph, hasFixedScales(graph) ? [] : defaultCalibration(graph.inputs))
      ir.steps.forEach((s) => kinds.add(s.op.op))
      expect(irToJson(ir)).toBe(reference(ir))
      expect(modelId(ir)).toBe(sha(reference(ir)))
      expect(irToJson(irFromJson(irToJson(ir)))).toBe(irToJson(ir))
    }
    expect([...kinds].sort()).toEqual(expect.arrayContaining(['linear', 'max', 'requant']))
  })

  it('on edge cases: empty and long arrays, holes, undefined members, nulls, odd keys, non-finite numbers', () => {
    const long = Array.from({ length: 200_000 }, (_, i) => BigInt(i * 7919 - 10 ** 6) * (i % 3 === 0 ? -1n : 1n))
    const value = {
      a: [],
      b: new Int32Array(0),
      c: [1n, 2n ** 200n, -(2n ** 70n) + 1n, 65536n, -65536n, 65537n, -65537n, 2n ** 53n + 1n],
      d: long,
      e: Int32Array.from({ length: 150_000 }, (_, i) => i * (i % 2 ? -1 : 1)),
      f: undefined,
      g: null,
      'k"ey\n': 'v"\u2028',
      h: [undefined, null, 1, 'x', [2n, 3], { z: undefined }],
      i: [1n, 2],
      j: NaN,
      k: -0,
      l: { m: { n: [Infinity] } },
      o: true,
      p: 1.5e-9,
      // biome-ignore lint/suspicious/noSparseArray: a hole is what this case serialises
      q: [, 1n],
      r: Object.assign(Object.create(null) as object, { s: 2n }),
    } as unknown as IrModel
    expect(irToJson(value)).toBe(reference(value))
    expect(modelId(value)).toBe(sha(reference(value)))
  })
})
