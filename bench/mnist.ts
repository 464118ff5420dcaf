/**
 * Cost of the bundled MNIST MLP on the zk path, with in-process baselines:
 *   - prove: veriml's proveModel on one loaded model (its witness generator compiled once)
 *     vs snarkjs.groth16.fullProve;
 *   - on-chain: verifyInference (verify + record) and checkInference (verify only) vs calling
 *     the snarkjs verifier directly.
 * Writes bench/results/mnist-<date>.json and prints a markdown table.
 *
 *   npx tsx bench/mnist.ts
 */
import { readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { Interface, Wallet } from 'ethers'
import * as snarkjs from 'snarkjs'
import { startAnvil } from '../src/chain/anvil.js'
import { proofArguments } from '../src/prove/proof.js'
import { groth16VerifierAbi, verimlRegistry } from '../src/chain/contracts.js'
import { deployBuild } from '../src/chain/model.js'
import { verifyOnChain } from '../src/chain/verify-on-chain.js'
import { compileModel } from '../src/prove/compile.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { verifyProof } from '../src/prove/verify.js'
import { witnessInput } from '../src/prove/witness-input.js'
import { shutdown } from '../src/shutdown.js'
import { writeJsonAtomic } from '../src/util/fs.js'

const ROOT = join(import.meta.dirname, '..')
const dir = join(ROOT, 'build', 'bench', 'mnist')
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const RUNS = 5

const compiled = await compileModel({
  onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
  outDir: dir,
  force: true,
  calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
  visibility: { input: 'hashed', output: 'public' },
})
// One loaded model from here on: every prove reuses its compiled witness generator.
const setup = await setupModel({ model: compiled.model, dev: true, force: true })
const { model } = setup
const input = JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-input.json'), 'utf8'))
const report = JSON.parse(await readFile(model.paths.report, 'utf8'))

const proveMs: number[] = [],
  witnessMs: number[] = [],
  fullProveMs: number[] = [],
  verifyMs: number[] = []
let last
for (let i = 0; i < RUNS; i++) {
  last = await proveModel({ model, input, outDir: join(dir, 'proof') })
  proveMs.push(last.proveMs)
  witnessMs.push(last.witnessMs)
  const t = performance.now()
  await snarkjs.groth16.fullProve(witnessInput(last.inputs), model.paths.wasm, model.paths.zkey)
  fullProveMs.push(performance.now() - t)
  verifyMs.push((await verifyProof({ model, proofDir: join(dir, 'proof') })).verifyMs)
}

const node = await startAnvil()
let gas
try {
  const privateKey = node.accounts[0].privateKey
  const deployment = await deployBuild({
    model,
    rpcUrl: node.rpcUrl,
    privateKey,
    deploymentPath: join(dir, 'bench-deployment.json'),
  })
  const proof = JSON.parse(await readFile(join(dir, 'proof', 'proof.json'), 'utf8'))
  const signals = JSON.parse(await readFile(join(dir, 'proof', 'public.json'), 'utf8')) as string[]
  const args = proofArguments(proof, signals)
  const registry = verimlRegistry(deployment.registry.address, new Wallet(privateKey, node.provider))
  const check = await registry.checkInference.estimateGas(deployment.modelId, args.a, args.b, args.c, args.pubSignals)
  // A plain transaction to the verifier (its verifyProof is a view; estimateGas underestimates it).
  const data = new Interface(groth16VerifierAbi(signals.length)).encodeFunctionData('verifyProof', [
    args.a,
    args.b,
    args.c,
    args.pubSignals,
  ])
  const direct = await (
    await new Wallet(privateKey, node.provider).sendTransaction({
      to: deployment.verifier.address,
      data,
      gasLimit: 1_000_000n,
    })
  ).wait()
  const recorded = await verifyOnChain({
    rpcUrl: node.rpcUrl,
    privateKey,
    registryAddress: deployment.registry.address,
    modelId: deployment.modelId,
    proof,
    publicSignals: signals,
  })
  if (!recorded.accepted) throw new Error('proof rejected on chain')
  gas = {
    verifyInference: recorded.gasUsed,
    checkInference: check,
    directVerifier: direct!.gasUsed,
    deployVerifier: deployment.verifier.gasUsed,
    deployRegistry: deployment.registry.gasUsed,
    register: deployment.registration.gasUsed,
  }
} finally {
  await node.stop()
}

const row = {
  model: 'mnist-mlp 784-128-10',
  parameters: 101770,
  constraints: compiled.manifest.constraintCount,
  activations: report.cost.activations,
  requantConstraintsPerActivation: report.cost.requant / report.cost.activations,
  inputRangeCheckConstraints: report.cost.inputRangeChecks,
  publicSignals: compiled.manifest.layout.count,
  compileMs: compiled.manifest.timings.compileMs,
  devSetupMs: setup.setupMs,
  witnessMs: median(witnessMs),
  proveMs: median(proveMs),
  fullProveBaselineMs: median(fullProveMs),
  verifyMs: median(verifyMs),
  gas,
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }
await writeJsonAtomic(join(ROOT, 'bench', 'results', `mnist-${new Date().toISOString().slice(0, 10)}.json`), {
  machine,
  runs: RUNS,
  ...row,
})

const r = (x: number) => (x / 1000).toFixed(2)
console.log(`\n| MNIST MLP (${machine.cpus} cores, ${machine.node}) | value |\n|---|---|`)
console.log(
  `| R1CS constraints | ${row.constraints} (input range checks ${row.inputRangeCheckConstraints}, ${row.requantConstraintsPerActivation.toFixed(1)} per activation × ${row.activations}) |`,
)
console.log(`| public signals | ${row.publicSignals} (Poseidon-hashed input, packed output) |`)
console.log(`| compile (circom2, wasm) | ${r(row.compileMs)} s |`)
console.log(`| dev setup (zkey + prepared ptau) | ${r(row.devSetupMs)} s |`)
console.log(`| witness | ${r(row.witnessMs)} s |`)
console.log(
  `| prove (median of ${RUNS}) | ${r(row.proveMs)} s — snarkjs fullProve baseline ${r(row.fullProveBaselineMs)} s (ratio ${(row.proveMs / row.fullProveBaselineMs).toFixed(2)}) |`,
)
console.log(`| verify off-chain | ${row.verifyMs.toFixed(0)} ms |`)
console.log(`| verifyInference gas (verify + record) | ${gas.verifyInference} |`)
console.log(`| checkInference gas (verify only) | ${gas.checkInference} |`)
console.log(`| snarkjs verifier called directly | ${gas.directVerifier} |`)
console.log(
  `| deploy: verifier / registry / register | ${gas.deployVerifier} / ${gas.deployRegistry} / ${gas.register} |`,
)
await shutdown()
