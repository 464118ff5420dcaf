/**
 * Time of each stage of `veriml compile --target optimistic` on one model, to find what is slow
 * on large models: parse, lowering, quantisation, bounds, the IR's JSON and its hash (the model
 * id), the onnxruntime yardstick (float runs and the integer executor on the same samples).
 *
 *   node --import tsx bench/compile-stages.ts model.onnx [--samples N]   (compile's yardstick: 32)
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { analyzeBounds } from '../src/ir/bounds.js'
import { execute } from '../src/ir/execute.js'
import { irToJson, modelId } from '../src/ir/serialize.js'
import { lowerOnnx } from '../src/onnx/lower.js'
import { parseOnnx } from '../src/onnx/parse.js'
import { runOnnxruntime } from '../src/onnx/runtime.js'
import { quantizeInputs } from '../src/quantize/input.js'
import { quantize } from '../src/quantize/quantize.js'

/** compile's default calibration (src/prove/compile.ts), inlined so this file also runs on older commits. */
function defaultCalibration(specs: { shape: number[] }[]): Float64Array[][] {
  let s = 0x9e3779b9
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return Array.from({ length: 32 }, () =>
    specs.map((x) => Float64Array.from({ length: x.shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1)),
  )
}

const path = process.argv[2]
const at = process.argv.indexOf('--samples')
const yardstickSamples = at > 0 ? Number(process.argv[at + 1]) : 4
const timings: Record<string, number> = {}
const cpu: Record<string, number> = {}
/** Wall and CPU time (user + system, all threads) of one stage: on a shared machine CPU time is the fairer comparison. */
async function stage<T>(name: string, f: () => T | Promise<T>): Promise<T> {
  const t = performance.now()
  const c = process.cpuUsage()
  const out = await f()
  const used = process.cpuUsage(c)
  timings[name] = Math.round(performance.now() - t)
  cpu[name] = Math.round((used.user + used.system) / 1000)
  console.log(
    `${name.padEnd(28)} ${String(timings[name]).padStart(8)} ms wall ${String(cpu[name]).padStart(8)} ms cpu   rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`,
  )
  return out
}

const bytes = await stage('read', async () => new Uint8Array(await readFile(path)))
const onnx = await stage('parse', () => parseOnnx(bytes, basename(path)))
const graph = await stage('lower', () => lowerOnnx(onnx))
const samples = defaultCalibration(graph.inputs)
const ir = await stage('quantize', () => quantize(graph, samples, { activationBits: 8, weightBits: 8 }))
await stage('bounds', () => analyzeBounds(ir))
const json = await stage('irToJson', () => irToJson(ir))
await stage('modelId (irToJson + sha256)', () => modelId(ir))
const yard = samples.slice(0, yardstickSamples)
await stage(`onnxruntime (${yard.length} samples)`, () => runOnnxruntime(bytes, onnx.inputs, yard))
await stage(`execute (${yard.length} samples)`, () => yard.map((s) => execute(ir, quantizeInputs(ir.inputs, s))))
console.log(JSON.stringify({ model: basename(path), irJsonBytes: json.length, timings, cpu }))
