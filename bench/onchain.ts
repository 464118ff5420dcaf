/**
 * Tiny models settled on chain outright (src/onchain): deploy gas and run gas (the run
 * recorded in the hub, as every run is) on a local anvil node for tiny-mlp, the bundled MNIST MLP and int8 CNN, a nanoGPT-shaped block and one random model, each against the IR-only
 * estimate; and (--calibrate) the fit of the estimate's per-op coefficients (GAS_PER in
 * src/onchain/gas.ts) on single-op models of several sizes, by least squares on the gas left
 * once the gas charged by rule is taken out.
 *
 *   npx tsx bench/onchain.ts [--json bench/onchain-gas.json] [--calibrate]
 */
import { writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Wallet } from 'ethers'
import { startAnvil } from '../src/chain/anvil.js'
import { execute } from '../src/ir/execute.js'
import type { IrModel, PrimitiveOp } from '../src/ir/types.js'
import { runOnchain } from '../src/onchain/client.js'
import { deployHub, deployOnchainModel } from '../src/onchain/deploy.js'
import { programSize } from '../src/onchain/encode.js'
import {
  estimateOnchainGas,
  GAS_PER,
  type OnchainGasFeatures,
  onchainGasFeatures,
  ruleGas,
  TX_GAS_CAP,
} from '../src/onchain/gas.js'
import { lowerOnnx } from '../src/onnx/lower.js'
import { parseOnnx } from '../src/onnx/parse.js'
import { parseInputs, quantizeInputs } from '../src/quantize/input.js'
import { hasFixedScales } from '../src/quantize/fixed.js'
import { quantize } from '../src/quantize/quantize.js'
import { gptOnnx } from '../models/gpt.js'
import { denseLinear, inputTensor, quant, type Rng, rng, step } from '../models/optimistic-models.js'

const ROOT = join(import.meta.dirname, '..')

async function onnxModel(file: string, calibration: string): Promise<{ model: IrModel; input: bigint[][] }> {
  const graph = lowerOnnx(parseOnnx(new Uint8Array(await readFile(join(ROOT, 'models', file)))))
  const samples = parseInputs(
    JSON.parse(await readFile(join(ROOT, 'models', 'data', calibration), 'utf8')),
    graph.inputs,
    {
      many: true,
    },
  )
  // A QDQ model carries its own scales (the samples only give the input).
  const model = quantize(graph, hasFixedScales(graph) ? [] : samples)
  return { model, input: quantizeInputs(model.inputs, samples[0]) }
}

/** Uniform values of each input's domain. */
function inputsOf(model: IrModel, r: Rng): bigint[][] {
  return model.inputs.map((i) =>
    Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => r.big(Number(i.lo), Number(i.hi))),
  )
}

/** in0 (int8, n values) → the op under test (id 1…) → output. */
function single(name: string, n: number, ops: [PrimitiveOp, number][], extraInputs = 0): IrModel {
  return {
    name,
    inputs: [inputTensor(0, n), ...Array.from({ length: extraInputs }, (_, i) => inputTensor(i + 1, n))],
    steps: ops.map(([op, size], i) => step(i + 1 + extraInputs, op, size)),
    outputs: [{ tensor: ops.length + extraInputs, name: 'out', quant }],
  }
}

const ints = (n: number, f: (i: number) => number) => Int32Array.from({ length: n }, (_, i) => f(i))
const pick1: (id: number) => [PrimitiveOp, number] = (id) => [
  { op: 'gather', inputs: [id], index: ints(1, () => 0), fill: 0n },
  1,
]

/** Single-op models of several sizes, each feature varied on its own. */
function calibrationModels(): IrModel[] {
  const r = rng(11)
  const models: IrModel[] = []
  for (const m of [1, 8, 32, 64]) {
    const gather: PrimitiveOp = { op: 'gather', inputs: [0], index: ints(m, (i) => i), fill: 0n }
    models.push(single(`gather-${m}`, 64, [[gather, m]]))
    models.push(single(`gather-${m}-pick`, 64, [[gather, m], pick1(1)]))
  }
  for (const k of [1, 4, 12])
    models.push(
      single(
        `steps-${k}`,
        8,
        Array.from({ length: k }, (_, i) => pick1(i)),
      ),
    )
  for (const [rows, terms, w] of [
    [4, 8, 127],
    [4, 64, 127],
    [16, 8, 127],
    [16, 64, 127],
    [4, 256, 127],
    [16, 40, 127],
    [8, 64, 1000],
    [8, 256, 1000],
  ]) {
    models.push(single(`dense-${rows}x${terms}-${w}`, 256, [[denseLinear([0], terms, rows, r, w), rows], pick1(1)]))
    if (w !== 127) continue
    const sparse = denseLinear([0], terms, rows, r)
    sparse.cols = sparse.cols.map((c) => 2 * (c >> 1) + (c & 1 ? 0 : 1))
    models.push(single(`sparse-${rows}x${terms}`, 256, [[sparse, rows], pick1(1)]))
  }
  for (const m of [8, 64]) {
    const rq = (rounding?: 'half-even'): PrimitiveOp => ({
      op: 'requant',
      inputs: [0],
      mul: 77n,
      shift: 5,
      zeroPoint: 3n,
      lo: -100n,
      hi: 100n,
      ...(rounding ? { rounding } : {}),
    })
    models.push(single(`requant-${m}`, m, [[rq(), m], pick1(1)]))
    models.push(single(`requant-even-${m}`, m, [[rq('half-even'), m], pick1(1)]))
    const table = Array.from({ length: 256 }, () => r.big(-1000, 1000))
    models.push(single(`lookup-${m}`, m, [[{ op: 'lookup', inputs: [0], offset: -128n, table }, m], pick1(1)]))
    models.push(
      single(`mul-${m}`, m, [
        [{ op: 'mul', inputs: [0], left: ints(m, (i) => i), right: ints(m, (i) => m - 1 - i) }, m],
        pick1(1),
      ]),
    )
    const positive: PrimitiveOp = { op: 'requant', inputs: [0], mul: 1n, shift: 0, zeroPoint: 129n, lo: 1n, hi: null }
    models.push(
      single(`div-${m}`, m, [
        [positive, m],
        [{ op: 'div', inputs: [0, 1], num: ints(m, (i) => i), den: ints(m, (i) => m + i), shift: 8 }, m],
        pick1(2),
      ]),
    )
    const big: PrimitiveOp = { op: 'requant', inputs: [0], mul: 40_000_000n, shift: 0, zeroPoint: 0n, lo: 0n, hi: null }
    models.push(single(`isqrt-${m}`, m, [[big, m], [{ op: 'isqrt', inputs: [1] }, m], pick1(2)]))
    models.push(single(`concat-${m}`, m, [[{ op: 'gather', inputs: [0, 1], index: ints(1, () => 0), fill: 0n }, 1]], 1))
    for (const width of [2, 8]) {
      const rows = m / 2
      const cols = ints(rows * width, (k) => (k * 7) % m)
      const rowPtr = ints(rows + 1, (i) => i * width)
      models.push(single(`max-${rows}x${width}`, m, [[{ op: 'max', inputs: [0], rowPtr, cols }, rows], pick1(1)]))
    }
  }
  return models
}

/** A random-weight model with a dense layer, a sparse (conv-like) layer, max, lookup, mul, div and isqrt. */
function randomBenchModel(): IrModel {
  const r = rng(21)
  const sparse = denseLinear([2], 32, 16, r)
  sparse.cols = sparse.cols.map((c, k) => (c * 5 + k) % 32)
  const table = Array.from({ length: 256 }, () => r.big(-127, 127))
  const ops: [PrimitiveOp, number][] = [
    [denseLinear([0], 64, 32, r), 32],
    [{ op: 'requant', inputs: [1], mul: 3n, shift: 10, zeroPoint: 0n, lo: -128n, hi: 127n, rounding: 'half-even' }, 32],
    [sparse, 16],
    [{ op: 'requant', inputs: [3], mul: 1n, shift: 8, zeroPoint: 0n, lo: -128n, hi: 127n }, 16],
    [{ op: 'lookup', inputs: [4], offset: -128n, table }, 16],
    [{ op: 'max', inputs: [4, 5], rowPtr: ints(9, (i) => 4 * i), cols: ints(32, (k) => (k * 3) % 32) }, 8],
    [{ op: 'mul', inputs: [6], left: ints(8, (i) => i), right: ints(8, (i) => 7 - i) }, 8],
    [{ op: 'requant', inputs: [7], mul: 1n, shift: 0, zeroPoint: 1n, lo: 1n, hi: null }, 8],
    [{ op: 'isqrt', inputs: [8] }, 8],
    [{ op: 'div', inputs: [6, 9], num: ints(8, (i) => i), den: ints(8, (i) => 8 + i), shift: 8 }, 8],
  ]
  return { ...single('random-bench', 64, ops), name: 'random-bench' }
}

/** Least squares: the coefficients minimising |X·c − y|² (normal equations, tiny ridge). */
function leastSquares(rows: number[][], y: number[]): number[] {
  const n = rows[0].length
  const a = Array.from({ length: n }, (_, i) => [
    ...Array.from({ length: n }, (_, j) => rows.reduce((s, r) => s + r[i] * r[j], 0) + (i === j ? 1e-6 : 0)),
    rows.reduce((s, r, k) => s + r[i] * y[k], 0),
  ])
  for (let c = 0; c < n; c++) {
    const p = a.reduce((best, row, i) => (i >= c && Math.abs(row[c]) > Math.abs(a[best][c]) ? i : best), c)
    ;[a[c], a[p]] = [a[p], a[c]]
    for (let i = 0; i < n; i++)
      if (i !== c) {
        const f = a[i][c] / a[c][c]
        for (let j = c; j <= n; j++) a[i][j] -= f * a[c][j]
      }
  }
  return a.map((row, i) => row[n] / row[i])
}

const anvil = await startAnvil({ accounts: 2 })
try {
  const wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
  // One hub for every model, owned by the wallet (each deploy binds its model contract in it).
  const { address: hub } = await deployHub(wallet)
  if (process.argv.includes('--calibrate')) {
    const keys = (Object.keys(GAS_PER) as (keyof typeof GAS_PER)[]).filter((k) => k !== 'programByte')
    const rows: number[][] = []
    const y: number[] = []
    for (const model of calibrationModels()) {
      const deployed = await deployOnchainModel({ signer: wallet, model, hub })
      const { gasUsed } = await runOnchain(deployed.contract, inputsOf(model, rng(3)))
      const f: OnchainGasFeatures = onchainGasFeatures(model, programSize(model))
      const rule = ruleGas(model, f)
      rows.push(keys.map((k) => f[k]))
      if (process.argv.includes('--verbose')) console.log(model.name, gasUsed, rule.execute, rule.record)
      y.push(Number(gasUsed) - rule.execute - rule.record - GAS_PER.programByte * f.programByte)
    }
    const fit = leastSquares(rows, y)
    console.log(Object.fromEntries(keys.map((k, i) => [k, Math.round(fit[i])])))
  } else {
    const tiny = lowerOnnx(parseOnnx(new Uint8Array(await readFile(join(ROOT, 'models', 'tiny-mlp.onnx')))))
    const r = rng(5)
    const tinySamples = Array.from({ length: 16 }, () =>
      tiny.inputs.map(() => Float64Array.from({ length: 8 }, () => 2 * r.next() - 1)),
    )
    const tinyModel = quantize(tiny, tinySamples)
    const models: { model: IrModel; input: bigint[][] }[] = [
      { model: tinyModel, input: quantizeInputs(tinyModel.inputs, tinySamples[0]) },
      await onnxModel('mnist-mlp.onnx', 'mnist-calibration.json'),
      await onnxModel('mnist-cnn.int8.onnx', 'mnist-cnn-calibration.json'),
    ]
    // A nanoGPT-shaped block (models/gpt.ts: attention, LayerNorm, GELU): every op kind, 69 steps.
    const gpt = lowerOnnx(
      parseOnnx(gptOnnx({ block: 8, vocab: 16, layers: 1, heads: 2, embd: 16, seed: 3, input: 'embeddings' })),
    )
    const gptSamples = Array.from({ length: 8 }, () =>
      gpt.inputs.map((i) => Float64Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => 2 * r.next() - 1)),
    )
    const gptModel = quantize(gpt, gptSamples)
    models.push({ model: { ...gptModel, name: 'gpt-block' }, input: quantizeInputs(gptModel.inputs, gptSamples[0]) })
    const random = randomBenchModel()
    models.push({ model: random, input: inputsOf(random, r) })
    const report: Record<string, unknown>[] = []
    for (const { model, input } of models) {
      const estimate = estimateOnchainGas(model)
      const row: Record<string, unknown> = {
        model: model.name,
        steps: model.steps.map((s) => s.op.op).join(' '),
        programBytes: estimate.programBytes,
        chunks: estimate.chunks,
        estimatedRun: estimate.run,
        estimatedDeploy: estimate.deploy,
        fitsEstimate: estimate.fits,
      }
      try {
        const deployed = await deployOnchainModel({ signer: wallet, model, hub })
        const run = await runOnchain(deployed.contract, input)
        const same =
          JSON.stringify(run.outputs.map(String)) === JSON.stringify(execute(model, input).outputs.flat().map(String))
        Object.assign(row, {
          // The program's data contracts, the model contract, its binding in the (shared) hub.
          deployGas: deployed.gasUsed,
          runGas: run.gasUsed,
          estimateError: `${((100 * (estimate.run - Number(run.gasUsed))) / Number(run.gasUsed)).toFixed(1)}%`,
          fits2to24: Number(run.gasUsed) <= TX_GAS_CAP,
          outputsEqualReference: same,
        })
      } catch (error) {
        row.error = (error as Error).message.split('\n')[0]
      }
      report.push(row)
      console.log(row)
    }
    const json = process.argv.indexOf('--json')
    if (json > 0)
      writeFileSync(
        process.argv[json + 1],
        `${JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? Number(v) : v), 2)}\n`,
      )
  }
} finally {
  await anvil.stop()
}
