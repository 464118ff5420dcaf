/**
 * The direct R1CS backend's foundation at scale (issue 15): a linear system of OUTPUTS outputs,
 * each the weighted sum of INPUTS private inputs with small non-zero integer weights (what a
 * dense layer with constant weights is), OUTPUTS × (INPUTS + 1) terms. Measures the build, the
 * streamed .r1cs/.sym write, witness fill, checkWitness and the .wtns write: time, RSS and
 * file sizes; then veriml's dev setup, snarkjs's prover on the .wtns and its verifier, and
 * snarkjs's r1cs.info reading the file back. Peak RSS is the process's maxRSS, taken after
 * each stage (the later stages read the r1cs as one object per term: their memory is theirs).
 * Writes bench/results/r1cs-direct-<date>.json.
 *
 *   node --import tsx bench/r1cs-direct.ts [outputs] [inputs]      # default 1000 5000: 5.0M terms
 */
import { mkdir, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { ConstraintSystem, type Wire } from '../src/circuit/r1cs/system.js'
import { checkWitness, fillWitness } from '../src/circuit/r1cs/witness.js'
import { devSetup } from '../src/prove/dev-setup.js'
import { writeSystemFiles, writeWitnessFile } from '../src/prove/r1cs-files.js'
import { shutdown } from '../src/shutdown.js'
import { writeJsonAtomic } from '../src/util/fs.js'

const OUTPUTS = Number(process.argv[2] ?? 1000)
const INPUTS = Number(process.argv[3] ?? 5000)
const ROOT = join(import.meta.dirname, '..')
const dir = join(tmpdir(), `veriml-r1cs-direct-${OUTPUTS}x${INPUTS}`)
await mkdir(dir, { recursive: true })

const mb = (bytes: number) => Math.round(bytes / 2 ** 20)
const rssMb = () => mb(process.memoryUsage().rss)
/** maxRSS is in KiB. */
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024)
/** A deterministic weight in ±[1, 127] (zero weights are no terms). */
const weight = (j: number, i: number) => {
  const h = (Math.imul(j + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0
  const m = (h % 127) + 1
  return BigInt(h & 0x80000000 ? -m : m)
}

async function timed<T>(label: string, fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now()
  const value = await fn()
  const ms = performance.now() - started
  console.log(`${label}: ${(ms / 1000).toFixed(2)} s, RSS ${rssMb()} MB, peak ${peakMb()} MB`)
  return { value, ms }
}

const baseRss = rssMb()
const build = await timed('build', () => {
  const s = new ConstraintSystem()
  const out = s.signals('output', 'main.y', OUTPUTS)
  const x = s.signals('privateInput', 'main.x', INPUTS)
  for (let j = 0; j < OUTPUTS; j++) {
    const lc: [Wire, bigint][] = new Array(INPUTS + 1)
    for (let i = 0; i < INPUTS; i++) lc[i] = [x[i]!, weight(j, i)]
    lc[INPUTS] = [out[j]!, -1n]
    s.linear(lc)
  }
  return s
})
const system = build.value
const buildPeak = peakMb()
const r1csPath = join(dir, 'c.r1cs')
const write = await timed('write .r1cs + .sym', () =>
  writeSystemFiles({ system, r1csPath, symPath: join(dir, 'c.sym') }),
)
const writePeak = peakMb()

const fill = await timed('witness fill', () => {
  const values = new Map<Wire, bigint>()
  const xs = Array.from({ length: INPUTS }, (_, i) => BigInt((i % 255) - 127))
  for (let i = 0; i < INPUTS; i++) values.set(OUTPUTS + 1 + i, xs[i]!)
  for (let j = 0; j < OUTPUTS; j++) {
    let acc = 0n
    for (let i = 0; i < INPUTS; i++) acc += weight(j, i) * xs[i]!
    values.set(1 + j, acc)
  }
  return fillWitness(system, values)
})
const check = await timed('checkWitness', () => checkWitness(system, fill.value))
if (check.value !== null) throw new Error(`bench witness violates constraint ${check.value.index}`)
const wtnsPath = join(dir, 'c.wtns')
const wtns = await timed('write .wtns', () => writeWitnessFile(wtnsPath, fill.value))
const peakBeforeSnarkjs = peakMb()
const zkeyPath = join(dir, 'c.zkey')
const setup = await timed('dev setup', () => devSetup({ r1csPath, zkeyPath }))
const setupPeak = peakMb()
const prove = await timed('snarkjs groth16.prove from the .wtns', () => snarkjs.groth16.prove(zkeyPath, wtnsPath))
const provePeak = peakMb()
const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath)
const verified = await snarkjs.groth16.verify(vkey, prove.value.publicSignals, prove.value.proof)
if (!verified) throw new Error('bench proof does not verify')
// r1cs.info loads every constraint as JS objects (r1csfile's readR1cs): its memory is snarkjs's, reported apart.
const info = await timed('snarkjs r1cs.info', async () => {
  const { nVars, nOutputs, nPubInputs, nPrvInputs, nConstraints } = await snarkjs.r1cs.info(r1csPath)
  return { nVars, nOutputs, nPubInputs, nPrvInputs, nConstraints }
})

const result = {
  date: new Date().toISOString(),
  outputs: OUTPUTS,
  inputs: INPUTS,
  constraintCount: system.constraintCount,
  wireCount: system.wireCount,
  termCount: system.termCount,
  largeCoefficients: system.coefficients.tableSize,
  buildMs: Math.round(build.ms),
  buildPeakRssMb: buildPeak,
  baseRssMb: baseRss,
  writeMs: Math.round(write.ms),
  writePeakRssMb: writePeak,
  r1csBytes: (await stat(r1csPath)).size,
  symBytes: write.value.symBytes,
  witnessFillMs: Math.round(fill.ms),
  checkWitnessMs: Math.round(check.ms),
  wtnsWriteMs: Math.round(wtns.ms),
  wtnsBytes: wtns.value,
  snarkjsInfoMs: Math.round(info.ms),
  snarkjsInfo: info.value,
  peakRssBeforeSnarkjsMb: peakBeforeSnarkjs,
  devSetupMs: Math.round(setup.ms),
  devSetupPeakRssMb: setupPeak,
  proveMs: Math.round(prove.ms),
  provePeakRssMb: provePeak,
  verified,
  peakRssWithSnarkjsInfoMb: peakMb(),
}
console.log(result)
await writeJsonAtomic(join(ROOT, 'bench', 'results', `r1cs-direct-${result.date.slice(0, 10)}.json`), result)
await shutdown()
