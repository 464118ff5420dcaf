import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import onnxProto from 'onnx-proto'
import { afterAll, describe, expect, it } from 'vitest'
import { ExternalDataError } from '../../src/onnx/external.js'
import { readOnnxFile } from '../../src/onnx/file.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { compileModel } from '../../src/prove/compile.js'
import { rng } from '../helpers/circuit.js'

const { onnx } = onnxProto

const r = rng(16)
const weights = (n: number) => Float32Array.from({ length: n }, () => r() - 0.5)
const W = { w1: [4, 6], b1: [6], w2: [6, 3], b2: [3] } as const
const values = Object.fromEntries(Object.entries(W).map(([k, dims]) => [k, weights(dims.reduce((a, b) => a * b, 1))]))

const mlp: BuildModelParameters = {
  name: 'mlp',
  inputs: [{ name: 'x', shape: [1, 4] }],
  outputs: [{ name: 'y', shape: [1, 3] }],
  initializers: Object.entries(W).map(([name, dims]) => ({ name, dims: [...dims], data: values[name] })),
  nodes: [
    { op: 'MatMul', name: 'mm1', inputs: ['x', 'w1'], outputs: ['h1'] },
    { op: 'Add', name: 'add1', inputs: ['h1', 'b1'], outputs: ['h2'] },
    { op: 'Relu', name: 'relu', inputs: ['h2'], outputs: ['h3'] },
    { op: 'MatMul', name: 'mm2', inputs: ['h3', 'w2'], outputs: ['h4'] },
    { op: 'Add', name: 'add2', inputs: ['h4', 'b2'], outputs: ['y'] },
  ],
}

/**
 * The MLP as an exporter with `save_as_external_data` writes it: every initializer's bytes in
 * `data` (little-endian float32, each at an 8-aligned offset after a gap), the model naming
 * `location` and its offset and length. `length: 'huge'` overstates the last tensor's length;
 * `checksum` writes a checksum entry computed from the tensor's bytes.
 */
function writeExternal(
  folder: string,
  location: string,
  { length = 'exact', checksum }: { length?: 'exact' | 'huge'; checksum?: (bytes: Uint8Array) => string } = {},
): string {
  mkdirSync(folder, { recursive: true })
  const proto = onnx.ModelProto.decode(buildModel(mlp))
  const chunks: Uint8Array[] = []
  let offset = 16
  chunks.push(new Uint8Array(16)) // a header the model never points at: offsets must be honoured
  for (const t of proto.graph!.initializer!) {
    const bytes = new Uint8Array(values[t.name!].buffer.slice(0))
    const pad = (8 - (bytes.length % 8)) % 8
    const declared = length === 'huge' ? bytes.length + 4096 : bytes.length
    t.rawData = new Uint8Array(0)
    t.floatData = []
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(declared) },
      ...(checksum ? [{ key: 'checksum', value: checksum(bytes) }] : []),
    ]
    chunks.push(bytes, new Uint8Array(pad))
    offset += bytes.length + pad
  }
  const path = join(folder, 'mlp.onnx')
  writeFileSync(path, onnx.ModelProto.encode(proto).finish())
  writeFileSync(join(folder, 'mlp.onnx.data'), Buffer.concat(chunks))
  return path
}

const dir = mkdtempSync(join(tmpdir(), 'veriml-external-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ONNX external data', () => {
  it('compiles a model with external weights to the same IR as embedded, with the yardstick reporting', async () => {
    const external = writeExternal(join(dir, 'ext'), 'mlp.onnx.data')
    const embedded = join(dir, 'embedded.onnx')
    writeFileSync(embedded, buildModel(mlp))
    const a = await compileModel({ onnxPath: external, outDir: join(dir, 'build-ext') })
    const b = await compileModel({ onnxPath: embedded, outDir: join(dir, 'build-emb') })
    expect(a.manifest.modelId).toBe(b.manifest.modelId)
    // onnxruntime ran the model (it would refuse external data it cannot find) and agrees.
    expect(a.accuracy.samples).toBeGreaterThan(0)
    expect(a.accuracy).toEqual(b.accuracy)
    expect(a.accuracy.maxAbsError).toBeLessThan(0.05)
  })

  it('refuses a data file that does not exist, naming tensor and file', async () => {
    const path = writeExternal(join(dir, 'missing'), 'weights.bin')
    await expect(readOnnxFile(path)).rejects.toThrow(ExternalDataError)
    await expect(readOnnxFile(path)).rejects.toThrow(/tensor "w1": external data file "weights.bin" does not exist/)
  })

  it('refuses an offset and length that run past the end of the file', async () => {
    const path = writeExternal(join(dir, 'short'), 'mlp.onnx.data', { length: 'huge' })
    await expect(readOnnxFile(path)).rejects.toThrow(ExternalDataError)
    await expect(readOnnxFile(path)).rejects.toThrow(/tensor "w1": external data file "mlp.onnx.data" holds \d+ bytes/)
  })

  it.each([['../mlp.onnx.data'], ['/etc/passwd'], ['sub/../../x.data']])(
    'refuses a location outside the model folder: %s',
    async (location) => {
      const path = writeExternal(join(dir, 'escape', 'inner'), location)
      await expect(readOnnxFile(path)).rejects.toThrow(ExternalDataError)
      await expect(readOnnxFile(path)).rejects.toThrow(/outside the model's folder/)
    },
  )

  it('refuses a symbolic link in the folder that points out of it', async () => {
    const outside = join(dir, 'secret.data')
    writeFileSync(outside, new Uint8Array(4096))
    const path = writeExternal(join(dir, 'link'), 'link.data')
    symlinkSync(outside, join(dir, 'link', 'link.data'))
    await expect(readOnnxFile(path)).rejects.toThrow(/tensor "w1": external data file "link.data" lies outside/)
  })

  it('the pure parser, given bytes and no resolver, refuses external data by name', () => {
    const path = writeExternal(join(dir, 'bytes'), 'mlp.onnx.data')
    const bytes = new Uint8Array(readFileSync(path))
    expect(() => parseOnnx(bytes, 'mlp.onnx')).toThrow(ExternalDataError)
  })

  const digest = (algorithm: string) => (b: Uint8Array) => createHash(algorithm).update(b).digest('hex')

  it.each([['sha1'], ['sha256']])(
    'verifies a %s checksum of the tensor bytes and refuses swapped weights',
    async (a) => {
      const path = writeExternal(join(dir, `sum-${a}`), 'mlp.onnx.data', { checksum: digest(a) })
      await expect(readOnnxFile(path)).resolves.toBeDefined()
      // One weight changed in the data file: the first tensor's digest no longer matches.
      const data = readFileSync(join(dir, `sum-${a}`, 'mlp.onnx.data'))
      data[16] ^= 1
      writeFileSync(join(dir, `sum-${a}`, 'mlp.onnx.data'), data)
      await expect(readOnnxFile(path)).rejects.toThrow(ExternalDataError)
      await expect(readOnnxFile(path)).rejects.toThrow(/tensor "w1": external data file "mlp.onnx.data" does not match/)
    },
  )

  it("accepts a checksum of the whole data file (the ONNX proto's wording) and refuses one that is not a digest", async () => {
    const folder = join(dir, 'sum-file')
    writeExternal(folder, 'mlp.onnx.data')
    const whole = digest('sha1')(readFileSync(join(folder, 'mlp.onnx.data')))
    const path = writeExternal(folder, 'mlp.onnx.data', { checksum: () => whole.toUpperCase() })
    await expect(readOnnxFile(path)).resolves.toBeDefined()
    const bad = writeExternal(join(dir, 'sum-bad'), 'mlp.onnx.data', { checksum: () => 'md5:1234' })
    await expect(readOnnxFile(bad)).rejects.toThrow(/checksum "md5:1234" that is neither a SHA-1 nor a SHA-256/)
  })
})
