/**
 * Small seeded ONNX models under test/fixtures/, together covering veriml's first op set.
 * Each is a few KB and runs in onnxruntime; the tests rebuild them and compare bytes.
 *
 *   npx tsx models/make-fixtures.ts
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildModel, type BuildModelParameters } from '../src/onnx/write.js'
import { writeFileAtomic } from '../src/util/fs.js'
import { seededRandom } from './mnist-data.js'

/** The ops the first importer supports; every fixture but `unsupported` stays inside it. */
export const FIRST_OP_SET = [
  'Gemm',
  'MatMul',
  'Add',
  'Sub',
  'Mul',
  'Relu',
  'Flatten',
  'Reshape',
  'Identity',
  'Dropout',
  'Constant',
] as const

export interface Fixture {
  file: string
  seed: number
  /** What the fixture is for, beyond the op list (attribute forms, operand order...). */
  covers: string
  inputShape: number[]
  outputShape: number[]
  build(): BuildModelParameters
}

/** Uniform in [-scale, scale): small weights keep activations in a range a quantiser likes. */
function uniform(random: () => number, n: number, scale = 0.5): Float32Array {
  return Float32Array.from({ length: n }, () => (2 * random() - 1) * scale)
}

const float = (name: string, shape: number[]) => ({ name, shape })
const withSeed = (seed: number, file: string) => ({
  seed: String(seed),
  generator: 'models/make-fixtures.ts',
  fixture: file,
})

const tinyMlp: Fixture = {
  file: 'tiny-mlp.onnx',
  seed: 101,
  covers: 'Gemm transB=1 with bias, Relu; the fast model for end-to-end tests',
  inputShape: [1, 8],
  outputShape: [1, 4],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'tiny_mlp',
      inputs: [float('input', [1, 8])],
      outputs: [float('output', [1, 4])],
      initializers: [
        { name: 'fc1.weight', dims: [16, 8], data: uniform(r, 128) },
        { name: 'fc1.bias', dims: [16], data: uniform(r, 16, 0.1) },
        { name: 'fc2.weight', dims: [4, 16], data: uniform(r, 64) },
        { name: 'fc2.bias', dims: [4], data: uniform(r, 4, 0.1) },
      ],
      nodes: [
        {
          op: 'Gemm',
          name: 'fc1',
          inputs: ['input', 'fc1.weight', 'fc1.bias'],
          outputs: ['fc1.out'],
          attributes: { transB: { int: 1 } },
        },
        { op: 'Relu', name: 'relu1', inputs: ['fc1.out'], outputs: ['relu1.out'] },
        {
          op: 'Gemm',
          name: 'fc2',
          inputs: ['relu1.out', 'fc2.weight', 'fc2.bias'],
          outputs: ['output'],
          attributes: { transB: { int: 1 } },
        },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

const gemmAttributes: Fixture = {
  file: 'gemm-attributes.onnx',
  seed: 102,
  covers: 'Gemm alpha/beta, explicit transA=0, transB=0 and 1, bias [N] and [1,N], Gemm without bias',
  inputShape: [1, 6],
  outputShape: [1, 3],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'gemm_attributes',
      inputs: [float('input', [1, 6])],
      outputs: [float('output', [1, 3])],
      initializers: [
        // transB=0: weight stored [in, out], as MatMul would hold it.
        { name: 'g1.weight', dims: [6, 10], data: uniform(r, 60) },
        { name: 'g1.bias', dims: [10], data: uniform(r, 10, 0.1) },
        { name: 'g2.weight', dims: [5, 10], data: uniform(r, 50) },
        { name: 'g2.bias', dims: [1, 5], data: uniform(r, 5, 0.1) },
        { name: 'g3.weight', dims: [5, 3], data: uniform(r, 15) },
      ],
      nodes: [
        {
          op: 'Gemm',
          name: 'g1',
          inputs: ['input', 'g1.weight', 'g1.bias'],
          outputs: ['g1.out'],
          attributes: { alpha: { float: 0.5 }, beta: { float: 2 }, transA: { int: 0 }, transB: { int: 0 } },
        },
        { op: 'Relu', name: 'relu1', inputs: ['g1.out'], outputs: ['relu1.out'] },
        {
          op: 'Gemm',
          name: 'g2',
          inputs: ['relu1.out', 'g2.weight', 'g2.bias'],
          outputs: ['g2.out'],
          attributes: { alpha: { float: 1.5 }, beta: { float: 0.25 }, transB: { int: 1 } },
        },
        { op: 'Gemm', name: 'g3', inputs: ['g2.out', 'g3.weight'], outputs: ['output'] },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

const matmulAdd: Fixture = {
  file: 'matmul-add.onnx',
  seed: 103,
  covers: 'MatMul by an [in, out] constant, Add bias on either side (x + b and b + x), Relu',
  inputShape: [1, 8],
  outputShape: [1, 4],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'matmul_add',
      inputs: [float('input', [1, 8])],
      outputs: [float('output', [1, 4])],
      initializers: [
        { name: 'mm1.weight', dims: [8, 12], data: uniform(r, 96) },
        { name: 'mm1.bias', dims: [12], data: uniform(r, 12, 0.1) },
        { name: 'mm2.weight', dims: [12, 4], data: uniform(r, 48) },
        { name: 'mm2.bias', dims: [4], data: uniform(r, 4, 0.1) },
      ],
      nodes: [
        { op: 'MatMul', name: 'mm1', inputs: ['input', 'mm1.weight'], outputs: ['mm1.out'] },
        { op: 'Add', name: 'add1', inputs: ['mm1.out', 'mm1.bias'], outputs: ['add1.out'] },
        { op: 'Relu', name: 'relu1', inputs: ['add1.out'], outputs: ['relu1.out'] },
        { op: 'MatMul', name: 'mm2', inputs: ['relu1.out', 'mm2.weight'], outputs: ['mm2.out'] },
        { op: 'Add', name: 'add2', inputs: ['mm2.bias', 'mm2.out'], outputs: ['output'] },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

const subMul: Fixture = {
  file: 'sub-mul.onnx',
  seed: 104,
  covers: 'Sub a per-feature constant (normalisation), Mul by a scalar from a Constant node, Relu, Gemm',
  inputShape: [1, 8],
  outputShape: [1, 4],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'sub_mul',
      inputs: [float('input', [1, 8])],
      outputs: [float('output', [1, 4])],
      initializers: [
        { name: 'mean', dims: [8], data: uniform(r, 8, 0.2) },
        { name: 'fc.weight', dims: [4, 8], data: uniform(r, 32) },
        { name: 'fc.bias', dims: [4], data: uniform(r, 4, 0.1) },
      ],
      nodes: [
        { op: 'Sub', name: 'sub', inputs: ['input', 'mean'], outputs: ['sub.out'] },
        // A 0-d tensor: the scalar form exporters emit for `x * 2.5`.
        {
          op: 'Constant',
          name: 'scale',
          inputs: [],
          outputs: ['scale.value'],
          attributes: { value: { tensor: { dims: [], data: new Float32Array([2.5]) } } },
        },
        { op: 'Mul', name: 'mul', inputs: ['sub.out', 'scale.value'], outputs: ['mul.out'] },
        { op: 'Relu', name: 'relu', inputs: ['mul.out'], outputs: ['relu.out'] },
        {
          op: 'Gemm',
          name: 'fc',
          inputs: ['relu.out', 'fc.weight', 'fc.bias'],
          outputs: ['output'],
          attributes: { transB: { int: 1 } },
        },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

const flattenReshape: Fixture = {
  file: 'flatten-reshape.onnx',
  seed: 105,
  covers:
    'Flatten axis=1 of a 4-d input, Reshape with the shape from a Constant node and from an int64 initializer with -1',
  inputShape: [1, 2, 3, 4],
  outputShape: [1, 5],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'flatten_reshape',
      inputs: [float('input', [1, 2, 3, 4])],
      outputs: [float('output', [1, 5])],
      initializers: [
        { name: 'fc1.weight', dims: [12, 24], data: uniform(r, 288) },
        { name: 'fc1.bias', dims: [12], data: uniform(r, 12, 0.1) },
        { name: 'flat_shape', dims: [2], data: new BigInt64Array([1n, -1n]) },
        { name: 'fc2.weight', dims: [5, 12], data: uniform(r, 60) },
        { name: 'fc2.bias', dims: [5], data: uniform(r, 5, 0.1) },
      ],
      nodes: [
        {
          op: 'Flatten',
          name: 'flatten',
          inputs: ['input'],
          outputs: ['flatten.out'],
          attributes: { axis: { int: 1 } },
        },
        {
          op: 'Gemm',
          name: 'fc1',
          inputs: ['flatten.out', 'fc1.weight', 'fc1.bias'],
          outputs: ['fc1.out'],
          attributes: { transB: { int: 1 } },
        },
        {
          op: 'Constant',
          name: 'grid_shape',
          inputs: [],
          outputs: ['grid_shape.value'],
          attributes: { value: { tensor: { dims: [3], data: new BigInt64Array([1n, 3n, 4n]) } } },
        },
        { op: 'Reshape', name: 'to_grid', inputs: ['fc1.out', 'grid_shape.value'], outputs: ['to_grid.out'] },
        { op: 'Relu', name: 'relu', inputs: ['to_grid.out'], outputs: ['relu.out'] },
        { op: 'Reshape', name: 'to_flat', inputs: ['relu.out', 'flat_shape'], outputs: ['to_flat.out'] },
        {
          op: 'Gemm',
          name: 'fc2',
          inputs: ['to_flat.out', 'fc2.weight', 'fc2.bias'],
          outputs: ['output'],
          attributes: { transB: { int: 1 } },
        },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

const identityDropout: Fixture = {
  file: 'identity-dropout.onnx',
  seed: 106,
  covers: 'Identity, Dropout (opset 13) with a ratio input and without, both no-ops at inference; Gemm, Relu',
  inputShape: [1, 8],
  outputShape: [1, 4],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'identity_dropout',
      inputs: [float('input', [1, 8])],
      outputs: [float('output', [1, 4])],
      initializers: [
        { name: 'fc1.weight', dims: [6, 8], data: uniform(r, 48) },
        { name: 'fc1.bias', dims: [6], data: uniform(r, 6, 0.1) },
        { name: 'drop1.ratio', dims: [], data: new Float32Array([0.25]) },
        { name: 'fc2.weight', dims: [4, 6], data: uniform(r, 24) },
        { name: 'fc2.bias', dims: [4], data: uniform(r, 4, 0.1) },
      ],
      nodes: [
        { op: 'Identity', name: 'id_in', inputs: ['input'], outputs: ['id_in.out'] },
        { op: 'Dropout', name: 'drop1', inputs: ['id_in.out', 'drop1.ratio'], outputs: ['drop1.out'] },
        {
          op: 'Gemm',
          name: 'fc1',
          inputs: ['drop1.out', 'fc1.weight', 'fc1.bias'],
          outputs: ['fc1.out'],
          attributes: { transB: { int: 1 } },
        },
        { op: 'Relu', name: 'relu', inputs: ['fc1.out'], outputs: ['relu.out'] },
        { op: 'Dropout', name: 'drop2', inputs: ['relu.out'], outputs: ['drop2.out'] },
        {
          op: 'Gemm',
          name: 'fc2',
          inputs: ['drop2.out', 'fc2.weight', 'fc2.bias'],
          outputs: ['fc2.out'],
          attributes: { transB: { int: 1 } },
        },
        { op: 'Identity', name: 'id_out', inputs: ['fc2.out'], outputs: ['output'] },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

const unsupported: Fixture = {
  file: 'unsupported.onnx',
  seed: 107,
  covers: 'two ops outside the first op set (Erf, LRN) among supported ones: one error must name both',
  inputShape: [1, 2, 2, 2],
  outputShape: [1, 3],
  build(): BuildModelParameters {
    const r = seededRandom(this.seed)
    return {
      name: 'unsupported',
      inputs: [float('input', [1, 2, 2, 2])],
      outputs: [float('output', [1, 3])],
      initializers: [
        { name: 'fc.weight', dims: [3, 8], data: uniform(r, 24) },
        { name: 'fc.bias', dims: [3], data: uniform(r, 3, 0.1) },
      ],
      nodes: [
        { op: 'Erf', name: 'erf', inputs: ['input'], outputs: ['erf.out'] },
        { op: 'LRN', name: 'lrn', inputs: ['erf.out'], outputs: ['lrn.out'], attributes: { size: { int: 3 } } },
        { op: 'Flatten', name: 'flatten', inputs: ['lrn.out'], outputs: ['flatten.out'] },
        {
          op: 'Gemm',
          name: 'fc',
          inputs: ['flatten.out', 'fc.weight', 'fc.bias'],
          outputs: ['output'],
          attributes: { transB: { int: 1 } },
        },
      ],
      metadata: withSeed(this.seed, this.file),
    }
  },
}

export const FIXTURES: Fixture[] = [
  tinyMlp,
  gemmAttributes,
  matmulAdd,
  subMul,
  flattenReshape,
  identityDropout,
  unsupported,
]

export const fixturePath = (file: string) => fileURLToPath(new URL(`../test/fixtures/${file}`, import.meta.url))
/** `veriml op demo`'s default model: a copy of tiny-mlp.onnx beside the other shipped models (the package carries no test/). */
export const DEMO_MODEL_PATH = fileURLToPath(new URL('./tiny-mlp.onnx', import.meta.url))

async function main(): Promise<void> {
  for (const fixture of FIXTURES) {
    const bytes = buildModel(fixture.build())
    await writeFileAtomic(fixturePath(fixture.file), bytes)
    console.log(`${fixture.file}: ${bytes.length} bytes`)
  }
  await writeFileAtomic(DEMO_MODEL_PATH, buildModel(tinyMlp.build()))
}

// Importable by tests (to rebuild and compare) without rewriting the files.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
