/**
 * The sweep's models, generated reproducibly from seeds: dense MLPs of growing width and
 * depth, small CNNs (Conv + Relu + AveragePool + Gemm) of growing channels, and the bundled
 * MNIST MLP read from models/.
 */
import { join } from 'node:path'
import { seededRandom } from '../../models/mnist-data.js'
import { buildModel, type BuildModelParameters } from '../../src/onnx/write.js'
import { benchModels, mlpOnnx, mlpParameters } from '../../models/scale-models.js'

export type Family = 'mlp' | 'cnn' | 'mnist'

/** A model of the sweep: either ONNX bytes built here or a file shipped with the repository. */
export interface SweepModel {
  name: string
  family: Family
  /** What the model is, for the table (layer sizes, channels). */
  shape: string
  parameters: number
  /** Built ONNX bytes, or a path to an existing .onnx file. */
  onnx: Uint8Array | string
  calibrationPath?: string
  /** EZKL-form input: `{ input_data: [[...]] }`. */
  input: unknown
  /** Past the zk limit: compiled with `--target optimistic` and measured on the optimistic path only. */
  optimisticOnly?: boolean
}

const ROOT = join(import.meta.dirname, '..', '..')
const f32 = (name: string, shape: number[]) => ({ name, shape })

/** Uniform in [-s, s) with s = 1/sqrt(fanIn), so activations keep a similar range at every width. */
function weights(random: () => number, n: number, fanIn: number): Float32Array {
  const s = 1 / Math.sqrt(fanIn)
  return Float32Array.from({ length: n }, () => (2 * random() - 1) * s)
}

/** Seeded input in [-1, 1): inside the range of compile's default calibration samples. */
export function sampleInput(seed: number, n: number): unknown {
  const r = seededRandom(seed)
  return { input_data: [Array.from({ length: n }, () => Math.round((2 * r() - 1) * 1e4) / 1e4)] }
}

/** The seeded MLP of models/scale-models.ts (`mlpOnnx`), with a sample input. */
export function mlpModel(sizes: number[], seed: number): SweepModel {
  const onnx = mlpOnnx(sizes, seed, 'bench/sweep/models.ts')
  return {
    name: `mlp-${sizes.join('-')}`,
    family: 'mlp',
    shape: sizes.join('-'),
    parameters: mlpParameters(sizes),
    onnx,
    input: sampleInput(seed + 1, sizes[0]),
  }
}

/**
 * Conv 3×3 (valid) → Relu → AveragePool 2×2 → Flatten → Gemm to 10, on a 1×`side`×`side` image.
 * `channels` lists the output channels of each conv block.
 */
export function cnnModel(side: number, channels: number[], seed: number): SweepModel {
  const r = seededRandom(seed)
  const initializers: BuildModelParameters['initializers'] = []
  const nodes: BuildModelParameters['nodes'] = []
  let prev = 'input'
  let [c, s] = [1, side]
  let parameters = 0
  channels.forEach((k, i) => {
    const b = `conv${i + 1}`
    initializers.push({ name: `${b}.weight`, dims: [k, c, 3, 3], data: weights(r, k * c * 9, c * 9) })
    initializers.push({ name: `${b}.bias`, dims: [k], data: weights(r, k, c * 9) })
    parameters += k * c * 9 + k
    nodes.push({
      op: 'Conv',
      name: b,
      inputs: [prev, `${b}.weight`, `${b}.bias`],
      outputs: [`${b}.out`],
      attributes: { kernel_shape: { ints: [3, 3] } },
    })
    nodes.push({ op: 'Relu', name: `${b}.relu`, inputs: [`${b}.out`], outputs: [`${b}.relu.out`] })
    nodes.push({
      op: 'AveragePool',
      name: `${b}.pool`,
      inputs: [`${b}.relu.out`],
      outputs: [`${b}.pool.out`],
      attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
    })
    prev = `${b}.pool.out`
    c = k
    s = Math.floor((s - 2) / 2)
  })
  const flat = c * s * s
  initializers.push({ name: 'fc.weight', dims: [10, flat], data: weights(r, 10 * flat, flat) })
  initializers.push({ name: 'fc.bias', dims: [10], data: weights(r, 10, flat) })
  parameters += 10 * flat + 10
  nodes.push({ op: 'Flatten', name: 'flatten', inputs: [prev], outputs: ['flat'] })
  nodes.push({
    op: 'Gemm',
    name: 'fc',
    inputs: ['flat', 'fc.weight', 'fc.bias'],
    outputs: ['output'],
    attributes: { transB: { int: 1 } },
  })
  const name = `cnn-${side}x${side}-c${channels.join('-')}`
  const onnx = buildModel({
    name: name.replaceAll('-', '_'),
    inputs: [f32('input', [1, 1, side, side])],
    outputs: [f32('output', [1, 10])],
    initializers,
    nodes,
    metadata: { seed: String(seed), generator: 'bench/sweep/models.ts' },
  })
  return {
    name,
    family: 'cnn',
    shape: `1×${side}×${side}, conv ${channels.join(',')} ch`,
    parameters,
    onnx,
    input: sampleInput(seed + 1, side * side),
  }
}

/** The bundled MNIST MLP (784-128-10), with its own calibration samples and held-out digit. */
export async function mnistModel(): Promise<SweepModel> {
  const { readFile } = await import('node:fs/promises')
  const input = JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8')) as unknown
  return {
    name: 'mnist-mlp',
    family: 'mnist',
    shape: '784-128-10 (trained)',
    parameters: 784 * 128 + 128 + 128 * 10 + 10,
    onnx: join(ROOT, 'models', 'mnist-mlp.onnx'),
    calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
    input,
  }
}

/** The bundled MNIST CNN (float, 3,946 parameters) and its `veriml quantize` int8 QDQ version (no calibration: its own scales). */
export async function mnistCnnModels(): Promise<SweepModel[]> {
  const { readFile } = await import('node:fs/promises')
  const input = JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-cnn-input.json'), 'utf8')) as unknown
  const parameters = 8 * 25 + 8 + 16 * 8 * 9 + 16 + 256 * 10 + 10
  return [
    {
      name: 'mnist-cnn',
      family: 'mnist',
      shape: 'conv8-pool-conv16-fc (trained)',
      parameters,
      onnx: join(ROOT, 'models', 'mnist-cnn.onnx'),
      calibrationPath: join(ROOT, 'models', 'data', 'mnist-cnn-calibration.json'),
      input,
    },
    {
      name: 'mnist-cnn-int8',
      family: 'mnist',
      shape: 'same, int8 QDQ',
      parameters,
      onnx: join(ROOT, 'models', 'mnist-cnn.int8.onnx'),
      input,
    },
  ]
}

/**
 * Quick: ~1k, ~10k, ~50k-parameter MLPs (width and depth grow), two CNNs, MNIST.
 * Full adds wider and deeper MLPs up to ~1M parameters, larger CNNs and the MNIST CNNs
 * (float and int8; `npx tsx bench/cnn.ts` measures those two on their own).
 */
export async function sweepModels(quick: boolean): Promise<SweepModel[]> {
  const models = [
    mlpModel([32, 24, 8], 11),
    mlpModel([64, 96, 32, 10], 12),
    mlpModel([128, 256, 64, 10], 13),
    cnnModel(12, [2], 21),
    cnnModel(12, [4], 22),
  ]
  if (!quick) {
    models.push(
      mlpModel([64, 64, 64, 64, 64, 10], 14),
      mlpModel([256, 512, 256, 10], 15),
      mlpModel([512, 1024, 256, 10], 16),
      mlpModel([784, 1024, 256, 10], 17),
      cnnModel(16, [8], 23),
      cnnModel(16, [8, 16], 24),
      ...(await mnistCnnModels()),
    )
  }
  models.push(await mnistModel())
  return models.sort((a, b) => a.parameters - b.parameters)
}

/**
 * `--scale`: the generated models of bench/optimistic-scale.ts (a 4,096- and an 8,192-wide
 * MLP, a 3×128×128 convolution, 12.6M parameters), far past what the zk path proves here:
 * optimistic columns only.
 */
export function scaleSweepModels(): SweepModel[] {
  return benchModels().flatMap((m, i) => {
    // The sweep's families are MLPs and CNNs; the GPT is measured by bench/optimistic-scale.ts alone.
    if ('path' in m.source || m.name === 'nanogpt') return []
    const family = m.name.startsWith('cnn') ? 'cnn' : 'mlp'
    return [
      {
        name: m.name,
        family,
        shape: m.shape,
        parameters: m.parameters,
        onnx: m.source.build(),
        input: sampleInput(31 + i, m.source.inputSize),
        optimisticOnly: true,
      } satisfies SweepModel,
    ]
  })
}
