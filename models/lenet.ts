/**
 * A seeded LeNet-5-shaped CNN for the compile benchmark (issue 15): the classic layout on a
 * 1×32×32 input, past what circom-as-wasm compiles in 4 GiB (every conv output position
 * materialises its 25·C weight terms in the compiler).
 *
 *   conv 6@5×5 → Relu → pool 2×2 → conv 16@5×5 → Relu → pool 2×2 → Flatten
 *   → Gemm 400→120 → Relu → Gemm 120→84 → Relu → Gemm 84→10
 *
 * The pool kind is a parameter: MaxPool is LeNet's usual choice today, AveragePool the
 * original's (subsampling) and a linear op, so it builds on a backend that has no max gadget.
 */
import { buildModel, type BuildModelParameters } from '../src/onnx/write.js'
import { seededRandom } from './mnist-data.js'

export type PoolKind = 'max' | 'avg'

export interface LenetModel {
  name: string
  /** What the model is, for a report's table. */
  shape: string
  parameters: number
  /**
   * Weight terms of the ONNX layers: Σ over every output of its fan-in (a conv output counts
   * 25·C). The IR has as many with max pool; with avg pool it folds each pool into the next
   * layer, whose terms grow 4× (each pooled input is four).
   */
  weightTerms: number
  inputSize: number
  onnx: Uint8Array
}

const SIDE = 32
const KERNEL = 5
const CONVS = [6, 16]
const DENSE = [120, 84, 10]

/** Uniform in [-s, s) with s = 1/sqrt(fanIn), so activations keep a similar range in every layer. */
function weights(random: () => number, n: number, fanIn: number): Float32Array {
  const s = 1 / Math.sqrt(fanIn)
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = (2 * random() - 1) * s
  return out
}

export function lenet5Model(pool: PoolKind, seed: number): LenetModel {
  const r = seededRandom(seed)
  const initializers: BuildModelParameters['initializers'] = []
  const nodes: BuildModelParameters['nodes'] = []
  let prev = 'input'
  let [c, side] = [1, SIDE]
  let parameters = 0
  let weightTerms = 0
  CONVS.forEach((k, i) => {
    const b = `conv${i + 1}`
    const fanIn = c * KERNEL * KERNEL
    initializers.push({ name: `${b}.weight`, dims: [k, c, KERNEL, KERNEL], data: weights(r, k * fanIn, fanIn) })
    initializers.push({ name: `${b}.bias`, dims: [k], data: weights(r, k, fanIn) })
    side = side - KERNEL + 1
    parameters += k * fanIn + k
    weightTerms += k * side * side * fanIn
    nodes.push(
      {
        op: 'Conv',
        name: b,
        inputs: [prev, `${b}.weight`, `${b}.bias`],
        outputs: [`${b}.out`],
        attributes: { kernel_shape: { ints: [KERNEL, KERNEL] } },
      },
      { op: 'Relu', name: `${b}.relu`, inputs: [`${b}.out`], outputs: [`${b}.relu.out`] },
      {
        op: pool === 'max' ? 'MaxPool' : 'AveragePool',
        name: `${b}.pool`,
        inputs: [`${b}.relu.out`],
        outputs: [`${b}.pool.out`],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
    )
    prev = `${b}.pool.out`
    c = k
    side = Math.floor(side / 2)
  })
  nodes.push({ op: 'Flatten', name: 'flatten', inputs: [prev], outputs: ['flat'] })
  prev = 'flat'
  let width = c * side * side
  DENSE.forEach((m, i) => {
    const b = `fc${i + 1}`
    const last = i === DENSE.length - 1
    initializers.push({ name: `${b}.weight`, dims: [m, width], data: weights(r, m * width, width) })
    initializers.push({ name: `${b}.bias`, dims: [m], data: weights(r, m, width) })
    parameters += m * width + m
    weightTerms += m * width
    const out = last ? 'output' : `${b}.out`
    nodes.push({
      op: 'Gemm',
      name: b,
      inputs: [prev, `${b}.weight`, `${b}.bias`],
      outputs: [out],
      attributes: { transB: { int: 1 } },
    })
    if (!last) {
      nodes.push({ op: 'Relu', name: `${b}.relu`, inputs: [out], outputs: [`${b}.relu.out`] })
      prev = `${b}.relu.out`
    }
    width = m
  })
  const name = `lenet5-${pool}pool`
  const onnx = buildModel({
    name: name.replaceAll('-', '_'),
    inputs: [{ name: 'input', shape: [1, 1, SIDE, SIDE] }],
    outputs: [{ name: 'output', shape: [1, 10] }],
    initializers,
    nodes,
    metadata: { seed: String(seed), generator: 'models/lenet.ts' },
  })
  return {
    name,
    shape: `1×32×32, conv 6@5×5, ${pool}pool, conv 16@5×5, ${pool}pool, fc 120-84-10`,
    parameters,
    weightTerms,
    inputSize: SIDE * SIDE,
    onnx,
  }
}
