/**
 * The MNIST CNN on the zk path, float model and its int8 QDQ form (`veriml quantize`) side by
 * side: constraints in total and per activation of each conv, pool and lookup layer, compile,
 * dev setup and prove times, and held-out accuracy on the 2,000 held-out digits of the float
 * and int8 models in onnxruntime and of veriml's integer model of each (reference executor,
 * which is what the circuit proves). Writes bench/results/cnn-<date>.{json,md}.
 *
 *   npx tsx models/train-mnist-cnn.ts            # models/mnist-cnn.onnx (once)
 *   npx veriml quantize models/mnist-cnn.onnx --calibration models/data/mnist-cnn-calibration.json --out models/mnist-cnn.int8.onnx
 *   npx tsx bench/cnn.ts
 */
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { machineRecord } from './machine.js'
import { join } from 'node:path'
import { loadMnist } from '../models/mnist-data.js'
import { type Accuracy, heldOutAccuracy } from './held-out.js'
import { type Cost, type Ref, zeroCost } from '../src/circuit/lc.js'
import { emitLookup } from '../src/circuit/lookup.js'
import { emitMax } from '../src/circuit/max.js'
import { planRequant } from '../src/circuit/requant.js'
import { analyzeBounds } from '../src/ir/bounds.js'
import type { IrModel, TensorBounds } from '../src/ir/types.js'
import { compileModel } from '../src/prove/compile.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { verifyProof } from '../src/prove/verify.js'
import { shutdown } from '../src/shutdown.js'
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js'

const ROOT = join(import.meta.dirname, '..')
const CALIBRATION = join(ROOT, 'models', 'data', 'mnist-cnn-calibration.json')
const INPUT = join(ROOT, 'models', 'data', 'mnist-cnn-input.json')
const MODELS = [
  { key: 'float', label: 'float CNN (mnist-cnn.onnx)', onnx: join(ROOT, 'models', 'mnist-cnn.onnx') },
  { key: 'int8', label: 'int8 QDQ CNN (mnist-cnn.int8.onnx)', onnx: join(ROOT, 'models', 'mnist-cnn.int8.onnx') },
]
const RUNS = 3
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

interface LayerCost {
  step: number
  origin: string
  op: string
  outputs: number
  gadgets: number
  constraints: number
}

/**
 * Constraints of each non-linear IR step, from the same plans the emitter uses (requant per
 * element, max trees and lookups through the emitters themselves, on stand-in wires). The
 * sum is checked against the compiled circuit's own cost report.
 */
function layerCosts(ir: IrModel, bounds: Map<number, TensorBounds>): LayerCost[] {
  return ir.steps.flatMap((step, index): LayerCost[] => {
    const ids = step.op.inputs
    const xb = { lo: ids.flatMap((i) => bounds.get(i)!.lo), hi: ids.flatMap((i) => bounds.get(i)!.hi) }
    const x: Ref[] = xb.lo.map((_, j) => ({ sig: `x${j}`, mul: 1n, add: 0n }))
    const cost = zeroCost()
    const op = step.op
    if (op.op === 'requant') {
      for (let j = 0; j < x.length; j++) {
        const plan = planRequant(op, xb.lo[j], xb.hi[j])
        if (plan.kind === 'gadget') {
          cost.requant += plan.constraints
          cost.activations++
        }
      }
    } else if (op.op === 'max') emitMax(op, x, xb, step.output.id, [], cost)
    else if (op.op === 'lookup') emitLookup(op, x, xb, step.output.id, [], cost)
    else return []
    const constraints = cost.requant + cost.max + cost.lookup
    return [
      {
        step: index,
        origin: step.origin,
        op: op.op,
        outputs: op.op === 'max' ? op.rowPtr.length - 1 : x.length,
        gadgets: cost.activations,
        constraints,
      },
    ]
  })
}

const loadAtStart = loadavg()
const { test } = loadMnist()
const input = JSON.parse(await readFile(INPUT, 'utf8'))
interface Row {
  model: string
  label: string
  constraints: number
  cost: Cost
  layers: LayerCost[]
  layerSumMatches: boolean
  irSteps: string
  publicSignals: number
  compileMs: number
  devSetupMs: number
  witnessMs: number
  proveMs: number
  proveRunsMs: number[]
  verifyMs: number
  accuracy: Accuracy
}
const rows: Row[] = []
for (const m of MODELS) {
  const dir = join(ROOT, 'build', 'bench', `cnn-${m.key}`)
  console.error(`[${m.key}] compile`)
  const compiled = await compileModel({
    onnxPath: m.onnx,
    outDir: dir,
    force: true,
    calibrationPath: CALIBRATION,
    visibility: { input: 'hashed', output: 'public' },
  })
  console.error(`[${m.key}] dev setup`)
  // One loaded model for setup, every prove (its witness generator compiled once) and verify.
  const setup = await setupModel({ model: compiled.model, dev: true, force: true })
  const { model } = setup
  const proveMs: number[] = [],
    witnessMs: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const p = await proveModel({ model, input, outDir: join(dir, 'proof') })
    proveMs.push(p.proveMs)
    witnessMs.push(p.witnessMs)
  }
  const verified = await verifyProof({ model, proofDir: join(dir, 'proof') })
  if (!verified.valid) throw new Error(`[${m.key}] the proof does not verify: ${verified.reason}`)
  const { ir } = model
  const report = JSON.parse(await readFile(model.paths.report, 'utf8')) as {
    cost: Cost
  }
  const layers = layerCosts(ir, analyzeBounds(ir))
  const sum = (op: string) => layers.filter((l) => l.op === op).reduce((n, l) => n + l.constraints, 0)
  const layerSumMatches =
    sum('requant') === report.cost.requant && sum('max') === report.cost.max && sum('lookup') === report.cost.lookup
  console.error(`[${m.key}] accuracy on ${test.length} held-out digits`)
  const heldOut = await heldOutAccuracy(m.onnx, ir, test)
  rows.push({
    model: m.key,
    label: m.label,
    constraints: compiled.manifest.constraintCount,
    cost: report.cost,
    layers,
    layerSumMatches,
    irSteps: ir.steps.map((s) => s.op.op).join(' → '),
    publicSignals: compiled.manifest.layout.count,
    compileMs: compiled.manifest.timings.compileMs,
    devSetupMs: setup.setupMs,
    witnessMs: median(witnessMs),
    proveMs: median(proveMs),
    proveRunsMs: proveMs,
    verifyMs: verified.verifyMs,
    accuracy: heldOut,
  })
}

const machine = machineRecord(loadAtStart)
const date = new Date().toISOString().slice(0, 10)
await writeJsonAtomic(join(ROOT, 'bench', 'results', `cnn-${date}.json`), {
  machine,
  runs: RUNS,
  heldOutDigits: test.length,
  rows,
})

const s = (v: number) => `${(v / 1000).toFixed(2)} s`
const pct = (v: number) => `${(100 * v).toFixed(2)} %`
const lines = [
  `| MNIST CNN (${machine.cpus} cores, ${machine.node}, load ${machine.loadAverage1m.start.toFixed(1)} → ${machine.loadAverage1m.end.toFixed(1)}) | ${rows.map((r) => r.label).join(' | ')} |`,
  `|---|${rows.map(() => '---').join('|')}|`,
]
const row = (name: string, f: (r: Row) => string | number) => lines.push(`| ${name} | ${rows.map(f).join(' | ')} |`)
row('R1CS constraints', (r) => r.constraints.toLocaleString('en-US'))
row(
  'input range checks / requant / max / lookup / linear / hashing',
  (r) =>
    `${r.cost.inputRangeChecks} / ${r.cost.requant} / ${r.cost.max} / ${r.cost.lookup} / ${r.cost.linear} / ${r.cost.hashing}`,
)
row('IR steps', (r) => r.irSteps)
row(
  'per layer: constraints (per output)',
  (r) =>
    r.layers
      .map((l) => `${l.origin} ${l.op} ×${l.outputs}: ${l.constraints} (${(l.constraints / l.outputs).toFixed(1)})`)
      .join('; ') + (r.layerSumMatches ? '' : ' [sum differs from the circuit report]'),
)
row('compile (circom2, wasm)', (r) => s(r.compileMs))
row('dev setup', (r) => s(r.devSetupMs))
row('witness', (r) => s(r.witnessMs))
row(`prove (median of ${RUNS})`, (r) => s(r.proveMs))
row('verify off-chain', (r) => `${r.verifyMs.toFixed(0)} ms`)
row(`held-out accuracy, onnxruntime (${test.length} digits)`, (r) => pct(r.accuracy.onnxruntime))
row('held-out accuracy, veriml integer model (what is proven)', (r) => pct(r.accuracy.integer))
row(
  'veriml integer vs onnxruntime: argmax agreement, max abs logit error',
  (r) => `${pct(r.accuracy.argmaxAgreement)}, ${r.accuracy.maxAbsError.toPrecision(3)}`,
)
row('reference executor per digit', (r) => `${r.accuracy.executorMsPerDigit.toFixed(1)} ms`)
const md = `${lines.join('\n')}\n`
await writeFileAtomic(join(ROOT, 'bench', 'results', `cnn-${date}.md`), md)
console.log(md)
await shutdown()
