/**
 * Trains the project's reference model, a 784-128-10 ReLU MLP on the `mnist` package's digits,
 * in plain TypeScript, and writes it as ONNX with its metadata, one EZKL-style sample input
 * and EZKL-style calibration data. Deterministic: same seeds, same bytes.
 *
 *   npx tsx models/train-mnist.ts
 */
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { buildModel } from '../src/onnx/write.js'
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js'
import { loadMnist, MNIST_PIXELS, MNIST_SPLIT_SEED, seededRandom, shuffleInPlace, type Sample } from './mnist-data.js'
import { ADAM, AdamSlot, argmax, ezklInput, heInit, onnxAccuracyAgreeing } from './training.js'

const SEED = 7
const HIDDEN = 128
const CLASSES = 10
const EPOCHS = 20
const BATCH_SIZE = 32
/** Per-epoch multiplicative learning-rate decay: late epochs fine-tune instead of bouncing. */
const LR_DECAY = 0.85
/** Training digits are shifted by up to this many pixels in x and y, drawn per sample per epoch. */
const MAX_SHIFT = 2
const MNIST_SIDE = 28
const CALIBRATION_SAMPLES = 64
/** EZKL data files hold plain decimals; 4 places is finer than the 1/255 pixel grid. */

const out = (relative: string) => fileURLToPath(new URL(relative, import.meta.url))

/** Weights in the ONNX Gemm(transB=1) layout: row o of w1 holds the 784 input weights of unit o. */
interface Mlp {
  w1: Float32Array // [HIDDEN, 784]
  b1: Float32Array // [HIDDEN]
  w2: Float32Array // [CLASSES, HIDDEN]
  b2: Float32Array // [CLASSES]
}

/** A digit with its nonzero pixels listed: ~80% of MNIST pixels are 0, so this is ~5× less work. */
interface SparseSample {
  index: Int32Array
  value: Float32Array
  label: number
}

function sparse(s: Sample): SparseSample {
  const index: number[] = []
  for (let i = 0; i < s.pixels.length; i++) if (s.pixels[i] !== 0) index.push(i)
  return { index: Int32Array.from(index), value: Float32Array.from(index, (i) => s.pixels[i]), label: s.label }
}

/**
 * The digit moved by (dx, dy) pixels, pixels pushed off the edge dropped. Training on shifted
 * copies is the cheapest regulariser for an MLP, which has no built-in translation invariance
 * and otherwise overfits 8,000 digits (train loss near 0, test accuracy stuck near 95%).
 */
function shifted(x: SparseSample, dx: number, dy: number): SparseSample {
  const index: number[] = []
  const value: number[] = []
  for (let k = 0; k < x.index.length; k++) {
    const row = Math.floor(x.index[k] / MNIST_SIDE) + dy
    const col = (x.index[k] % MNIST_SIDE) + dx
    if (row < 0 || row >= MNIST_SIDE || col < 0 || col >= MNIST_SIDE) continue
    index.push(row * MNIST_SIDE + col)
    value.push(x.value[k])
  }
  return { index: Int32Array.from(index), value: Float32Array.from(value), label: x.label }
}

/** He initialisation; biases start at zero. */
function initMlp(random: () => number): Mlp {
  const he = heInit(random)
  return {
    w1: he(MNIST_PIXELS, HIDDEN * MNIST_PIXELS),
    b1: new Float32Array(HIDDEN),
    w2: he(HIDDEN, CLASSES * HIDDEN),
    b2: new Float32Array(CLASSES),
  }
}

/** Fills `hidden` (post-ReLU) and `logits`; sums run in float64 over float32 weights. */
function forward(m: Mlp, x: SparseSample, hidden: Float64Array, logits: Float64Array): void {
  for (let o = 0; o < HIDDEN; o++) {
    let acc = m.b1[o]
    const row = o * MNIST_PIXELS
    for (let k = 0; k < x.index.length; k++) acc += m.w1[row + x.index[k]] * x.value[k]
    hidden[o] = acc > 0 ? acc : 0
  }
  for (let c = 0; c < CLASSES; c++) {
    let acc = m.b2[c]
    const row = c * HIDDEN
    for (let o = 0; o < HIDDEN; o++) acc += m.w2[row + o] * hidden[o]
    logits[c] = acc
  }
}

function accuracy(m: Mlp, data: SparseSample[]): { accuracy: number; predictions: number[] } {
  const hidden = new Float64Array(HIDDEN)
  const logits = new Float64Array(CLASSES)
  const predictions = data.map((x) => {
    forward(m, x, hidden, logits)
    return argmax(logits)
  })
  return { accuracy: predictions.filter((p, i) => p === data[i].label).length / data.length, predictions }
}

/** Softmax cross-entropy; accumulates gradients into the slots and returns the sample's loss. */
function backward(
  m: Mlp,
  x: SparseSample,
  slots: Record<keyof Mlp, AdamSlot>,
  hidden: Float64Array,
  logits: Float64Array,
  dHidden: Float64Array,
): number {
  forward(m, x, hidden, logits)
  const max = Math.max(...logits)
  let sum = 0
  for (let c = 0; c < CLASSES; c++) sum += Math.exp(logits[c] - max)
  const loss = Math.log(sum) + max - logits[x.label]
  dHidden.fill(0)
  for (let c = 0; c < CLASSES; c++) {
    const dLogit = Math.exp(logits[c] - max) / sum - (c === x.label ? 1 : 0)
    slots.b2.grad[c] += dLogit
    const row = c * HIDDEN
    for (let o = 0; o < HIDDEN; o++) {
      slots.w2.grad[row + o] += dLogit * hidden[o]
      dHidden[o] += dLogit * m.w2[row + o]
    }
  }
  for (let o = 0; o < HIDDEN; o++) {
    if (hidden[o] <= 0) continue // ReLU passes no gradient where it clipped
    const d = dHidden[o]
    slots.b1.grad[o] += d
    const row = o * MNIST_PIXELS
    for (let k = 0; k < x.index.length; k++) slots.w1.grad[row + x.index[k]] += d * x.value[k]
  }
  return loss
}

function train(data: SparseSample[], test: SparseSample[], random: () => number): Mlp {
  const m = initMlp(random)
  const slots = {
    w1: new AdamSlot(m.w1, Float32Array),
    b1: new AdamSlot(m.b1, Float32Array),
    w2: new AdamSlot(m.w2, Float32Array),
    b2: new AdamSlot(m.b2, Float32Array),
  }
  const hidden = new Float64Array(HIDDEN)
  const logits = new Float64Array(CLASSES)
  const dHidden = new Float64Array(HIDDEN)
  const order = data.map((_, i) => i)
  let step = 0
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const learningRate = ADAM.learningRate * LR_DECAY ** epoch
    shuffleInPlace(order, random)
    let lossSum = 0
    for (let start = 0; start < order.length; start += BATCH_SIZE) {
      const batch = order.slice(start, start + BATCH_SIZE)
      for (const i of batch) {
        const dx = Math.floor(random() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT
        const dy = Math.floor(random() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT
        lossSum += backward(m, shifted(data[i], dx, dy), slots, hidden, logits, dHidden)
      }
      step++
      for (const slot of Object.values(slots)) slot.step(step, learningRate, batch.length)
    }
    const testAccuracy = accuracy(m, test).accuracy
    console.log(
      `epoch ${epoch + 1}/${EPOCHS}: loss ${(lossSum / data.length).toFixed(4)}, test accuracy ${(testAccuracy * 100).toFixed(2)}%`,
    )
  }
  return m
}

function toOnnx(m: Mlp): Uint8Array {
  return buildModel({
    name: 'mnist_mlp',
    opset: 13,
    inputs: [{ name: 'input', shape: [1, MNIST_PIXELS] }],
    outputs: [{ name: 'logits', shape: [1, CLASSES] }],
    initializers: [
      { name: 'fc1.weight', dims: [HIDDEN, MNIST_PIXELS], data: m.w1 },
      { name: 'fc1.bias', dims: [HIDDEN], data: m.b1 },
      { name: 'fc2.weight', dims: [CLASSES, HIDDEN], data: m.w2 },
      { name: 'fc2.bias', dims: [CLASSES], data: m.b2 },
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
        outputs: ['logits'],
        attributes: { transB: { int: 1 } },
      },
    ],
    docString: 'veriml reference model: 784-128-10 ReLU MLP trained by models/train-mnist.ts',
    metadata: { seed: String(SEED), splitSeed: String(MNIST_SPLIT_SEED), generator: 'models/train-mnist.ts' },
  })
}

async function main(): Promise<void> {
  const { train: trainSet, test: testSet } = loadMnist()
  const started = performance.now()
  const model = train(trainSet.map(sparse), testSet.map(sparse), seededRandom(SEED))
  const trainMs = performance.now() - started
  const trainAccuracy = accuracy(model, trainSet.map(sparse)).accuracy
  const test = accuracy(model, testSet.map(sparse))

  const bytes = toOnnx(model)
  await onnxAccuracyAgreeing(
    bytes,
    testSet,
    [1, MNIST_PIXELS],
    test.accuracy,
    test.predictions,
    'weight layout, transB',
  )

  // The sample input is the first held-out digit, so it was never trained on.
  const sampleIndex = 0
  const sample = testSet[sampleIndex]
  await writeFileAtomic(out('./mnist-mlp.onnx'), bytes)
  await writeFileAtomic(out('./data/mnist-input.json'), ezklInput([sample]))
  await writeFileAtomic(out('./data/mnist-calibration.json'), ezklInput(trainSet.slice(0, CALIBRATION_SAMPLES)))
  await writeJsonAtomic(out('./mnist-mlp.json'), {
    generator: 'models/train-mnist.ts',
    onnxFile: 'mnist-mlp.onnx',
    onnxSha256: createHash('sha256').update(bytes).digest('hex'),
    architecture: '784-128-10 MLP: Gemm(transB=1) -> Relu -> Gemm(transB=1)',
    input: { name: 'input', shape: [1, MNIST_PIXELS], range: [0, 1] },
    output: { name: 'logits', shape: [1, CLASSES] },
    seed: SEED,
    splitSeed: MNIST_SPLIT_SEED,
    epochs: EPOCHS,
    batchSize: BATCH_SIZE,
    augmentation: `random shift of up to ${MAX_SHIFT} pixels in x and y`,
    optimizer: { name: 'adam', ...ADAM, learningRateDecayPerEpoch: LR_DECAY },
    trainSize: trainSet.length,
    testSize: testSet.length,
    floatTrainAccuracy: trainAccuracy,
    floatTestAccuracy: test.accuracy,
    sampleInputFile: 'data/mnist-input.json',
    sampleInputTestIndex: sampleIndex,
    sampleInputLabel: sample.label,
    calibrationFile: 'data/mnist-calibration.json',
    calibrationSamples: CALIBRATION_SAMPLES,
    calibrationSource: `train split, first ${CALIBRATION_SAMPLES}`,
  })
  console.log(
    `trained in ${(trainMs / 1000).toFixed(1)} s; float test accuracy ${(test.accuracy * 100).toFixed(2)}% (onnxruntime agrees on all ${testSet.length})`,
  )
}

await main()
