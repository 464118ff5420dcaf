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
 *   node --import tsx bench/direct-vs-circom.ts [model.onnx calibration.json input.json]
 *     (default: the bundled MNIST MLP, its calibration and sample input)
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
import { parseR1cs } from '../src/prove/r1cs.js'
import { writeSystemFiles, writeWitnessFile } from '../src/prove/r1cs-files.js'
import { witnessInput } from '../src/prove/witness-input.js'
import { parseInputs, quantizeInputs } from '../src/quantize/input.js'
import { quantize } from '../src/quantize/quantize.js'
import { shutdown } from '../src/shutdown.js'
import { writeJsonAtomic } from '../src/util/fs.js'

const ROOT = join(import.meta.dirname, '..')
const [onnxPath, calibrationPath, inputPath] =
  process.argv.length > 4
    ? process.argv.slice(2, 5)
    : [
        join(ROOT, 'models', 'mnist-mlp.onnx'),
        join(ROOT, 'models', 'data', 'mnist-calibration.json'),
        join(ROOT, 'models', 'data', 'mnist-input.json'),
      ]
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

const graph = lowerOnnx(parseOnnx(new Uint8Array(readFileSync(onnxPath))))
const samples = parseInputs(JSON.parse(readFileSync(calibrationPath, 'utf8')), graph.inputs, { many: true })
const ir = quantize(graph, samples)
const bounds = analyzeBounds(ir)
const x = quantizeInputs(ir.inputs, parseInputs(JSON.parse(readFileSync(inputPath, 'utf8')), graph.inputs)[0]!)
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

t = performance.now()
const emitted = emitCircuit({ model: ir, bounds, visibility })
await writeFile(join(dir, 'model.circom'), emitted.source)
const emitMs = performance.now() - t
const circom = await childPeak(() => compileCircom(dir))
const circomCompileMs = performance.now() - t
t = performance.now()
const out = { type: 'mem' as const, data: undefined as Uint8Array | undefined }
await snarkjs.wtns.calculate(witnessInput(x), join(dir, 'model_js', 'model.wasm'), out)
const circomWitnessMs = performance.now() - t

const circomR1cs = parseR1cs(readFileSync(join(dir, 'model.r1cs')))
const circomTerms = circomR1cs.constraints.reduce((n, abc) => n + abc.reduce((m, lc) => m + lc.length, 0), 0)
// .sym lines are `label,wire,component,name`; an eliminated signal has wire −1, a kept wire its first name counts.
const circomNames = new Map<number, string>()
for (const line of readFileSync(join(dir, 'model.sym'), 'utf8').split('\n')) {
  const [, wire, , name] = line.split(',')
  if (name && Number(wire) >= 0 && !circomNames.has(Number(wire))) circomNames.set(Number(wire), name)
}
const directNames = new Set(Array.from({ length: system.wireCount - 1 }, (_, w) => system.nameOf(w + 1)))
const same =
  circomR1cs.nConstraints === system.constraintCount &&
  circomR1cs.nVars === system.wireCount &&
  circomTerms === system.termCount &&
  circomNames.size === directNames.size &&
  [...circomNames.values()].every((n) => directNames.has(n))
const result = {
  date: new Date().toISOString(),
  model: basename(onnxPath),
  sameCountsAndNames: same,
  constraints: system.constraintCount,
  wires: system.wireCount,
  nonZeroCoefficients: system.termCount,
  circom: {
    constraints: circomR1cs.nConstraints,
    wires: circomR1cs.nVars,
    nonZeroCoefficients: circomTerms,
  },
  direct: {
    buildS: seconds(directBuildMs),
    compileS: seconds(directCompileMs),
    peakRssMb: directPeakMb,
    processBaseRssMb: baseMb,
    witnessS: seconds(directWitnessMs),
    r1csBytes: (await stat(join(dir, 'direct.r1cs'))).size,
  },
  circomPath: {
    emitS: seconds(emitMs),
    compileS: seconds(circomCompileMs),
    compilerPeakRssMb: circom.peakMb,
    witnessS: seconds(circomWitnessMs),
  },
}
console.log(JSON.stringify(result, null, 2))
if (!same) process.exitCode = 1
await writeJsonAtomic(
  join(ROOT, 'bench', 'results', `direct-vs-circom-${basename(onnxPath, '.onnx')}-${result.date.slice(0, 10)}.json`),
  result,
)
await shutdown()
