/**
 * Trains the project's vision transformer on the `mnist` package's digits in plain TypeScript
 * (models/vit-model.ts has the shape and the backward pass, models/vit-train.ts the loop) and
 * writes it as opset-17 ONNX with its metadata, one EZKL-style sample input and calibration
 * data. Deterministic: same seeds, same bytes.
 *
 * The shape is chosen for the circuit, not only for accuracy: one block, because a block's
 * non-linear work (512 softmax elements, 1,024 GELUs, 1,024 normalised elements) is most of
 * the cost, and 7×7 patches, because the 16 tokens keep the attention scores at 2·16·16.
 *
 *   npx tsx models/train-mnist-vit.ts
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js'
import { loadMnist, MNIST_SPLIT_SEED, seededRandom } from './mnist-data.js'
import { ADAM, ezklInput, onnxAccuracyAgreeing } from './training.js'
import { MNIST_VIT, tokensOf, type VitConfig, vitParameterCount } from './vit-model.js'
import { VIT_INPUT, VIT_OPSET, VIT_OUTPUT, vitOnnx } from './vit-onnx.js'
import { predictVit, trainVit, VIT_TRAINING } from './vit-train.js'

const SEED = 17
const CALIBRATION_SAMPLES = 64
const GENERATOR = 'models/train-mnist-vit.ts'

const out = (relative: string) => fileURLToPath(new URL(relative, import.meta.url))

const architecture = (c: VitConfig) =>
  `${tokensOf(c)} patches of ${c.patch}x${c.patch} -> Linear(${c.patch ** 2}→${c.dim}) + position embedding -> ` +
  `${c.blocks} x pre-LN block [LayerNorm -> ${c.heads}-head self-attention (Q,K,V Linear, softmax(QKᵀ/√${c.dim / c.heads})V, ` +
  `out Linear) -> residual; LayerNorm -> Linear(${c.dim}→${c.mlp}) -> GELU(erf) -> Linear(${c.mlp}→${c.dim}) -> residual] ` +
  `-> mean over patches -> LayerNorm -> Linear(${c.dim}→${c.classes})`

/**
 * The zk budget the shape was chosen against, from issue 16's per-element estimates (softmax
 * element ~100 constraints, GELU lookup ~48, normalised element ~15, requantised linear output
 * ~10, input range check ~1). An estimate to steer the design, not a measurement.
 */
function estimatedConstraints(c: VitConfig) {
  const n = tokensOf(c)
  const softmaxElements = c.blocks * c.heads * n * n
  const geluElements = c.blocks * n * c.mlp
  const normalisedElements = c.blocks * 2 * n * c.dim + c.dim
  // Per block: Q, K, V, scores, context, proj, fc1, fc2; plus the patch embedding and the head.
  const linearOutputs = n * c.dim + c.blocks * (6 * n * c.dim + c.heads * n * n + n * c.mlp) + c.classes
  const inputs = c.side * c.side
  const byKind = {
    softmax: softmaxElements * 100,
    gelu: geluElements * 48,
    layerNorm: normalisedElements * 15,
    requantisation: linearOutputs * 10,
    inputRange: inputs,
  }
  return { ...byKind, total: Object.values(byKind).reduce((a, b) => a + b, 0) }
}

async function main(): Promise<void> {
  const config = MNIST_VIT
  const { train: trainSet, test: testSet } = loadMnist()
  const started = performance.now()
  const model = trainVit(config, VIT_TRAINING, trainSet, testSet, seededRandom(SEED))
  const trainMs = performance.now() - started
  const trainAccuracy = predictVit(config, model, trainSet).accuracy
  const test = predictVit(config, model, testSet)

  const bytes = vitOnnx({
    config,
    model,
    name: 'mnist_vit',
    docString: `veriml ViT: ${architecture(config)}, trained by ${GENERATOR}`,
    metadata: { seed: String(SEED), splitSeed: String(MNIST_SPLIT_SEED), generator: GENERATOR },
  })
  const onnxAccuracy = await onnxAccuracyAgreeing(
    bytes,
    testSet,
    [1, 1, config.side, config.side],
    test.accuracy,
    test.predictions,
    'patch Reshape/Transpose, head split and merge, weight layout [in, out]',
  )

  const sampleIndex = 0
  const sample = testSet[sampleIndex]
  await writeFileAtomic(out('./mnist-vit.onnx'), bytes)
  // The sample input and calibration are the MLP's files (same split, same digits): written by
  // models/train-mnist.ts, checked equal here rather than shipped twice.
  await expectSameData('./data/mnist-input.json', ezklInput([sample]))
  await expectSameData('./data/mnist-calibration.json', ezklInput(trainSet.slice(0, CALIBRATION_SAMPLES)))
  await writeJsonAtomic(out('./mnist-vit.json'), {
    generator: GENERATOR,
    onnxFile: 'mnist-vit.onnx',
    onnxSha256: createHash('sha256').update(bytes).digest('hex'),
    opset: VIT_OPSET,
    architecture: architecture(config),
    config,
    parameters: vitParameterCount(config, model),
    estimatedConstraints: estimatedConstraints(config),
    input: { name: VIT_INPUT, shape: [1, 1, config.side, config.side], range: [0, 1] },
    output: { name: VIT_OUTPUT, shape: [1, config.classes] },
    seed: SEED,
    splitSeed: MNIST_SPLIT_SEED,
    epochs: VIT_TRAINING.epochs,
    batchSize: VIT_TRAINING.batchSize,
    augmentation: `random shift of up to ${VIT_TRAINING.maxShift} pixel(s) in x and y`,
    optimizer: {
      name: 'adam',
      ...ADAM,
      learningRate: VIT_TRAINING.peakLearningRate,
      schedule: `linear warm-up over ${VIT_TRAINING.warmupEpochs} epoch(s), then cosine decay to 0, per step`,
    },
    trainSeconds: Math.round(trainMs / 100) / 10,
    trainSize: trainSet.length,
    testSize: testSet.length,
    floatTrainAccuracy: trainAccuracy,
    /** The trainer's own float64 forward pass on the 2,000 held-out digits. */
    floatTestAccuracyTypeScript: test.accuracy,
    /** onnxruntime-node on the written file, same digits; it predicts every digit as the trainer does. */
    floatTestAccuracy: onnxAccuracy,
    sampleInputFile: 'data/mnist-input.json',
    sampleInputTestIndex: sampleIndex,
    sampleInputLabel: sample.label,
    calibrationFile: 'data/mnist-calibration.json',
    calibrationSamples: CALIBRATION_SAMPLES,
    calibrationSource: `train split, first ${CALIBRATION_SAMPLES}`,
  })
  console.log(
    `trained in ${(trainMs / 1000).toFixed(1)} s; float test accuracy ${(onnxAccuracy * 100).toFixed(2)}% (onnxruntime, agrees with the trainer on all ${testSet.length})`,
  )
}

await main()

/** The MLP's data file must hold exactly what this trainer would write (else the split or the digits changed). */
async function expectSameData(relative: string, expected: string): Promise<void> {
  if ((await readFile(out(relative), 'utf8')) !== expected)
    throw new Error(`${relative} differs from this trainer's digits: rerun models/train-mnist.ts first`)
}
