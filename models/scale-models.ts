/**
 * Models for the optimistic scale benchmark (bench/optimistic-scale.ts), past what the zk path
 * can prove: wide layers, a large input map, ≥ 10M parameters. Seeded and built with the
 * project's own ONNX writer; never committed (tens of MB): `scaleModelFile` writes each one
 * once into a cache folder and reuses it while its bytes are unchanged.
 *
 *   npx tsx models/scale-models.ts [DIR]     writes every scale model into DIR
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildModel, type BuildModelParameters } from '../src/onnx/write.js'
import { writeFileAtomic } from '../src/util/fs.js'
import { GPT_DEFAULTS, gptOnnx, gptParameterCount } from './gpt.js'
import { seededRandom } from './mnist-data.js'

export interface ScaleModel {
  name: string
  /** What the model is, for the report's table. */
  shape: string
  parameters: number
  /** Values in the (single) input. */
  inputSize: number
  build(): Uint8Array
}

const ROOT = join(import.meta.dirname, '..')
const f32 = (name: string, shape: number[]) => ({ name, shape })
const meta = (seed: number) => ({ seed: String(seed), generator: 'models/scale-models.ts' })

/** Uniform in [-s, s) with s = 1/sqrt(fanIn), so activations keep a similar range at every width. */
function weights(random: () => number, n: number, fanIn: number): Float32Array {
  const s = 1 / Math.sqrt(fanIn)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = (2 * random() - 1) * s
  return out
}

export const mlpParameters = (sizes: number[]) => sizes.slice(1).reduce((a, m, l) => a + m * sizes[l] + m, 0)

/**
 * The ONNX bytes of a seeded MLP: Gemm (transB=1) + Relu per hidden layer and a final Gemm,
 * `sizes` = [inputs, hidden..., outputs]. Shared with the zk sweep (bench/sweep/models.ts),
 * which names itself as the generator.
 */
export function mlpOnnx(sizes: number[], seed: number, generator = 'models/scale-models.ts'): Uint8Array {
  const r = seededRandom(seed)
  const initializers: BuildModelParameters['initializers'] = []
  const nodes: BuildModelParameters['nodes'] = []
  let prev = 'input'
  for (let l = 1; l < sizes.length; l++) {
    const [n, m] = [sizes[l - 1], sizes[l]]
    initializers.push({ name: `fc${l}.weight`, dims: [m, n], data: weights(r, m * n, n) })
    initializers.push({ name: `fc${l}.bias`, dims: [m], data: weights(r, m, n) })
    const last = l === sizes.length - 1
    const out = last ? 'output' : `fc${l}.out`
    nodes.push({
      op: 'Gemm',
      name: `fc${l}`,
      inputs: [prev, `fc${l}.weight`, `fc${l}.bias`],
      outputs: [out],
      attributes: { transB: { int: 1 } },
    })
    if (!last) {
      nodes.push({ op: 'Relu', name: `relu${l}`, inputs: [out], outputs: [`relu${l}.out`] })
      prev = `relu${l}.out`
    }
  }
  return buildModel({
    name: `mlp-${sizes.join('-')}`.replaceAll('-', '_'),
    inputs: [f32('input', [1, sizes[0]])],
    outputs: [f32('output', [1, sizes.at(-1)!])],
    initializers,
    nodes,
    metadata: { seed: String(seed), generator },
  })
}

export function scaleMlp(sizes: number[], seed: number): ScaleModel {
  return {
    name: `mlp-${sizes.join('-')}`,
    shape: sizes.join('→'),
    parameters: mlpParameters(sizes),
    inputSize: sizes[0],
    build: () => mlpOnnx(sizes, seed),
  }
}

/** Conv 3×3 (valid) → Relu → MaxPool 2×2 → Flatten → Gemm to 10, on a `channels`×`side`×`side` map. */
export function scaleCnn(channels: number, side: number, filters: number, seed: number): ScaleModel {
  const pooled = Math.floor((side - 2) / 2)
  const flat = filters * pooled * pooled
  const name = `cnn-${channels}x${side}x${side}-c${filters}`
  return {
    name,
    shape: `${channels}×${side}×${side}, conv3×3→${filters}, maxpool 2, dense ${flat}→10`,
    parameters: filters * channels * 9 + filters + flat * 10 + 10,
    inputSize: channels * side * side,
    build() {
      const r = seededRandom(seed)
      return buildModel({
        name: name.replaceAll('-', '_'),
        inputs: [f32('input', [1, channels, side, side])],
        outputs: [f32('output', [1, 10])],
        initializers: [
          {
            name: 'conv.weight',
            dims: [filters, channels, 3, 3],
            data: weights(r, filters * channels * 9, channels * 9),
          },
          { name: 'conv.bias', dims: [filters], data: weights(r, filters, channels * 9) },
          { name: 'fc.weight', dims: [10, flat], data: weights(r, 10 * flat, flat) },
          { name: 'fc.bias', dims: [10], data: weights(r, 10, flat) },
        ],
        nodes: [
          {
            op: 'Conv',
            name: 'conv',
            inputs: ['input', 'conv.weight', 'conv.bias'],
            outputs: ['conv.out'],
            attributes: { kernel_shape: { ints: [3, 3] } },
          },
          { op: 'Relu', name: 'relu', inputs: ['conv.out'], outputs: ['relu.out'] },
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['relu.out'],
            outputs: ['pool.out'],
            attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
          },
          { op: 'Flatten', name: 'flatten', inputs: ['pool.out'], outputs: ['flat'] },
          {
            op: 'Gemm',
            name: 'fc',
            inputs: ['flat', 'fc.weight', 'fc.bias'],
            outputs: ['output'],
            attributes: { transB: { int: 1 } },
          },
        ],
        metadata: meta(seed),
      })
    },
  }
}

/** A model of the benchmark: generated (built into the cache) or shipped in models/. */
export interface BenchModel {
  name: string
  shape: string
  parameters: number
  source: ScaleModel | { path: string }
}

const mnist = (name: string, shape: string, parameters: number): BenchModel => ({
  name,
  shape,
  parameters,
  source: { path: join(ROOT, 'models', `${name}.onnx`) },
})

/**
 * The scale benchmark's models, smallest first: the bundled MNIST models, a wide MLP (a
 * 4,096-wide and an 8,192-wide layer, the last row 8,192 terms long), a convolution over a
 * 3×128×128 map (a 49,152-value input) and a 12.6M-parameter MLP.
 */
export function benchModels(): BenchModel[] {
  const generated = [
    scaleMlp([256, 4096, 32, 8192, 10], 1201),
    scaleCnn(3, 128, 16, 1202),
    scaleMlp([1024, 4096, 2048, 10], 1203),
  ]
  // nanoGPT's shakespeare-char shape (models/gpt.ts), seeded; from its token embeddings, as
  // veriml has no int64 token-id inputs yet.
  const gpt = { ...GPT_DEFAULTS, input: 'embeddings' as const }
  const nanogpt: ScaleModel = {
    name: 'nanogpt',
    shape: `GPT: block ${gpt.block}, ${gpt.layers} layers, ${gpt.heads} heads, embd ${gpt.embd} (seeded, from embeddings)`,
    parameters: gptParameterCount(gpt),
    inputSize: gpt.block * gpt.embd,
    build: () => gptOnnx(gpt),
  }
  return [
    mnist('mnist-cnn', 'conv8-pool-conv16-fc (trained)', 8 * 25 + 8 + 16 * 8 * 9 + 16 + 256 * 10 + 10),
    mnist('mnist-mlp', '784→128→10 (trained)', mlpParameters([784, 128, 10])),
    ...[...generated, nanogpt].map((m) => ({ name: m.name, shape: m.shape, parameters: m.parameters, source: m })),
  ]
}

export const defaultCacheDir = () => join(tmpdir(), 'veriml-scale-models')

/** The model's ONNX file: shipped, or built and written into `cacheDir` (rewritten only when its bytes differ). */
export async function scaleModelFile(m: BenchModel, cacheDir = defaultCacheDir()): Promise<string> {
  if ('path' in m.source) return m.source.path
  const path = join(cacheDir, `${m.name}.onnx`)
  const bytes = m.source.build()
  const digest = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
  const existing = await readFile(path).catch(() => null)
  if (!existing || digest(existing) !== digest(bytes)) await writeFileAtomic(path, bytes)
  return path
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? defaultCacheDir()
  for (const m of benchModels())
    console.log(`${m.name}: ${m.parameters.toLocaleString('en')} parameters → ${await scaleModelFile(m, dir)}`)
}
