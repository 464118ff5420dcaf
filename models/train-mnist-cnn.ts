/**
 * Trains the project's CNN, Conv(1→8, 5×5, stride 2) → Relu → MaxPool 2×2 → Conv(8→16, 3×3)
 * → Relu → Flatten → Gemm(256→10), on the `mnist` package's digits in plain TypeScript, and
 * writes it as ONNX with its metadata, one EZKL-style sample input and calibration data.
 * Deterministic: same seeds, same bytes.
 *
 * The shape is chosen for the circuit, not only for accuracy: constraints follow the number
 * of non-linear activations (1,152 conv-1 ReLUs, 288 pooled maxima, 256 conv-2 ReLUs) plus
 * the 784 input range checks, about 50k in all. The stride-2 first layer is what keeps it
 * there: a stride-1 3×3 conv would have 5,408 ReLUs in its first layer alone.
 *
 *   npx tsx models/train-mnist-cnn.ts
 */
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { buildModel } from '../src/onnx/write.js'
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js'
import { loadMnist, MNIST_SPLIT_SEED, seededRandom, shuffleInPlace, type Sample } from './mnist-data.js'
import { ADAM, AdamSlot, argmax, ezklInput, heInit, onnxAccuracyAgreeing } from './training.js'

const SEED = 11
const SIDE = 28
const C1 = 8 // conv-1 output channels
const K1 = 5 // conv-1 kernel
const S1 = 2 // conv-1 stride
const H1 = Math.floor((SIDE - K1) / S1) + 1 // 12
const P = H1 / 2 // 6: after the 2×2 max pool
const C2 = 16
const K2 = 3
const H2 = P - K2 + 1 // 4
const FLAT = C2 * H2 * H2 // 256
const CLASSES = 10
const EPOCHS = 16
const BATCH_SIZE = 32
const LR_DECAY = 0.85
/** Training digits are shifted by up to this many pixels in x and y, drawn per sample per epoch. */
const MAX_SHIFT = 2
const CALIBRATION_SAMPLES = 64

const out = (relative: string) => fileURLToPath(new URL(relative, import.meta.url))

/** Weights in ONNX layout: conv weights [out, in, kh, kw], Gemm weight [10, 256] (transB=1). */
interface Cnn {
  w1: Float32Array // [C1, 1, K1, K1]
  b1: Float32Array
  w2: Float32Array // [C2, C1, K2, K2]
  b2: Float32Array
  w3: Float32Array // [CLASSES, FLAT]
  b3: Float32Array
}

/** Activations of one forward pass, reused across samples (no allocation in the hot loop). */
class Workspace {
  readonly z1 = new Float64Array(C1 * H1 * H1)
  readonly a1 = new Float64Array(C1 * H1 * H1)
  readonly pool = new Float64Array(C1 * P * P)
  /** Index into a1 of each pooled maximum: the only conv-1 outputs that receive a gradient. */
  readonly poolArg = new Int32Array(C1 * P * P)
  readonly z2 = new Float64Array(FLAT)
  readonly logits = new Float64Array(CLASSES)
  readonly dz2 = new Float64Array(FLAT)
  readonly dPool = new Float64Array(C1 * P * P)
}

function forward(m: Cnn, x: Float32Array, ws: Workspace): void {
  const { z1, a1, pool, poolArg, z2, logits } = ws
  for (let c = 0; c < C1; c++) {
    for (let oy = 0; oy < H1; oy++) {
      for (let ox = 0; ox < H1; ox++) {
        let acc = m.b1[c]
        for (let ky = 0; ky < K1; ky++) {
          const xRow = (oy * S1 + ky) * SIDE + ox * S1
          const wRow = (c * K1 + ky) * K1
          for (let kx = 0; kx < K1; kx++) acc += m.w1[wRow + kx] * x[xRow + kx]
        }
        const i = (c * H1 + oy) * H1 + ox
        z1[i] = acc
        a1[i] = acc > 0 ? acc : 0
      }
    }
  }
  for (let c = 0; c < C1; c++) {
    for (let py = 0; py < P; py++) {
      for (let px = 0; px < P; px++) {
        let best = (c * H1 + 2 * py) * H1 + 2 * px
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const i = (c * H1 + 2 * py + dy) * H1 + 2 * px + dx
            if (a1[i] > a1[best]) best = i
          }
        }
        const o = (c * P + py) * P + px
        pool[o] = a1[best]
        poolArg[o] = best
      }
    }
  }
  for (let o = 0; o < C2; o++) {
    for (let oy = 0; oy < H2; oy++) {
      for (let ox = 0; ox < H2; ox++) {
        let acc = m.b2[o]
        for (let c = 0; c < C1; c++) {
          for (let ky = 0; ky < K2; ky++) {
            const pRow = (c * P + oy + ky) * P + ox
            const wRow = ((o * C1 + c) * K2 + ky) * K2
            for (let kx = 0; kx < K2; kx++) acc += m.w2[wRow + kx] * pool[pRow + kx]
          }
        }
        z2[(o * H2 + oy) * H2 + ox] = acc
      }
    }
  }
  for (let k = 0; k < CLASSES; k++) {
    let acc = m.b3[k]
    const row = k * FLAT
    for (let j = 0; j < FLAT; j++) if (z2[j] > 0) acc += m.w3[row + j] * z2[j]
    logits[k] = acc
  }
}

type Slots = Record<keyof Cnn, AdamSlot>

/** Softmax cross-entropy; accumulates gradients into the slots and returns the sample's loss. */
function backward(m: Cnn, x: Float32Array, label: number, g: Slots, ws: Workspace): number {
  forward(m, x, ws)
  const { z1, pool, poolArg, z2, logits, dz2, dPool } = ws
  let max = -Infinity
  for (let k = 0; k < CLASSES; k++) if (logits[k] > max) max = logits[k]
  let sum = 0
  for (let k = 0; k < CLASSES; k++) sum += Math.exp(logits[k] - max)
  const loss = Math.log(sum) + max - logits[label]
  dz2.fill(0)
  for (let k = 0; k < CLASSES; k++) {
    const d = Math.exp(logits[k] - max) / sum - (k === label ? 1 : 0)
    g.b3.grad[k] += d
    const row = k * FLAT
    for (let j = 0; j < FLAT; j++) {
      if (z2[j] <= 0) continue // ReLU passes no gradient where it clipped
      g.w3.grad[row + j] += d * z2[j]
      dz2[j] += d * m.w3[row + j]
    }
  }
  dPool.fill(0)
  for (let o = 0; o < C2; o++) {
    for (let oy = 0; oy < H2; oy++) {
      for (let ox = 0; ox < H2; ox++) {
        const d = dz2[(o * H2 + oy) * H2 + ox]
        if (d === 0) continue
        g.b2.grad[o] += d
        for (let c = 0; c < C1; c++) {
          for (let ky = 0; ky < K2; ky++) {
            const pRow = (c * P + oy + ky) * P + ox
            const wRow = ((o * C1 + c) * K2 + ky) * K2
            for (let kx = 0; kx < K2; kx++) {
              g.w2.grad[wRow + kx] += d * pool[pRow + kx]
              dPool[pRow + kx] += d * m.w2[wRow + kx]
            }
          }
        }
      }
    }
  }
  // Max pool routes each gradient to its window's maximum; ReLU then gates it.
  for (let o = 0; o < C1 * P * P; o++) {
    const i = poolArg[o]
    const d = dPool[o]
    if (d === 0 || z1[i] <= 0) continue
    const c = Math.floor(i / (H1 * H1))
    const oy = Math.floor((i % (H1 * H1)) / H1)
    const ox = i % H1
    g.b1.grad[c] += d
    for (let ky = 0; ky < K1; ky++) {
      const xRow = (oy * S1 + ky) * SIDE + ox * S1
      const wRow = (c * K1 + ky) * K1
      for (let kx = 0; kx < K1; kx++) g.w1.grad[wRow + kx] += d * x[xRow + kx]
    }
  }
  return loss
}

/** He initialisation; biases start at zero. */
function initCnn(random: () => number): Cnn {
  const he = heInit(random)
  return {
    w1: he(K1 * K1, C1 * K1 * K1),
    b1: new Float32Array(C1),
    w2: he(C1 * K2 * K2, C2 * C1 * K2 * K2),
    b2: new Float32Array(C2),
    w3: he(FLAT, CLASSES * FLAT),
    b3: new Float32Array(CLASSES),
  }
}

/** The digit moved by (dx, dy) pixels into `out`, pixels pushed off the edge dropped. */
function shiftInto(x: Float32Array, dx: number, dy: number, out: Float32Array): Float32Array {
  out.fill(0)
  for (let row = Math.max(0, dy); row < Math.min(SIDE, SIDE + dy); row++) {
    for (let col = Math.max(0, dx); col < Math.min(SIDE, SIDE + dx); col++)
      out[row * SIDE + col] = x[(row - dy) * SIDE + col - dx]
  }
  return out
}

function predict(m: Cnn, data: Sample[]): { accuracy: number; predictions: number[] } {
  const ws = new Workspace()
  const predictions = data.map((s) => {
    forward(m, s.pixels, ws)
    return argmax(ws.logits)
  })
  return { accuracy: predictions.filter((p, i) => p === data[i].label).length / data.length, predictions }
}

function train(data: Sample[], test: Sample[], random: () => number): Cnn {
  const m = initCnn(random)
  const slots: Slots = {
    w1: new AdamSlot(m.w1),
    b1: new AdamSlot(m.b1),
    w2: new AdamSlot(m.w2),
    b2: new AdamSlot(m.b2),
    w3: new AdamSlot(m.w3),
    b3: new AdamSlot(m.b3),
  }
  const ws = new Workspace()
  const shiftedPixels = new Float32Array(SIDE * SIDE)
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
        lossSum += backward(m, shiftInto(data[i].pixels, dx, dy, shiftedPixels), data[i].label, slots, ws)
      }
      step++
      for (const slot of Object.values(slots)) slot.step(step, learningRate, batch.length)
    }
    console.log(
      `epoch ${epoch + 1}/${EPOCHS}: loss ${(lossSum / data.length).toFixed(4)}, test accuracy ${(predict(m, test).accuracy * 100).toFixed(2)}%`,
    )
  }
  return m
}

const ARCHITECTURE = `Conv(1→${C1}, ${K1}x${K1}, stride ${S1}) -> Relu -> MaxPool 2x2 -> Conv(${C1}→${C2}, ${K2}x${K2}) -> Relu -> Flatten -> Gemm(${FLAT}→${CLASSES}, transB=1)`

function toOnnx(m: Cnn): Uint8Array {
  return buildModel({
    name: 'mnist_cnn',
    opset: 13,
    inputs: [{ name: 'input', shape: [1, 1, SIDE, SIDE] }],
    outputs: [{ name: 'logits', shape: [1, CLASSES] }],
    initializers: [
      { name: 'conv1.weight', dims: [C1, 1, K1, K1], data: m.w1 },
      { name: 'conv1.bias', dims: [C1], data: m.b1 },
      { name: 'conv2.weight', dims: [C2, C1, K2, K2], data: m.w2 },
      { name: 'conv2.bias', dims: [C2], data: m.b2 },
      { name: 'fc.weight', dims: [CLASSES, FLAT], data: m.w3 },
      { name: 'fc.bias', dims: [CLASSES], data: m.b3 },
    ],
    nodes: [
      {
        op: 'Conv',
        name: 'conv1',
        inputs: ['input', 'conv1.weight', 'conv1.bias'],
        outputs: ['conv1.out'],
        attributes: { kernel_shape: { ints: [K1, K1] }, strides: { ints: [S1, S1] }, pads: { ints: [0, 0, 0, 0] } },
      },
      { op: 'Relu', name: 'relu1', inputs: ['conv1.out'], outputs: ['relu1.out'] },
      {
        op: 'MaxPool',
        name: 'pool1',
        inputs: ['relu1.out'],
        outputs: ['pool1.out'],
        attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
      },
      {
        op: 'Conv',
        name: 'conv2',
        inputs: ['pool1.out', 'conv2.weight', 'conv2.bias'],
        outputs: ['conv2.out'],
        attributes: { kernel_shape: { ints: [K2, K2] }, strides: { ints: [1, 1] }, pads: { ints: [0, 0, 0, 0] } },
      },
      { op: 'Relu', name: 'relu2', inputs: ['conv2.out'], outputs: ['relu2.out'] },
      { op: 'Flatten', name: 'flatten', inputs: ['relu2.out'], outputs: ['flat'], attributes: { axis: { int: 1 } } },
      {
        op: 'Gemm',
        name: 'fc',
        inputs: ['flat', 'fc.weight', 'fc.bias'],
        outputs: ['logits'],
        attributes: { transB: { int: 1 } },
      },
    ],
    docString: `veriml CNN: ${ARCHITECTURE}, trained by models/train-mnist-cnn.ts`,
    metadata: { seed: String(SEED), splitSeed: String(MNIST_SPLIT_SEED), generator: 'models/train-mnist-cnn.ts' },
  })
}

async function main(): Promise<void> {
  const { train: trainSet, test: testSet } = loadMnist()
  const started = performance.now()
  const model = train(trainSet, testSet, seededRandom(SEED))
  const trainMs = performance.now() - started
  const trainAccuracy = predict(model, trainSet).accuracy
  const test = predict(model, testSet)

  const bytes = toOnnx(model)
  const onnxAccuracy = await onnxAccuracyAgreeing(
    bytes,
    testSet,
    [1, 1, SIDE, SIDE],
    test.accuracy,
    test.predictions,
    'weight layout, pads, strides',
  )

  const sampleIndex = 0
  const sample = testSet[sampleIndex]
  await writeFileAtomic(out('./mnist-cnn.onnx'), bytes)
  await writeFileAtomic(out('./data/mnist-cnn-input.json'), ezklInput([sample]))
  await writeFileAtomic(out('./data/mnist-cnn-calibration.json'), ezklInput(trainSet.slice(0, CALIBRATION_SAMPLES)))
  await writeJsonAtomic(out('./mnist-cnn.json'), {
    generator: 'models/train-mnist-cnn.ts',
    onnxFile: 'mnist-cnn.onnx',
    onnxSha256: createHash('sha256').update(bytes).digest('hex'),
    architecture: ARCHITECTURE,
    parameters: Object.values(model).reduce((n: number, t: Float32Array) => n + t.length, 0),
    activations: { conv1Relu: C1 * H1 * H1, pool: C1 * P * P, conv2Relu: FLAT },
    input: { name: 'input', shape: [1, 1, SIDE, SIDE], range: [0, 1] },
    output: { name: 'logits', shape: [1, CLASSES] },
    seed: SEED,
    splitSeed: MNIST_SPLIT_SEED,
    epochs: EPOCHS,
    batchSize: BATCH_SIZE,
    augmentation: `random shift of up to ${MAX_SHIFT} pixels in x and y`,
    optimizer: { name: 'adam', ...ADAM, learningRateDecayPerEpoch: LR_DECAY },
    trainSeconds: Math.round(trainMs / 100) / 10,
    trainSize: trainSet.length,
    testSize: testSet.length,
    floatTrainAccuracy: trainAccuracy,
    /** Measured with onnxruntime-node on the written file, 2,000 held-out digits. */
    floatTestAccuracy: onnxAccuracy,
    sampleInputFile: 'data/mnist-cnn-input.json',
    sampleInputTestIndex: sampleIndex,
    sampleInputLabel: sample.label,
    calibrationFile: 'data/mnist-cnn-calibration.json',
    calibrationSamples: CALIBRATION_SAMPLES,
    calibrationSource: `train split, first ${CALIBRATION_SAMPLES}`,
  })
  console.log(
    `trained in ${(trainMs / 1000).toFixed(1)} s; float test accuracy ${(onnxAccuracy * 100).toFixed(2)}% (onnxruntime, agrees with the trainer on all ${testSet.length})`,
  )
}

await main()
