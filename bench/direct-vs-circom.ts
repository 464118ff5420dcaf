/**
 * The direct R1CS backend against circom on one model, in one run (issue 15): compile time and
 * peak memory of each, the witness time of each, and constraint / wire / non-zero-coefficient
 * counts; checks that both systems have the same counts and the same wire names (the full
 * constraint-by-constraint comparison is test/circuit/direct/equivalence.test.ts's).
 *
 * Direct: buildDirect (structure) + the .r1cs/.sym write, in this process: peak = this
 * process's maxRSS after it (measured first, so nothing else has raised it). circom: the
 * emitter's source + circom as WebAssembly in a child process: its peak is the child's VmHWM,
 * polled from /proc while it runs. Witness: buildDirect with inputs + the .wtns write, against
 * circom's wasm witness calculator through snarkjs.
 *
 *   node --import tsx bench/direct-vs-circom.ts [model.onnx calibration.json input.json] [--direct-only]
 *     (default: the bundled MNIST MLP, its calibration and sample input)
 *   node --import tsx bench/direct-vs-circom.ts mlp=512,1024,256,10:16 [--direct-only]
 *     (a sweep MLP, bench/sweep/models.ts, seed 16, compile's default calibration)
 * Writes bench/results/direct-vs-circom-<model>-<date>.json.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { buildDirect } from '../src/circuit/direct/build.js'
import { emitCircuit } from '../src/circuit/emit.js'
import { analyzeBounds } from '../src/ir/bounds.js'
import { lowerOnnx } from '../src/onnx/lower.js'
import { parseOnnx } from '../src/onnx/parse.js'
import { compileCircom } from '../src/prove/circom.js'
import { defaultCalibration } from '../src/prove/compile.js'
import { parseR1cs } from '../src/prove/r1cs.js'
import { writeSystemFiles, writeWitnessFile } from '../src/prove/r1cs-files.js'
import { witnessInput } from '../src/prove/witness-input.js'
import { parseInputs, quantizeInputs } from '../src/quantize/input.js'
import { quantize } from '../src/quantize/quantize.js'
import { shutdown } from '../src/shutdown.js'
import { writeJsonAtomic } from '../src/util/fs.js'
import { mlpModel } from './sweep/models.js'

const ROOT = join(import.meta.dirname, '..')
const args = process.argv.slice(2).filter((a) => a !== '--direct-only')
/** Past circom's reach (the 1.07M MLP): the direct backend alone. */
const directOnly = process.argv.includes('--direct-only')
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024)
const seconds = (ms: number) => Math.round(ms) / 1000

/** Peak VmHWM (MB) of this process's children while `fn` runs, polled every 50 ms. */
async function childPeak<T>(fn: () => Promise<T>): Promise<{ value: T; peakMb: number }> {
  let peak = 0
  const poll = () => {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8')
        if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== process.pid) continue
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
        peak = Math.max(peak, Math.round(kb / 1024))
      } catch {
        // The process ended between the listing and the read.
      }
    }
  }
  const timer = setInterval(poll, 50)
  try {
    return { value: await fn(), peakMb: peak }
  } finally {
    clearInterval(timer)
  }
}

/** The model, its IR and one quantised input: a sweep MLP (`mlp=512,1024,256,10:16`, default calibration) or files. */
function load() {
  const mlp = /^mlp=([\d,]+):(\d+)$/.exec(args[0] ?? '')
  if (mlp) {
    const m = mlpModel(mlp[1]!.split(',').map(Number), Number(mlp[2]))
    const graph = lowerOnnx(parseOnnx(m.onnx as Uint8Array))
    const ir = quantize(graph, defaultCalibration(graph.inputs))
    return { name: m.name, ir, x: quantizeInputs(ir.inputs, parseInputs(m.input, graph.inputs)[0]!) }
  }
  const [onnxPath, calibrationPath, inputPath] =
    args.length >= 3
      ? args
      : [
          join(ROOT, 'models', 'mnist-mlp.onnx'),
          join(ROOT, 'models', 'data', 'mnist-calibration.json'),
          join(ROOT, 'models', 'data', 'mnist-input.json'),
        ]
  const graph = lowerOnnx(parseOnnx(new Uint8Array(readFileSync(onnxPath!))))
  const samples = parseInputs(JSON.parse(readFileSync(calibrationPath!, 'utf8')), graph.inputs, { many: true })
  const ir = quantize(graph, samples)
  const input = parseInputs(JSON.parse(readFileSync(inputPath!, 'utf8')), graph.inputs)[0]!
  return { name: basename(onnxPath!, '.onnx'), ir, x: quantizeInputs(ir.inputs, input) }
}
const { name, ir, x } = load()
const bounds = analyzeBounds(ir)
const visibility = { input: 'public', output: 'public' } as const
const dir = await mkdtemp(join(tmpdir(), 'veriml-direct-vs-circom-'))

// Direct first, so this process's peak is the direct backend's.
const baseMb = peakMb()
let t = performance.now()
const { system } = buildDirect({ model: ir, bounds, visibility })
const directBuildMs = performance.now() - t
await writeSystemFiles({ system, r1csPath: join(dir, 'direct.r1cs'), symPath: join(dir, 'direct.sym') })
const directCompileMs = performance.now() - t
const directPeakMb = peakMb()
t = performance.now()
const { witness } = buildDirect({ model: ir, bounds, visibility, inputs: x })
await writeWitnessFile(join(dir, 'direct.wtns'), witness!)
const directWitnessMs = performance.now() - t

/** The circom path on the same model: emit, compile (child process), wasm witness; counts and names compared. */
async function circomPath() {
  let t = performance.now()
  const emitted = emitCircuit({ model: ir, bounds, visibility })
  await writeFile(join(dir, 'model.circom'), emitted.source)
  const emitMs = performance.now() - t
  const circom = await childPeak(() => compileCircom(dir))
  const compileMs = performance.now() - t
  t = performance.now()
  const out = { type: 'mem' as const, data: undefined as Uint8Array | undefined }
  await snarkjs.wtns.calculate(witnessInput(x), join(dir, 'model_js', 'model.wasm'), out)
  const witnessMs = performance.now() - t
  const r1cs = parseR1cs(readFileSync(join(dir, 'model.r1cs')))
  const terms = r1cs.constraints.reduce((n, abc) => n + abc.reduce((m, lc) => m + lc.length, 0), 0)
  // .sym lines are `label,wire,component,name`; an eliminated signal has wire −1, a kept wire its first name counts.
  const names = new Map<number, string>()
  for (const line of readFileSync(join(dir, 'model.sym'), 'utf8').split('\n')) {
    const [, wire, , n] = line.split(',')
    if (n && Number(wire) >= 0 && !names.has(Number(wire))) names.set(Number(wire), n)
  }
  const directNames = new Set(Array.from({ length: system.wireCount - 1 }, (_, w) => system.nameOf(w + 1)))
  const same =
    r1cs.nConstraints === system.constraintCount &&
    r1cs.nVars === system.wireCount &&
    terms === system.termCount &&
    names.size === directNames.size &&
    [...names.values()].every((n) => directNames.has(n))
  return {
    sameCountsAndNames: same,
    constraints: r1cs.nConstraints,
    wires: r1cs.nVars,
    nonZeroCoefficients: terms,
    emitS: seconds(emitMs),
    compileS: seconds(compileMs),
    compilerPeakRssMb: circom.peakMb,
    witnessS: seconds(witnessMs),
  }
}
const circom = directOnly ? null : await circomPath()
const result = {
  date: new Date().toISOString(),
  model: name,
  parameters: ir.steps.reduce((n, st) => n + (st.op.op === 'linear' ? st.op.vals.length + st.op.bias.length : 0), 0),
  constraints: system.constraintCount,
  wires: system.wireCount,
  nonZeroCoefficients: system.termCount,
  direct: {
    buildS: seconds(directBuildMs),
    compileS: seconds(directCompileMs),
    peakRssMb: directPeakMb,
    processBaseRssMb: baseMb,
    witnessS: seconds(directWitnessMs),
    r1csBytes: (await stat(join(dir, 'direct.r1cs'))).size,
  },
  circom,
}
console.log(JSON.stringify(result, null, 2))
if (circom && !circom.sameCountsAndNames) process.exitCode = 1
await writeJsonAtomic(
  join(ROOT, 'bench', 'results', `direct-vs-circom-${name}-${result.date.slice(0, 10)}.json`),
  result,
)
await shutdown()
