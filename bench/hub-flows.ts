/**
 * Issue 17: gas of every flow of one model on one registry (the hub), on the bundled MNIST MLP
 * (public input, as the demo compiles it), on a local anvil node: zk only; optimistic
 * unchallenged; an honest claim settled early by a proof; a lying, challenged claim ended by a
 * proof; a consumer's reads. Each flow is a distinct statement (one held-out digit each).
 *
 *   npx tsx bench/hub-flows.ts      → bench/results/hub-flows-<date>.md
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, ContractFactory, keccak256, Wallet } from 'ethers'
import { startAnvil } from '../src/chain/anvil.js'
import { inferenceConsumer, verimlRegistryAbi } from '../src/chain/contracts.js'
import { deployBuild } from '../src/chain/model.js'
import { compileSolidity } from '../src/chain/solc.js'
import { verifyOnChain } from '../src/chain/verify-on-chain.js'
import { publicSignals } from '../src/circuit/public.js'
import {
  challengeClaim,
  finalizeClaim,
  gameContract,
  settleByProof,
  submitClaim,
} from '../src/optimistic/chain/client.js'
import { deployOptimisticModel } from '../src/optimistic/chain/deployment.js'
import { cheatingTrace } from '../src/optimistic/cheat.js'
import { buildTrace } from '../src/optimistic/trace.js'
import { compileModel } from '../src/prove/compile.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { shutdown } from '../src/shutdown.js'
import { packInputStates } from '../src/optimistic/input.js'

const ROOT = join(import.meta.dirname, '..')
const scratch = await mkdtemp(join(tmpdir(), 'veriml-hub-flows-'))
const dir = join(scratch, 'mnist')
const samples = JSON.parse(await readFile(join(ROOT, 'models', 'data', 'mnist-calibration.json'), 'utf8'))
// The calibration file holds its samples end to end, 784 values each: one digit per flow.
const flat = (samples.input_data as number[][]).flat()
const digits: unknown[] = [0, 1, 2, 3].map((i) => ({ input_data: [flat.slice(784 * i, 784 * (i + 1))] }))
const node = await startAnvil({ accounts: 6 })
try {
  const compiled = await compileModel({
    onnxPath: join(ROOT, 'models', 'mnist-mlp.onnx'),
    outDir: dir,
    calibrationPath: join(ROOT, 'models', 'data', 'mnist-calibration.json'),
  })
  const { model } = await setupModel({ model: compiled.model, dev: true })
  const [owner, claimant, challenger, sender, liar] = node.accounts.map((a) => new Wallet(a.privateKey, node.provider))
  const zk = await deployBuild({ model, rpcUrl: node.rpcUrl, privateKey: owner.privateKey })
  const registryAddress = zk.registry.address
  const op = await deployOptimisticModel({
    model,
    runner: owner,
    chainId: node.chainId,
    hubAddress: registryAddress,
  })
  const game = (w: Wallet) => gameContract(op.gameAddress, w)
  const proofOf = async (i: number) => {
    const p = await proveModel({ model, input: digits[i], outDir: join(scratch, `proof-${i}`) })
    return { ...p, index: i, trace: buildTrace(model.ir, p.inputs) }
  }
  const verify = async (p: Awaited<ReturnType<typeof proofOf>>, w: Wallet) => {
    const r = await verifyOnChain({
      rpcUrl: node.rpcUrl,
      privateKey: w.privateKey,
      registryAddress,
      modelId: model.manifest.modelId,
      proof: JSON.parse(await readFile(join(scratch, `proof-${p.index}`, 'proof.json'), 'utf8')),
      publicSignals: p.publicSignals,
    })
    if (!r.accepted) throw new Error('proof rejected')
    return r.gasUsed
  }
  const rows: [string, string, bigint][] = []

  // 1. zk only.
  const p0 = await proofOf(0)
  rows.push(['zk only', 'verifyInference (verify + record)', await verify(p0, sender)])

  // 2. Optimistic, unchallenged.
  const t1 = buildTrace(model.ir, (await proofOf(1)).inputs)
  const c1 = await submitClaim(game(claimant), op.modelId, t1, op.claimBond)
  rows.push(['optimistic, unchallenged', 'claim', c1.gasUsed])
  await node.provider.send('evm_increaseTime', [Number(op.challengeWindow) + 1])
  rows.push(['optimistic, unchallenged', 'finalize (+ record)', (await finalizeClaim(game(sender), c1.key)).gasUsed])

  // 3. An honest claim settled early by a proof.
  const p2 = await proofOf(2)
  const c2 = await submitClaim(game(claimant), op.modelId, p2.trace, op.claimBond)
  rows.push(['claim settled early by a proof', 'claim', c2.gasUsed])
  rows.push(['claim settled early by a proof', 'verifyInference', await verify(p2, sender)])
  rows.push([
    'claim settled early by a proof',
    'settleByProof (agrees)',
    (await settleByProof(game(sender), c2.key)).gasUsed,
  ])

  // 4. A lying claim, challenged, ended by a proof.
  const p3 = await proofOf(3)
  const lie = cheatingTrace(model.ir, p3.trace, p3.trace.states.length - 1, 0, 3n)
  const c3 = await submitClaim(game(liar), op.modelId, lie, op.claimBond)
  rows.push(['challenged claim ended by a proof', 'claim (a lie)', c3.gasUsed])
  const d3 = await challengeClaim(game(challenger), c3.key, op.challengeBond)
  rows.push(['challenged claim ended by a proof', 'challenge', d3.gasUsed])
  rows.push(['challenged claim ended by a proof', 'verifyInference', await verify(p3, sender)])
  rows.push([
    'challenged claim ended by a proof',
    'settleByProof (rejects; pays the challenger)',
    (await settleByProof(game(sender), c3.key, d3.disputeId)).gasUsed,
  ])

  // 5. Consumer reads: resultOf as a transaction, and the example consumer acting on a result.
  const registry = new Contract(registryAddress, verimlRegistryAbi, owner)
  const inputCommitment = keccak256(packInputStates(buildTrace(model.ir, p0.inputs).layout.inputLayouts, p0.inputs))
  rows.push([
    'consumer reads',
    'resultOf (a transaction doing only the read)',
    await registry.resultOf.estimateGas(model.manifest.modelId, inputCommitment),
  ])
  const c = compileSolidity({ baseDir: join(ROOT, 'verifier-contracts'), files: ['examples/InferenceConsumer.sol'] })
    .contracts.InferenceConsumer
  const deployed = await new ContractFactory(c.abi as never[], c.bytecode, owner).deploy(registryAddress, op.modelId)
  const consumer = inferenceConsumer(await deployed.getAddress(), owner)
  for (const [i, p] of [
    [0, p0.publicSignals.map(BigInt)],
    [1, await publicSignals(model.manifest.layout, t1.states.slice(0, 1), t1.outputs)],
  ] as const) {
    const receipt = await (await consumer.consume(p as bigint[])).wait()
    rows.push([
      'consumer reads',
      `InferenceConsumer.consume (${i === 0 ? 'a proof' : 'a finalised claim'}'s statement)`,
      receipt!.gasUsed,
    ])
  }

  const date = new Date().toISOString().slice(0, 10)
  const md = [
    `# Gas of every flow on one registry: bundled MNIST MLP (${date})`,
    '',
    `\`npx tsx bench/hub-flows.ts\`; ${model.manifest.constraintCount} constraints, ${p0.publicSignals.length} public signals; one anvil node; claim bond ${op.claimBond}, challenge bond ${op.challengeBond} wei.`,
    '',
    '| flow | transaction | gas |',
    '|---|---|---:|',
    ...rows.map(([f, t, g]) => `| ${f} | ${t} | ${g.toLocaleString('en-US')} |`),
    '',
  ].join('\n')
  await writeFile(join(ROOT, 'bench', 'results', `hub-flows-${date}.md`), md)
  console.log(md)
} finally {
  await node.stop()
  await rm(scratch, { recursive: true, force: true })
  await shutdown()
}
