/**
 * One model through one backend, in a process of its own so that its peak memory is its own
 * (bench/direct-vs-circom.ts starts one per model and backend): `veriml compile` with
 * `--compiler direct` or `circom`, the counts of the written R1CS, one witness, and with
 * `prove` a dev setup, a proof and its verification through that build.
 *
 *   node --import tsx bench/compile/run-one.ts '<RunOneParameters as JSON>'
 *
 * Writes its RunOneResult (or `{ error }`) as JSON to `resultPath`.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { compileModel } from '../../src/prove/compile.js'
import { runModel, proveModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { shutdown } from '../../src/shutdown.js'
import { writeJsonAtomic } from '../../src/util/fs.js'
import type { Progress } from '../../src/util/progress.js'
import { childPeakMb } from './child-peak.js'
import { r1csCounts } from './r1cs-counts.js'
import { BENCH_VISIBILITY, type RunOneParameters, type RunOneResult } from './types.js'

const maxRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)
const seconds = (ms: number) => Math.round(ms) / 1000

async function runOne(p: RunOneParameters): Promise<RunOneResult> {
  const baseRssMb = maxRssMb()
  const input = JSON.parse(await readFile(p.inputPath, 'utf8')) as unknown
  // compile's own progress steps, timed: the backend and the float yardstick; the rest is import, quantise, emit, writes.
  const compileStagesS: Record<string, number> = {}
  const progress: Progress = {
    async step(label, run) {
      const started = performance.now()
      try {
        return await run()
      } finally {
        compileStagesS[label.replace(/ \(.*$/, '')] = seconds(performance.now() - started)
      }
    },
    info: () => {},
  }
  let t = performance.now()
  const { value: compiled, peakMb: compilerChildPeakMb } = await childPeakMb(() =>
    compileModel({
      onnxPath: p.onnxPath,
      outDir: p.outDir,
      calibrationPath: p.calibrationPath,
      visibility: BENCH_VISIBILITY,
      compiler: p.backend,
      force: true,
      progress,
    }),
  )
  const wholeCompileS = seconds(performance.now() - t)
  const compileProcessPeakMb = maxRssMb()
  const { model } = compiled
  const counts = await r1csCounts(model.paths.r1cs)
  const weightTerms = model.ir.steps.reduce((n, s) => n + (s.op.op === 'linear' ? s.op.vals.length : 0), 0)
  const run = await runModel({ model, input })
  t = performance.now()
  const calculate = await model.witness()
  await calculate(run.inputs)
  const witnessS = seconds(performance.now() - t)
  const result: RunOneResult = {
    backend: p.backend,
    weightTerms,
    ...counts,
    backendCompileS: seconds(compiled.manifest.timings.compileMs),
    wholeCompileS,
    compileStagesS,
    baseRssMb,
    compileProcessPeakMb,
    compilerChildPeakMb,
    witnessS,
    finalPeakMb: 0,
  }
  if (p.prove) {
    t = performance.now()
    const setup = await setupModel({ model, dev: true, force: true })
    result.setupS = seconds(performance.now() - t)
    const proofDir = join(p.outDir, 'proof')
    const proved = await proveModel({ model: setup.model, input, outDir: proofDir })
    result.proveS = seconds(proved.proveMs)
    result.verified = (await verifyProof({ model: setup.model, proofDir })).valid
  }
  result.finalPeakMb = maxRssMb()
  return result
}

const p = JSON.parse(process.argv[2] ?? '{}') as RunOneParameters
try {
  await writeJsonAtomic(p.resultPath, await runOne(p))
} catch (e) {
  const message = e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message) : String(e)
  // A tool's stderr tail and argv (ToolError's details) say why circom failed; the table shows the message only.
  const details = (e as { details?: unknown }).details
  await writeJsonAtomic(p.resultPath, { error: message, ...(Array.isArray(details) ? { details } : {}) })
  process.exitCode = 1
} finally {
  await shutdown()
}
