/**
 * The direct R1CS backend against circom (issue 15), same run, same models: for each model,
 * `veriml compile --compiler direct` in a child process, then `--compiler circom` in another
 * (circom2 itself a child of that one), each with its time, peak memory, one witness, and the
 * counts of its R1CS (constraints, wires, non-zero coefficients); where both ran, the two
 * systems must have the same counts and circom's wire names (the constraint-by-constraint
 * check is test/circuit/direct/equivalence.test.ts's). Models past circom's 4 GiB
 * (bench/compile/models.ts PAST_CIRCOM_LIMIT: measured or judged, never re-proven here) are
 * compiled, set up (dev), proven and verified through the direct build alone.
 *
 *   npm run bench:compile                      # every model (long: circom on the 790k MLP takes minutes)
 *   npm run bench:compile -- --quick           # the sweep's quick models (small MLPs and CNNs, MNIST MLP)
 *   npm run bench:compile -- --only=mnist-mlp,lenet5-avgpool
 *   npm run bench:compile -- --direct-only     # no circom column
 *   npm run bench:compile -- --circom-timeout=900   # seconds before a circom compile is stopped (default 1200)
 *   npm run bench:compile -- --report-only     # rewrites the .md from the .json
 *
 * Writes bench/results/compile-<date>.json and .md (`--quick`: compile-<date>-quick.*), merging
 * rows by model into an existing file of that name, so a run split with --only adds up.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { writeJsonAtomic } from '../src/util/fs.js'
import { packageVersion } from '../src/util/versions.js'
import { type CompileBenchModel, compileBenchModels } from './compile/models.js'
import { type BackendOutcome, type CompileRow, compileTable, ran, type SameSystem } from './compile/report.js'
import { BENCH_VISIBILITY, type RunOneParameters } from './compile/types.js'

const ROOT = join(import.meta.dirname, '..')
const argv = process.argv.slice(2)
const flag = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const quick = argv.includes('--quick')
const directOnly = argv.includes('--direct-only')
const only = flag('only')?.split(',')
/** Rewrites the .md from the .json (after a change to the table), measuring nothing. */
const reportOnly = argv.includes('--report-only')
const circomTimeoutS = Number(flag('circom-timeout') ?? 1200)
/** The direct backend has no known limit to stop at; a run this long is a hang. */
const DIRECT_TIMEOUT_S = 3600

const all = await compileBenchModels()
const models = reportOnly ? [] : all.filter((m) => (only ? only.includes(m.name) : !quick || m.quick))
if (only && models.length !== only.length) {
  console.error(`--only: unknown model(s); the models are ${all.map((m) => m.name).join(', ')}`)
  process.exit(2)
}

/** Runs bench/compile/run-one.ts in its own process group (stopped whole on timeout). */
async function runChild(p: RunOneParameters, timeoutS: number): Promise<BackendOutcome> {
  await rm(p.resultPath, { force: true })
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'bench', 'compile', 'run-one.ts'), JSON.stringify(p)],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], detached: true },
  )
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    // The group: the child and the circom2 process it started.
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
  }, timeoutS * 1000)
  await new Promise((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  if (timedOut) return { error: `stopped after ${timeoutS} s (--${p.backend}-timeout)` }
  if (!existsSync(p.resultPath)) return { error: 'the child wrote no result (killed, or out of memory?)' }
  return JSON.parse(await readFile(p.resultPath, 'utf8')) as BackendOutcome
}

/** Wire → its names, from a `.sym` file (`label,wire,component,name`; wire −1 = eliminated). */
async function wireNames(path: string): Promise<Map<number, string[]>> {
  const names = new Map<number, string[]>()
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const [, wire, , name] = line.split(',')
    if (!name || Number(wire) < 0) continue
    const list = names.get(Number(wire))
    if (list) list.push(name)
    else names.set(Number(wire), [name])
  }
  return names
}

/**
 * Where both ran: equal counts, and each wire's first name in circom's .sym names a wire of
 * the direct .sym — the same wire ('same') or another ('permuted': the same system up to the
 * wire order, as the equivalence tests map witnesses through names).
 */
async function sameSystem(dir: string, d: BackendOutcome, c: BackendOutcome): Promise<SameSystem | undefined> {
  if (!ran(d) || !ran(c)) return undefined
  if (d.constraints !== c.constraints || d.wires !== c.wires || d.nonZeroCoefficients !== c.nonZeroCoefficients)
    return 'different'
  const direct = await wireNames(join(dir, 'direct', 'circuit', 'model.sym'))
  const circom = await wireNames(join(dir, 'circom', 'circuit', 'model.sym'))
  const wireOf = new Map<string, number>()
  for (const [w, names] of direct) for (const name of names) wireOf.set(name, w)
  if (circom.size !== direct.size) return 'different'
  let permuted = false
  for (const [w, [first]] of circom) {
    const dw = wireOf.get(first!)
    if (dw === undefined) return 'different'
    if (dw !== w) permuted = true
  }
  return permuted ? 'permuted' : 'same'
}

async function measure(m: CompileBenchModel): Promise<CompileRow> {
  const started = performance.now()
  const dir = join(ROOT, 'build', 'bench', 'compile', m.name)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const onnxPath = typeof m.onnx === 'string' ? m.onnx : join(dir, 'source.onnx')
  if (typeof m.onnx !== 'string') await writeFile(onnxPath, m.onnx)
  const inputPath = join(dir, 'input.json')
  await writeFile(inputPath, JSON.stringify(m.input))
  const common = { onnxPath, calibrationPath: m.calibrationPath, inputPath }
  console.error(`[${m.name}] direct${m.prove ? ' + dev setup + prove' : ''}`)
  const direct = await runChild(
    { ...common, backend: 'direct', outDir: join(dir, 'direct'), resultPath: join(dir, 'direct.json'), prove: m.prove },
    DIRECT_TIMEOUT_S,
  )
  let circom: BackendOutcome
  if (directOnly) circom = { notRun: '--direct-only' }
  else if (m.pastCircomLimit) circom = { notRun: `past the limit (${m.pastCircomLimit})` }
  else {
    console.error(`[${m.name}] circom`)
    circom = await runChild(
      { ...common, backend: 'circom', outDir: join(dir, 'circom'), resultPath: join(dir, 'circom.json'), prove: false },
      circomTimeoutS,
    )
  }
  const row: CompileRow = {
    name: m.name,
    shape: m.shape,
    parameters: m.parameters,
    direct,
    circom,
    rowS: Math.round(performance.now() - started) / 1000,
  }
  const same = await sameSystem(dir, direct, circom)
  if (same !== undefined) row.sameSystem = same
  console.error(`[${m.name}] ${JSON.stringify(row)}`)
  return row
}

const stem = `compile-${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}`
const jsonPath = join(ROOT, 'bench', 'results', `${stem}.json`)
type Result = {
  date: string
  machine: { cpus: number; cpuModel: string; memoryBytes: number }
  versions: Record<string, string>
  visibility: typeof BENCH_VISIBILITY
  /** Wall time of each run that wrote rows into this file. */
  runs: { date: string; models: string[]; runS: number }[]
  rows: CompileRow[]
}
const previous: Result | null = existsSync(jsonPath) ? (JSON.parse(await readFile(jsonPath, 'utf8')) as Result) : null
const runStarted = performance.now()
const runDate = new Date().toISOString()
const rows: CompileRow[] = []

/** Written after every model, so a long run stopped halfway keeps what it measured. */
async function write(): Promise<void> {
  const names = new Set(rows.map((r) => r.name))
  const cpu = cpus()
  const result: Result = {
    date: runDate,
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryBytes: totalmem() },
    versions: { node: process.version, snarkjs: packageVersion('snarkjs'), circom2: packageVersion('circom2') },
    visibility: BENCH_VISIBILITY,
    runs: [
      ...(previous?.runs ?? []),
      ...(rows.length > 0
        ? [{ date: runDate, models: [...names], runS: Math.round(performance.now() - runStarted) / 1000 }]
        : []),
    ],
    rows: [...(previous?.rows ?? []).filter((r) => !names.has(r.name)), ...rows].sort(
      (a, b) => a.parameters - b.parameters,
    ),
  }
  await writeJsonAtomic(jsonPath, result)
  const md = [
    `# Compile: the direct backend against circom (${result.date.slice(0, 10)})`,
    '',
    `Machine: ${result.machine.cpus} × ${result.machine.cpuModel}, ${(result.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB (shared with other work: timings are noisy); node ${result.versions.node}, snarkjs ${result.versions.snarkjs}, circom2 ${result.versions.circom2}. Input and output public; weights constants; default calibration except MNIST (its own samples).`,
    '',
    compileTable(result.rows),
    '',
    "- direct compile s: the R1CS and .sym written by the direct backend / the whole `veriml compile --compiler direct` (ONNX import, quantisation, the circom source emitted anyway, the onnxruntime yardstick, the R1CS). Peak MB: that compile process's peak RSS (node and the modules included).",
    "- circom compile s: circom2 (WebAssembly, O1) + wat2wasm of its witness generator / the whole `veriml compile --compiler circom`. Peak MB: the circom2 process's VmHWM (polled every 50 ms).",
    '- witness s: loading the witness generator and computing one witness, as `veriml prove` does (direct: from the IR in TypeScript; circom: its wasm).',
    "- dev setup and prove: through the direct build (`setup --dev`, `prove`, then `verify`), for the models past circom's limit.",
    '- "not run: past the limit": circom was not started on these; the reason says whether it was measured (issue 15) or judged from a measured model.',
    '- same system: equal constraint, wire and non-zero-coefficient counts, and every wire\'s name in circom\'s .sym names the same wire in the direct one ("yes"), or a wire of it ("yes, wires permuted": the same names and counts, other wire numbers).',
    '',
    ...result.runs.map(
      (r) => `Run ${r.date}: ${r.models.length} model(s) in ${r.runS.toFixed(0)} s (${r.models.join(', ')}).`,
    ),
    '',
  ].join('\n')
  await writeFile(join(ROOT, 'bench', 'results', `${stem}.md`), md)
}

for (const m of models) {
  rows.push(await measure(m))
  await write()
}
if (reportOnly) await write()
console.log(compileTable(rows))
console.error(`${rows.length} model(s) in ${((performance.now() - runStarted) / 1000).toFixed(0)} s`)
if (rows.some((r) => r.sameSystem === 'different')) process.exitCode = 1
