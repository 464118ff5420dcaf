/**
 * Groth16 setup times: veriml's dev setup (zkey + verification-only ptau, as `setup --dev`
 * writes them) against snarkjs's standard flow, same circuit, same process.
 *
 *   npx tsx bench/setup.ts [--skip-2^18] [--domains=16,18] [--large-only] [--snarkjs-mnist] [--snarkjs-large]
 *   (--snarkjs-mnist adds ~8 min: snarkjs at 2^14; --snarkjs-large adds 25 min at 2^16 and about 2 h at 2^18;
 *   --large-only skips the tiny MLP and MNIST rows)
 *
 * Every time is reported as wall time and as the process's CPU time (all threads, snarkjs's
 * workers included): on a shared machine the CPU-time ratio is the one that stays honest.
 *
 * - tiny MLP fixture (domain 2^9): dev setup vs snarkjs newAccumulator + contribute +
 *   preparePhase2 + newZKey; both keys are checked with `zKey.verifyFromR1cs`.
 * - MNIST (build/bench/mnist-setup, compiled here unless up to date, ~25 s): dev setup only.
 * - synthetic r1cs of domain 2^16 and 2^18 (squaring chains written directly, no circom):
 *   dev setup, and with --snarkjs-large the snarkjs flow too (its prepare phase 2 alone takes
 *   22 min at 2^16 and 49 min at 2^17 on this kind of machine, TOOLCHAIN-NOTES).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { fixturePath } from '../models/make-fixtures.js'
import { compileModel } from '../src/prove/compile.js'
import { FR, writeScalarLE } from '../src/prove/dev-setup-curve.js'
import { devSetup } from '../src/prove/dev-setup.js'
import { artifactPaths } from '../src/prove/paths.js'
import { shutdown } from '../src/shutdown.js'

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
const quiet = { log() {}, info() {}, debug() {}, warn() {}, error: (m: string) => console.error(m) }

/** CPU time of the whole process (user + system, every thread), ms. */
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** [value, wall ms, CPU ms] of `fn`. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const t0 = performance.now()
  const c0 = cpuMs()
  const value = await fn()
  return [value, performance.now() - t0, cpuMs() - c0]
}

/**
 * A circom-format r1cs of `nConstraints` squarings x[k]·x[k] = x[k+1] (one public input x[0],
 * one public output): enough rows to fill a large domain without a circom compile.
 */
function squaringChainR1cs(nConstraints: number): Uint8Array {
  const nWires = nConstraints + 3 // ONE, out, x[0] … x[n]: out aliases nothing, x[n] is the last
  const header = new Uint8Array(4 + 32 + 4 * 4 + 8 + 4)
  const hv = new DataView(header.buffer)
  hv.setUint32(0, 32, true)
  writeScalarLE(header, 4, FR)
  hv.setUint32(36, nWires, true)
  hv.setUint32(40, 1, true) // public outputs
  hv.setUint32(44, 1, true) // public inputs
  hv.setUint32(48, 0, true) // private inputs
  hv.setBigUint64(52, BigInt(nWires), true)
  hv.setUint32(60, nConstraints, true)
  const term = 4 + 4 + 32 // count, wire, coefficient
  const body = new Uint8Array(nConstraints * 3 * term)
  const bv = new DataView(body.buffer)
  const x = (k: number) => 2 + k
  for (let k = 0, p = 0; k < nConstraints; k++) {
    // The last constraint writes the public output (wire 1) so every wire is constrained.
    const wires = [x(k), x(k), k === nConstraints - 1 ? 1 : x(k + 1)]
    for (const w of wires) {
      bv.setUint32(p, 1, true)
      bv.setUint32(p + 4, w, true)
      writeScalarLE(body, p + 8, 1n)
      p += term
    }
  }
  const out = new Uint8Array(12 + 12 + header.length + 12 + body.length)
  const ov = new DataView(out.buffer)
  out.set(new TextEncoder().encode('r1cs'), 0)
  ov.setUint32(4, 1, true)
  ov.setUint32(8, 2, true)
  let p = 12
  for (const [id, payload] of [
    [1, header],
    [2, body],
  ] as const) {
    ov.setUint32(p, id, true)
    ov.setBigUint64(p + 4, BigInt(payload.length), true)
    out.set(payload, p + 12)
    p += 12 + payload.length
  }
  return out
}

/** snarkjs's standard flow on one circuit: new accumulator, one contribution, prepare phase 2, groth16 setup. */
async function snarkjsFlow(
  r1cs: string,
  power: number,
  dir: string,
  tag: string,
): Promise<{ totalMs: number; cpu: number; text: string; ok: boolean }> {
  const curve = await snarkjs.curves.getCurveFromName('bn128')
  const f = (name: string) => join(dir, `${tag}-${name}`)
  const steps: [string, () => Promise<unknown>][] = [
    ['accumulator', () => snarkjs.powersOfTau.newAccumulator(curve, power, f('p0.ptau'), quiet)],
    ['contribute', () => snarkjs.powersOfTau.contribute(f('p0.ptau'), f('p1.ptau'), 'bench', 'bench entropy', quiet)],
    ['prepare', () => snarkjs.powersOfTau.preparePhase2(f('p1.ptau'), f('pf.ptau'), quiet)],
    ['newZKey', () => snarkjs.zKey.newZKey(r1cs, f('pf.ptau'), f('snarkjs.zkey'), quiet)],
  ]
  let totalMs = 0
  let cpu = 0
  const parts: string[] = []
  for (const [name, step] of steps) {
    const [, ms, c] = await timed(step)
    totalMs += ms
    cpu += c
    parts.push(`${name} ${sec(ms)}`)
    console.error(`  snarkjs ${tag} ${name}: ${sec(ms)} wall, ${sec(c)} CPU`)
  }
  const ok = await snarkjs.zKey.verifyFromR1cs(r1cs, f('pf.ptau'), f('snarkjs.zkey'), quiet)
  return { totalMs, cpu, ok, text: `${sec(totalMs)}, CPU ${sec(cpu)} (${parts.join(', ')})` }
}

/** "wall ratio× (CPU ratio×)" */
const ratio = (sj: { totalMs: number; cpu: number }, ms: number, cpu: number): string =>
  `${(sj.totalMs / ms).toFixed(1)}× (CPU ${(sj.cpu / cpu).toFixed(1)}×)`

async function main(): Promise<void> {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const domains = (arg('domains') ?? (process.argv.includes('--skip-2^18') ? '16' : '16,18')).split(',').map(Number)
  const largeOnly = process.argv.includes('--large-only')
  const withSnarkjsMnist = process.argv.includes('--snarkjs-mnist')
  const withSnarkjsLarge = process.argv.includes('--snarkjs-large')
  const dir = await mkdtemp(join(tmpdir(), 'veriml-setup-bench-'))
  const rows: string[] = []
  // Rows are also printed as they finish: the large snarkjs runs take hours.
  const push = rows.push.bind(rows)
  rows.push = (...r: string[]) => {
    for (const x of r) console.error(x)
    return push(...r)
  }
  try {
    if (!largeOnly) {
      // --- tiny MLP: dev vs snarkjs ---
      const tiny = join(dir, 'tiny')
      await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: tiny })
      const r1cs = artifactPaths(tiny).r1cs
      const [dev, devMs, devCpu] = await timed(() =>
        devSetup({ r1csPath: r1cs, zkeyPath: join(dir, 'tiny-dev.zkey'), ptauPath: join(dir, 'tiny-dev.ptau') }),
      )
      const power = Math.log2(dev.domainSize)
      const sj = await snarkjsFlow(r1cs, power, dir, 'tiny')
      const devOk = await snarkjs.zKey.verifyFromR1cs(
        r1cs,
        join(dir, 'tiny-dev.ptau'),
        join(dir, 'tiny-dev.zkey'),
        quiet,
      )
      rows.push(
        `| tiny MLP (${dev.nConstraints} constraints) | 2^${power} | ${sec(devMs)}, CPU ${sec(devCpu)} | ${sj.text} | ${ratio(sj, devMs, devCpu)} | dev ${devOk}, snarkjs ${sj.ok} |`,
      )

      // --- MNIST: dev only ---
      const mnist = 'build/bench/mnist-setup'
      // Reused while the model and the emitter are unchanged (compileModel's key).
      await compileModel({
        onnxPath: 'models/mnist-mlp.onnx',
        outDir: mnist,
        calibrationPath: 'models/data/mnist-calibration.json',
        visibility: { input: 'hashed', output: 'public' },
      })
      const [m, mMs, mCpu] = await timed(() =>
        devSetup({
          r1csPath: artifactPaths(mnist).r1cs,
          zkeyPath: join(dir, 'mnist.zkey'),
          ptauPath: join(dir, 'mnist.ptau'),
        }),
      )
      const [, mZkeyOnlyMs] = await timed(() =>
        devSetup({ r1csPath: artifactPaths(mnist).r1cs, zkeyPath: join(dir, 'mnist-only.zkey') }),
      )
      const mOk = await snarkjs.zKey.verifyFromR1cs(
        artifactPaths(mnist).r1cs,
        join(dir, 'mnist.ptau'),
        join(dir, 'mnist.zkey'),
        quiet,
      )
      const mPower = Math.log2(m.domainSize)
      const mSj = withSnarkjsMnist ? await snarkjsFlow(artifactPaths(mnist).r1cs, mPower, dir, 'mnist') : null
      rows.push(
        `| MNIST MLP (${m.nConstraints} constraints) | 2^${mPower} | ${sec(mMs)}, CPU ${sec(mCpu)} (zkey alone ${sec(mZkeyOnlyMs)}) | ${mSj ? mSj.text : 'not run (pass --snarkjs-mnist; prepare phase2 alone: 6 min at 2^14, TOOLCHAIN-NOTES)'} | ${mSj ? ratio(mSj, mMs, mCpu) : '—'} | dev ${mOk}${mSj ? `, snarkjs ${mSj.ok}` : ''} |`,
      )
    }

    // --- synthetic large domains: dev only ---
    for (const p of domains) {
      const path = join(dir, `chain-${p}.r1cs`)
      await writeFile(path, squaringChainR1cs(2 ** (p - 1) + 16))
      const [s, sMs, sCpu] = await timed(() =>
        devSetup({ r1csPath: path, zkeyPath: join(dir, `chain-${p}.zkey`), ptauPath: join(dir, `chain-${p}.ptau`) }),
      )
      console.error(`  dev setup 2^${p}: ${sec(sMs)} wall, ${sec(sCpu)} CPU`)
      const sj = withSnarkjsLarge ? await snarkjsFlow(path, Math.log2(s.domainSize), dir, `chain-${p}`) : null
      const notes = sj
        ? sj.text
        : p === 16
          ? 'not run (pass --snarkjs-large; prepare phase2 alone: 22 min at 2^16, TOOLCHAIN-NOTES)'
          : 'not run (pass --snarkjs-large; prepare phase2 alone: about 2 h at 2^18)'
      rows.push(
        `| squaring chain (${s.nConstraints} constraints) | 2^${Math.log2(s.domainSize)} | ${sec(sMs)}, CPU ${sec(sCpu)} | ${notes} | ${sj ? ratio(sj, sMs, sCpu) : '—'} | ${sj ? `snarkjs ${sj.ok}` : 'not checked'} |`,
      )
      await rm(join(dir, `chain-${p}.ptau`), { force: true })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await shutdown()
  }
  console.log(
    [
      `## Groth16 setup: veriml dev setup vs snarkjs (${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${(await import('node:os')).cpus().length} cores)`,
      '',
      'Dev setup = zkey + verification-only prepared ptau (what `veriml setup DIR --dev` writes). snarkjs = newAccumulator + contribute + preparePhase2 + newZKey.',
      '',
      '| circuit | domain | veriml dev setup | snarkjs | ratio wall (CPU) | zKey.verifyFromR1cs |',
      '| --- | --- | ---: | --- | ---: | --- |',
      ...rows,
    ].join('\n'),
  )
}

await main()
