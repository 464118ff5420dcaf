/**
 * Micro-benchmarks (tinybench) of veriml's hot paths on the bundled MNIST MLP, each against
 * a baseline measured in the same process:
 *   - reference executor (integer IR)         vs onnxruntime float run (session created once)
 *   - witness via the loaded model's witness() vs snarkjs wtns.calculate (recompiles the wasm)
 *   - prove: loaded calculator + groth16.prove vs snarkjs groth16.fullProve
 * Prints a markdown table and writes it to bench/results/micro-<date>.md.
 * Reuses build/bench/sweep/mnist-mlp when `npm run bench` has compiled it (else compiles, ~40 s).
 *
 *   npx tsx bench/micro.ts
 */
import { readFile, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import * as snarkjs from 'snarkjs'
import { Bench, type Task } from 'tinybench'
import { execute } from '../src/ir/execute.js'
import { compileModel } from '../src/prove/compile.js'
import { runModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { witnessInput } from '../src/prove/witness-input.js'
import { parseInputs } from '../src/quantize/input.js'
import { shutdown } from '../src/shutdown.js'
import { terminalProgress } from '../src/util/progress.js'
import { VISIBILITY } from './sweep/measure.js'

const ROOT = join(import.meta.dirname, '..')
const dir = join(ROOT, 'build', 'bench', 'sweep', 'mnist-mlp')
const progress = terminalProgress(process.stderr)

// One loaded model for everything below.
const { model } = await progress.step('MNIST build (reused when unchanged)', async () => {
  const compiled = await compileModel({
    onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
    outDir: dir,
    calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
    visibility: VISIBILITY,
  })
  return setupModel({ model: compiled.model, dev: true })
})
const { paths } = model
const inputJson = JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8')) as unknown
const run = await runModel({ model, input: inputJson })
const floatInput = parseInputs(inputJson, run.ir.inputs)[0]
const session = await ort.InferenceSession.create(join(ROOT, 'models', 'mnist-mlp.onnx'))
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(floatInput[0]), [1, 784]) }
const calculate = await model.witness()
const wtnsBytes = await calculate(run.inputs)
const circuitInput = witnessInput(run.inputs)

interface Pair {
  group: string
  task: string
  baseline: string
}
const pairs: Pair[] = []
const benches: Bench[] = []

const fast = new Bench({ time: 1500, warmupTime: 300 })
fast.add('executor: veriml integer IR', () => {
  execute(run.ir, run.inputs)
})
fast.add('executor: onnxruntime float (baseline)', async () => {
  await session.run(feeds)
})
fast.add('witness: loadWitnessCalculator (loaded once)', async () => {
  await calculate(run.inputs)
})
fast.add('witness: snarkjs wtns.calculate (baseline)', async () => {
  await snarkjs.wtns.calculate(circuitInput, paths.wasm, { type: 'mem' })
})
pairs.push({
  group: 'executor',
  task: 'executor: veriml integer IR',
  baseline: 'executor: onnxruntime float (baseline)',
})
pairs.push({
  group: 'witness',
  task: 'witness: loadWitnessCalculator (loaded once)',
  baseline: 'witness: snarkjs wtns.calculate (baseline)',
})
benches.push(fast)

// ~1 s per proof on 2 cores: a handful of iterations, no time budget.
const slow = new Bench({ time: 0, iterations: 5, warmupIterations: 1, warmupTime: 0 })
slow.add('prove: witness (loaded) + groth16.prove', async () => {
  await snarkjs.groth16.prove(paths.zkey, { type: 'mem', data: await calculate(run.inputs) })
})
slow.add('prove: snarkjs groth16.fullProve (baseline)', async () => {
  await snarkjs.groth16.fullProve(circuitInput, paths.wasm, paths.zkey)
})
slow.add('prove: groth16.prove only (witness precomputed)', async () => {
  await snarkjs.groth16.prove(paths.zkey, { type: 'mem', data: wtnsBytes })
})
pairs.push({
  group: 'prove',
  task: 'prove: witness (loaded) + groth16.prove',
  baseline: 'prove: snarkjs groth16.fullProve (baseline)',
})
benches.push(slow)

try {
  for (const [i, b] of benches.entries())
    await progress.step(`micro-benchmarks ${i + 1}/${benches.length}`, () => b.run())
} finally {
  await session.release()
  await shutdown()
}

const tasks = new Map<string, Task>(benches.flatMap((b) => b.tasks.map((t) => [t.name, t] as [string, Task])))
const stats = (name: string) => {
  const r = tasks.get(name)!.result
  if (r.state !== 'completed') throw new Error(`${name}: ${r.state}${'error' in r ? `: ${String(r.error)}` : ''}`)
  return r.latency
}
const ratioOf = new Map(pairs.map((p) => [p.task, stats(p.task).mean / stats(p.baseline).mean]))
const baselineOf = new Map(pairs.map((p) => [p.task, p.baseline]))
const lines = [
  `| MNIST MLP, ${model.manifest.constraintCount} constraints (node ${process.version}) | mean ms | p50 ms | samples | ±rme % | ratio vs baseline (mean) |`,
  '|---|---|---|---|---|---|',
]
for (const [name] of tasks) {
  const s = stats(name)
  const ratio = ratioOf.get(name)
  const cell =
    ratio === undefined
      ? name.includes('baseline')
        ? '1 (baseline)'
        : `${(s.mean / stats(pairs[2].baseline).mean).toFixed(2)} vs fullProve`
      : `${ratio.toFixed(2)} vs ${baselineOf.get(name)!.split(': ')[1].replace(' (baseline)', '')}`
  lines.push(
    `| ${name} | ${s.mean.toFixed(3)} | ${s.p50.toFixed(3)} | ${s.samplesCount} | ${s.rme.toFixed(1)} | ${cell} |`,
  )
}
const table = lines.join('\n')
console.log(`\n${table}`)
await writeFile(
  join(ROOT, 'bench', 'results', `micro-${new Date().toISOString().slice(0, 10)}.md`),
  `# veriml micro-benchmarks ${new Date().toISOString()}\n\n${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}; tinybench; prove rows: 5 iterations after 1 warm-up.\n\n${table}\n`,
)
