/**
 * The bundled MNIST vision transformer (models/mnist-vit.onnx, models/train-mnist-vit.ts) on
 * the zk path: constraints in total, by op kind and by ONNX op (what each attention score,
 * softmax element, normalised element and GELU costs), compile (direct backend), dev setup,
 * prove, verify off-chain and on chain (registry gas), and held-out accuracy: the float model
 * in onnxruntime, veriml's integer model (reference executor, what is proven), and proofs whose
 * public outputs must equal the executor's on a few digits. Writes bench/results/vit-<date>.{json,md}.
 *
 *   npx tsx bench/vit.ts [--proofs=N]
 *   npx tsx bench/vit.ts --report=bench/results/vit-<date>.json   # the tables again from a run's JSON
 */
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { loadMnist } from '../models/mnist-data.js'
import { type Accuracy, heldOutAccuracy } from './held-out.js'
import { machineRecord } from './machine.js'
import { verifyBuildOnChain } from '../src/chain/model.js'
import { opEmitter } from '../src/circuit/gadgets.js'
import type { Cost, Ref } from '../src/circuit/lc.js'
import { fusedConstraints, planFused, softmaxChains } from '../src/circuit/softmax-fused.js'
import { analyzeBounds } from '../src/ir/bounds.js'
import { execute } from '../src/ir/execute.js'
import type { IrModel } from '../src/ir/types.js'
import { compileModel } from '../src/prove/compile.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { verifyProof } from '../src/prove/verify.js'
import { quantizeInputs } from '../src/quantize/input.js'
import { shutdown } from '../src/shutdown.js'
import { writeFileAtomic, writeJsonAtomic } from '../src/util/fs.js'

const ROOT = join(import.meta.dirname, '..')
const ONNX = join(ROOT, 'models', 'mnist-vit.onnx')
const CALIBRATION = join(ROOT, 'models', 'data', 'mnist-calibration.json')
const PROOFS = Number(process.argv.find((a) => a.startsWith('--proofs='))?.slice(9) ?? 3)
const total = (c: Cost) =>
  c.inputRangeChecks + c.requant + c.linear + c.hashing + c.max + c.lookup + c.mul + c.div + c.isqrt

/**
 * Constraints of every IR step from the circom emitter's own plans (on stand-in wires), grouped
 * by the ONNX node(s) the step came from and by op kind: the compiler's count is authoritative,
 * and the grouped sum is reported beside it. A softmax row the circuit fuses (softmax-fused.ts)
 * is one group at its lookup, as compiled.
 */
function costsByOrigin(ir: IrModel): { origin: string; kind: string; elements: number; constraints: number }[] {
  const bounds = analyzeBounds(ir)
  const emit = opEmitter(null)
  const rows = new Map<string, { origin: string; kind: string; elements: number; constraints: number }>()
  const standIn = (ids: number[]): Ref[] =>
    ids.flatMap((i) => bounds.get(i)!.lo).map((_, j) => ({ sig: `x${j}`, mul: 1n, add: 0n }))
  // Softmax rows the circuit fuses (src/circuit/softmax-fused.ts): one gadget at the lookup's step.
  const fused = new Map<number, number>()
  const skipped = new Set<number>()
  for (const [i, chain] of softmaxChains(ir)) {
    const plan = planFused(ir, bounds, chain, standIn(ir.steps[i].op.inputs))
    if (!plan) continue
    fused.set(chain.exp, fusedConstraints(plan))
    for (const k of [chain.max, chain.centre, chain.clamp]) skipped.add(k)
  }
  for (const [i, step] of ir.steps.entries()) {
    if (skipped.has(i)) continue
    const ids = step.op.inputs
    const xb = { lo: ids.flatMap((i) => bounds.get(i)!.lo), hi: ids.flatMap((i) => bounds.get(i)!.hi) }
    const x = standIn(ids)
    const n = fused.get(i) ?? total(emit(step.op, x, xb, step.output.id).cost)
    if (n === 0) continue
    const kind = fused.has(i) ? 'softmax row (max, centre, index, exp)' : step.op.op
    const key = `${step.origin}|${kind}`
    const row = rows.get(key) ?? { origin: step.origin, kind, elements: 0, constraints: 0 }
    row.elements += bounds.get(step.output.id)!.lo.length
    row.constraints += n
    rows.set(key, row)
  }
  return [...rows.values()]
}

type Result = {
  machine: { cpus: number; node: string; loadAverage1m: { start: number; end: number } }
  constraints: number
  cost: Cost
  byOrigin: ReturnType<typeof costsByOrigin>
  byOriginSum: number
  irSteps: number
  compileMs: number
  devSetupMs: number
  proofs: { digit: number; label: number; witnessMs: number; proveMs: number; verifyMs: number; equal: boolean }[]
  verifyGas: number | null
  heldOutDigits: number
  accuracy: Accuracy
}

async function measure(): Promise<{ result: Result; date: string }> {
  const loadAtStart = loadavg()
  const { test } = loadMnist()
  const dir = join(ROOT, 'build', 'bench', 'vit')
  console.error('[vit] compile (direct backend)')
  const compiled = await compileModel({
    onnxPath: ONNX,
    outDir: dir,
    force: true,
    calibrationPath: CALIBRATION,
    visibility: { input: 'hashed', output: 'public' },
  })
  console.error(`[vit] ${compiled.manifest.constraintCount} constraints; dev setup`)
  const setup = await setupModel({ model: compiled.model, dev: true, force: true })
  const { model } = setup
  const { ir } = model
  const report = JSON.parse(await readFile(model.paths.report, 'utf8')) as { cost: Cost }
  const byOrigin = costsByOrigin(ir)
  console.error('[vit] proofs')
  const proofs: {
    digit: number
    label: number
    witnessMs: number
    proveMs: number
    verifyMs: number
    equal: boolean
  }[] = []
  for (let d = 0; d < PROOFS; d++) {
    const s = test[d]
    const input = { input_data: [Array.from(s.pixels)] }
    const proofDir = join(dir, `proof-${d}`)
    const p = await proveModel({ model, input, outDir: proofDir })
    const v = await verifyProof({ model, proofDir })
    if (!v.valid) throw new Error(`[vit] proof of digit ${d} does not verify: ${v.reason}`)
    const q = execute(ir, quantizeInputs(ir.inputs, [Float64Array.from(s.pixels)])).outputs[0]
    const equal = JSON.stringify(p.outputs[0].map(String)) === JSON.stringify(q.map(String))
    proofs.push({ digit: d, label: s.label, witnessMs: p.witnessMs, proveMs: p.proveMs, verifyMs: v.verifyMs, equal })
  }
  console.error('[vit] on-chain verification (embedded anvil)')
  const chain = await verifyBuildOnChain({ model, proofDir: join(dir, 'proof-0') })
  console.error(`[vit] accuracy on ${test.length} held-out digits`)
  const heldOut = await heldOutAccuracy(ONNX, ir, test)

  const machine = machineRecord(loadAtStart)
  const date = new Date().toISOString().slice(0, 10)
  const result = {
    machine,
    constraints: compiled.manifest.constraintCount,
    cost: report.cost,
    byOrigin,
    byOriginSum: byOrigin.reduce((n, r) => n + r.constraints, 0) + report.cost.inputRangeChecks + report.cost.hashing,
    irSteps: ir.steps.length,
    compileMs: compiled.manifest.timings.compileMs,
    devSetupMs: setup.setupMs,
    proofs,
    verifyGas: chain.accepted ? Number(chain.gasUsed) : null,
    heldOutDigits: test.length,
    accuracy: heldOut,
  }
  await writeJsonAtomic(join(ROOT, 'bench', 'results', `vit-${date}.json`), result)
  return { result, date }
}

/** A fused affine's origin lists every ONNX node folded into it: the first and the last name it. */
const shortOrigin = (o: string) => {
  const nodes = o.split('+')
  return nodes.length <= 3 ? o : `${nodes[0]} … ${nodes.at(-1)} (${nodes.length} nodes)`
}

function markdown(result: Result): string {
  const s = (v: number) => `${(v / 1000).toFixed(2)} s`
  const pct = (v: number) => `${(100 * v).toFixed(2)} %`
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const c = result.cost
  const { machine, proofs, accuracy: heldOut } = result
  const lines = [
    `MNIST ViT (models/mnist-vit.onnx), ${machine.cpus} cores, ${machine.node}, load ${machine.loadAverage1m.start.toFixed(1)} → ${machine.loadAverage1m.end.toFixed(1)}`,
    '',
    '| measure | value |',
    '|---|---|',
    `| R1CS constraints | ${result.constraints.toLocaleString('en-US')} (${result.irSteps} IR steps) |`,
    `| by kind: input range checks / requant / max / lookup / mul / div / isqrt / hashing | ${c.inputRangeChecks} / ${c.requant} / ${c.max} / ${c.lookup} / ${c.mul} / ${c.div} / ${c.isqrt} / ${c.hashing} |`,
    `| compile (direct backend) | ${s(result.compileMs)} |`,
    `| dev setup | ${s(result.devSetupMs)} |`,
    `| witness / prove (median of ${proofs.length}) | ${s(median(proofs.map((p) => p.witnessMs)))} / ${s(median(proofs.map((p) => p.proveMs)))} |`,
    `| verify off-chain | ${median(proofs.map((p) => p.verifyMs)).toFixed(0)} ms |`,
    `| verify on chain (registry, verifier + record) | ${result.verifyGas?.toLocaleString('en-US') ?? 'REJECTED'} gas |`,
    `| held-out accuracy, float (onnxruntime, ${result.heldOutDigits} digits) | ${pct(heldOut.onnxruntime)} |`,
    `| held-out accuracy, veriml integer model (what is proven) | ${pct(heldOut.integer)} |`,
    `| integer vs float: argmax agreement, max abs logit error | ${pct(heldOut.argmaxAgreement)}, ${heldOut.maxAbsError.toPrecision(3)} |`,
    `| proofs whose public outputs equal the executor's | ${proofs.filter((p) => p.equal).length} of ${proofs.length} |`,
    `| reference executor per digit | ${heldOut.executorMsPerDigit.toFixed(1)} ms |`,
    '',
    '| ONNX node(s) | IR op | elements | constraints | per element |',
    '|---|---|---|---|---|',
    ...result.byOrigin.map(
      (r) =>
        `| ${shortOrigin(r.origin)} | ${r.kind} | ${r.elements} | ${r.constraints.toLocaleString('en-US')} | ${(r.constraints / r.elements).toFixed(1)} |`,
    ),
  ]
  return `${lines.join('\n')}\n`
}

// `--report=bench/results/vit-<date>.json`: the table again from a run's JSON, measuring nothing.
const reportOnly = process.argv.find((a) => a.startsWith('--report='))?.slice(9)
const { result, date } = reportOnly
  ? { result: JSON.parse(await readFile(reportOnly, 'utf8')) as Result, date: reportOnly.match(/vit-(.*)\.json$/)![1] }
  : await measure()
const md = markdown(result)
await writeFileAtomic(join(ROOT, 'bench', 'results', `vit-${date}.md`), md)
console.log(md)
await shutdown()
