/**
 * Proof cost versus model size: seeded MLPs and CNNs of growing size plus the bundled MNIST
 * MLP, each through the zk path (constraints, compile with the direct backend — and circom
 * on the same source, timed, where it can still compile it — dev setup, witness, prove,
 * verify, peak memory, proof size, on-chain verify gas) and the optimistic path (claim gas, one
 * whole dispute against a cheating claim: rounds and gas), on one local anvil node.
 *
 *   npm run bench              # full sweep (up to ~1M parameters; long)
 *   npm run bench -- --quick   # ~1k, ~10k, ~50k-parameter MLPs, two small CNNs, MNIST
 *   npm run bench -- --only=cnn-16x16-c8-16,mnist-mlp   # those models of the full sweep; prints the table, writes nothing
 *   npm run bench -- --only=NAMES --add-to=bench/results/<date>.json   # re-measures those rows into an earlier result
 *   npm run bench -- --scale   # also the models past the zk limit (bench/optimistic-scale.ts's), optimistic columns only
 *
 * Writes bench/results/<date>.json, <date>.md and <date>-*.svg; prints the markdown table.
 * Each model whose private-weights circuit stays under ~2^17 constraints is also measured
 * with `--weights hashed` (private, Poseidon-committed weights): the in-run baseline, with
 * constraint and prove-time ratios against veriml's default weights-as-constants.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { basename, join } from 'node:path'
import { Wallet } from 'ethers'
import { startAnvil } from '../src/chain/anvil.js'
import { deployOptimistic } from '../src/optimistic/chain/contracts.js'
import { shutdown } from '../src/shutdown.js'
import { writeJsonAtomic } from '../src/util/fs.js'
import { terminalProgress } from '../src/util/progress.js'
import { packageVersion, VERIML_VERSION } from '../src/util/versions.js'
import { type ChainContext, compileOptimisticOnly, measureOptimistic, measureZk, VISIBILITY } from './sweep/measure.js'
import { scaleSweepModels, type SweepModel, sweepModels } from './sweep/models.js'
import { HASHED_CONSTRAINT_LIMIT, measureHashedBaseline } from './sweep/baseline.js'
import { disputeNotes, markdownTable, plots, type SweepRow } from './sweep/report.js'

const ROOT = join(import.meta.dirname, '..')
const quick = process.argv.includes('--quick')
const scale = process.argv.includes('--scale')
const only = process.argv
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
const addTo = process.argv.find((a) => a.startsWith('--add-to='))?.slice('--add-to='.length)
if (addTo && !only) {
  console.error('--add-to needs --only=NAMES: the rows to measure again')
  process.exit(2)
}
const progress = terminalProgress(process.stderr)
const message = (e: unknown) =>
  e instanceof Error ? ((e as { shortMessage?: string }).shortMessage ?? e.message) : String(e)

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
  } catch {
    return 'unknown'
  }
}

const started = performance.now()
const withScale = async (list: SweepModel[]) => (scale ? [...list, ...scaleSweepModels()] : list)
const models = (await withScale(await sweepModels(quick && !only))).filter((m) => !only || only.includes(m.name))
if (only && models.length !== only.length) {
  const known = (await withScale(await sweepModels(false))).map((m) => m.name)
  console.error(
    `--only: unknown model(s) ${only.filter((n) => !known.includes(n)).join(', ')}; the sweep's models are ${known.join(', ')}`,
  )
  process.exit(2)
}
const anvil = await startAnvil({ accounts: 4 })
const rows: SweepRow[] = []
try {
  const wallets = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
  const game = await deployOptimistic(wallets[0])
  const chain: ChainContext = { anvil, wallets, gameAddress: game.gameAddress, executorAddress: game.executorAddress }
  // The hashed-weights build has the same model id (the IR's hash) but another circuit, and a
  // registry binds an id to one verifier for good: the baseline registers in a registry of its own.
  const baselineChain: ChainContext = { ...chain, registryAddress: undefined }
  for (const [i, m] of models.entries()) {
    progress.info(`[${i + 1}/${models.length}] ${m.name} (${m.parameters.toLocaleString('en-US')} parameters)`)
    const dir = join(ROOT, 'build', 'bench', 'sweep', m.name)
    const row: SweepRow = {
      name: m.name,
      family: m.family,
      shape: m.shape,
      parameters: m.parameters,
      zk: { error: 'not run' },
      optimistic: { skipped: 'zk compile failed' },
      privateWeightsBaseline: { skipped: 'zk compile failed' },
    }
    if (m.optimisticOnly) {
      row.zk = { error: 'past the zk limit: not attempted' }
      row.privateWeightsBaseline = { skipped: 'past the zk limit' }
      try {
        await compileOptimisticOnly(m, dir, progress)
        row.optimistic = await measureOptimistic(m, dir, chain, progress)
      } catch (e) {
        row.optimistic = { error: message(e) }
      }
      rows.push(row)
      continue
    }
    try {
      row.zk = await measureZk(m, dir, chain, progress, 'constant', { circomCompare: true })
    } catch (e) {
      row.zk = { error: message(e) }
    }
    // The optimistic path reads the compiled folder's integer IR, so it needs at least a compile.
    if (!('error' in row.zk)) {
      try {
        row.optimistic = await measureOptimistic(m, dir, chain, progress)
      } catch (e) {
        row.optimistic = { error: message(e) }
      }
      try {
        row.privateWeightsBaseline = await measureHashedBaseline(m, dir, baselineChain, progress)
      } catch (e) {
        row.privateWeightsBaseline = { error: message(e) }
      }
    }
    rows.push(row)
  }
} finally {
  await anvil.stop()
  await shutdown()
}

if (only && !addTo) {
  console.log(markdownTable(rows))
  process.exit(0)
}
const out = join(ROOT, 'bench', 'results')
await mkdir(out, { recursive: true })
const cpu = cpus()
const run = {
  date: new Date().toISOString(),
  // Earlier results in bench/results (amended with --add-to) do not make the tree dirty.
  git: {
    commit: git(['rev-parse', 'HEAD']),
    dirty: git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results']) !== '',
  },
  sweepMs: Math.round(performance.now() - started),
}
type Result = typeof run & {
  mode: string
  machine: { cpus: number; cpuModel: string; memoryBytes: number }
  versions: Record<string, string>
  settings: Record<string, unknown>
  rows: SweepRow[]
  /** Rows measured again later (`--add-to`), by which commit. */
  amendments?: (typeof run & { rows: string[] })[]
}
let result: Result
let stem: string
if (addTo) {
  result = JSON.parse(await readFile(addTo, 'utf8')) as Result
  stem = basename(addTo, '.json')
  result.rows = [...result.rows.filter((r) => !only!.includes(r.name)), ...rows].sort(
    (a, b) => a.parameters - b.parameters,
  )
  result.amendments = [...(result.amendments ?? []), { ...run, rows: rows.map((r) => r.name) }]
} else {
  stem = run.date.slice(0, 10)
  result = {
    ...run,
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryBytes: totalmem() },
    versions: {
      node: process.version,
      snarkjs: packageVersion('snarkjs'),
      circom2: packageVersion('circom2'),
      veriml: VERIML_VERSION,
    },
    settings: {
      visibility: VISIBILITY,
      setup: 'dev (insecure, local keys)',
      compiler:
        "direct (compile's R1CS written from the IR), circom where the direct backend refuses a model; circom also compiles the same source for the circom compile s column, up to 2^20 weight terms and not past its known limit",
      proofRuns: 1,
      optimistic:
        'honest claim for claim gas; a cheating claim (one element +50 in the earliest state that changes the output, later steps recomputed) disputed by an honest challenger',
      privateWeights: `baseline: the same model with --weights hashed (private weights, one Poseidon commitment as an extra public signal), same visibility, setup and input; skipped above ~${HASHED_CONSTRAINT_LIMIT} estimated constraints`,
    },
    rows,
  }
}
await writeJsonAtomic(join(out, `${stem}.json`), result)
const table = markdownTable(result.rows)
const md = [
  `# veriml sweep ${result.date} (${result.mode})`,
  '',
  `Machine: ${result.machine.cpus} × ${result.machine.cpuModel}, ${(result.machine.memoryBytes / 2 ** 30).toFixed(1)} GiB; node ${result.versions.node}, snarkjs ${result.versions.snarkjs}, circom2 ${result.versions.circom2}; commit ${result.git.commit}${result.git.dirty ? ' (dirty tree)' : ''}.`,
  ...(result.amendments ?? []).map(
    (a) =>
      `Measured again on ${a.date} by commit ${a.git.commit}${a.git.dirty ? ' (dirty tree)' : ''} (${(a.sweepMs / 1000).toFixed(0)} s): ${a.rows.join(', ')}.`,
  ),
  `Input Poseidon-hashed, output public; dev setup; one proof per model; peak RSS = this process + its children, sampled every 50 ms.`,
  `Compiled with the direct backend (\`compiler: 'direct'\`; "circom (direct: …)" where it refused the model); "circom compile s" = circom2 on the same circuit source in the same run ("—": not run, past ~2^20 weight terms or its known 4 GiB limit).`,
  `Baseline: the same model with private, Poseidon-committed weights (\`--weights hashed\`: every weight a private input, one multiplication constraint a weight, B-bit range checks, one Poseidon commitment as an extra public signal); ratios are hashed / constant. Skipped where the calibrated estimate (bench/sweep/baseline.ts) exceeds 2^17 = ${HASHED_CONSTRAINT_LIMIT.toLocaleString('en-US')} constraints.`,
  '',
  table,
  '',
  disputeNotes(result.rows),
  '',
  `Plots: ${stem}-constraints-vs-params.svg, ${stem}-prove-time-vs-params.svg, ${stem}-gas-zk-vs-optimistic.svg. Sweep took ${(result.sweepMs / 1000).toFixed(0)} s.`,
  '',
].join('\n')
await writeFile(join(out, `${stem}.md`), md)
for (const [file, svg] of Object.entries(plots(result.rows))) await writeFile(join(out, `${stem}-${file}`), svg)
console.log(table)
