/**
 * Issue 17 end to end, with real Groth16 proofs: one registry (the hub) serves both paths of
 * one compiled model under one id, and a consumer contract acts on either path's result. Each
 * flow runs through the CLI as the README's "contract integration" walkthrough does: zk only;
 * an optimistic claim finalised after its window; an honest claim settled at once by a proof;
 * a lying, challenged claim ended by a proof (challenger paid). Bonds are checked after each.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Contract, ContractFactory, keccak256, solidityPacked, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { inferenceConsumer } from '../../src/chain/contracts.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { publicSignals } from '../../src/circuit/public.js'
import { challengeClaim, gameContract, readClaim, submitClaim } from '../../src/optimistic/chain/client.js'
import { loadOptimisticDeployment, type OptimisticDeployment } from '../../src/optimistic/chain/deployment.js'
import { cheatingTrace } from '../../src/optimistic/cheat.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { loadModel } from '../../src/model.js'
import { compileModel } from '../../src/prove/compile.js'
import { runModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import type { Hex } from '../../src/util/hex.js'
import { cliInProcess as cli, ROOT } from '../helpers/cli.js'
import { startQuickAnvil } from '../optimistic/chain.js'

const INPUTS = [
  [0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8],
  [-0.5, 0.25, 0.1, 0.7, 0.6, -0.3, 0.2, 0.4],
  [0.9, 0.9, -0.9, 0.1, 0.0, 0.5, -0.7, 0.3],
  [0.2, -0.8, 0.4, -0.1, 0.3, 0.6, -0.2, 0.8],
].map((x) => ({ input_data: [x] }))

describe('one registry for both paths, real proofs, a consumer on top (anvil, CLI)', () => {
  let anvil: AnvilInstance
  let dir: string
  let m: string
  let d: OptimisticDeployment
  let registryAddress: string
  let consumer: ReturnType<typeof inferenceConsumer>
  let wallets: Wallet[]
  const key = (i: number) => anvil.accounts[i].privateKey
  const rpc = () => ['--rpc', anvil.rpcUrl]
  const inputPath = (i: number) => join(dir, `input-${i}.json`)

  /** The statement's public signals (packed input ‖ packed outputs), as a proof or a claim of it has them. */
  async function signalsOf(i: number): Promise<bigint[]> {
    const run = await runModel({ model: m, input: INPUTS[i] })
    return publicSignals((await loadModel(m, { target: 'zk' })).manifest.layout, run.inputs, run.outputs)
  }
  async function expectConsumed(i: number) {
    const signals = await signalsOf(i)
    await (await consumer.consume(signals)).wait()
    const run = await runModel({ model: m, input: INPUTS[i] })
    const out = run.outputs[0]
    const argmax = out.indexOf(out.reduce((a, b) => (b > a ? b : a)))
    const inputKey = keccak256(solidityPacked(['uint256[]'], [signals.slice(0, signals.length - 1)]))
    expect(await consumer.classOf(inputKey)).toEqual([true, BigInt(argmax)])
  }
  const game = (w: Wallet): Contract => gameContract(d.gameAddress, w)
  const claimIdOf = (stdout: string) => /claim (0x[0-9a-f]{64})/.exec(stdout)![1] as Hex

  beforeAll(async () => {
    anvil = await startQuickAnvil({ accounts: 6 })
    wallets = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
    dir = await mkdtemp(join(tmpdir(), 'veriml-hub-flows-'))
    m = join(dir, 'm')
    await compileModel({ onnxPath: join(ROOT, 'test', 'fixtures', 'tiny-mlp.onnx'), outDir: m })
    await setupModel({ model: m, dev: true })
    for (const [i, input] of INPUTS.entries()) await writeFile(inputPath(i), JSON.stringify(input))
    const zk = await cli('deploy', m, ...rpc(), '--private-key', key(0))
    expect(zk.code, zk.stderr).toBe(0)
    registryAddress = JSON.parse(await readFile(join(m, 'deployment.json'), 'utf8')).registry.address
    const op = await cli('op', 'deploy', m, ...rpc(), '--private-key', key(0), '--registry', registryAddress)
    expect(op.code, op.stderr).toBe(0)
    d = await loadOptimisticDeployment(m)
    expect(d.hubAddress).toBe(registryAddress)
    const c = compileSolidity({
      baseDir: join(ROOT, 'verifier-contracts'),
      files: ['examples/InferenceConsumer.sol'],
    }).contracts.InferenceConsumer
    const deployed = await new ContractFactory(c.abi as never[], c.bytecode, wallets[0]).deploy(
      registryAddress,
      d.modelId,
    )
    consumer = inferenceConsumer(await deployed.getAddress(), wallets[0])
  }, 120_000)
  afterAll(async () => {
    await anvil?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('zk only: a proof verified through the registry is the statement result; the consumer acts on it', async () => {
    const proof = join(dir, 'proof-0')
    expect((await cli('prove', m, '--input', inputPath(0), '--out', proof)).code).toBe(0)
    const v = await cli('verify', m, proof, ...rpc(), '--private-key', key(0))
    expect(v.code, v.stderr).toBe(0)
    const r = await cli('result', m, '--input', inputPath(0), ...rpc())
    expect(r.stdout).toMatch(/settled by proof/)
    expect(r.stdout).toMatch(/equal to the reference executor's/)
    await expectConsumed(0)
  })

  it('optimistic unchallenged: finalised after its window, the same record and the same consumer call', async () => {
    const posted = await cli('op', 'claim', m, '--input', inputPath(1), ...rpc(), '--private-key', key(1))
    expect(posted.code, posted.stderr).toBe(0)
    const claimId = claimIdOf(posted.stdout)
    expect((await cli('result', m, '--input', inputPath(1), ...rpc())).stdout).toMatch(/not settled/)
    await anvil.provider.send('evm_increaseTime', [Number(d.challengeWindow) + 1])
    await anvil.provider.send('evm_mine', [])
    const f = await cli('op', 'finalize', claimId, m, ...rpc(), '--private-key', key(2))
    expect(f.code, f.stdout + f.stderr).toBe(0)
    expect((await cli('result', m, '--input', inputPath(1), ...rpc())).stdout).toMatch(/settled by optimistic/)
    expect(await game(wallets[1]).credit(wallets[1].address)).toBe(d.claimBond)
    await expectConsumed(1)
  })

  it('an honest pending claim is settled at once by a proof of its statement (op settle --proof): finalised, bond back', async () => {
    const posted = await cli('op', 'claim', m, '--input', inputPath(2), ...rpc(), '--private-key', key(3))
    expect(posted.code, posted.stderr).toBe(0)
    const claimId = claimIdOf(posted.stdout)
    // No proof yet: nothing to settle by (exit 1, says what to do).
    const early = await cli('op', 'settle', claimId, m, ...rpc(), '--private-key', key(4))
    expect([early.code, early.stdout]).toEqual([1, expect.stringMatching(/no proof of this claim's statement/)])
    const proof = join(dir, 'proof-2')
    expect((await cli('prove', m, '--input', inputPath(2), '--out', proof)).code).toBe(0)
    const s = await cli('op', 'settle', claimId, m, '--proof', proof, ...rpc(), '--private-key', key(4))
    expect(s.code, s.stdout + s.stderr).toBe(0)
    expect(s.stdout).toMatch(/finalised: the proof agrees/)
    expect((await readClaim(game(wallets[4]), claimId)).status).toBe('Finalized')
    expect(await game(wallets[3]).credit(wallets[3].address)).toBe(d.claimBond)
    expect(await game(wallets[4]).credit(wallets[4].address)).toBe(0n)
    expect((await cli('result', m, '--input', inputPath(2), ...rpc())).stdout).toMatch(/settled by proof/)
  })

  it('a lying claim under dispute is ended by a proof: rejected at once, the challenger paid its bond and half the claim bond', async () => {
    const run = await runModel({ model: m, input: INPUTS[3] })
    const model = (await loadModel(m)).ir
    const honest = buildTrace(model, run.inputs)
    const lie = cheatingTrace(model, honest, honest.states.length - 1, 0, 5n)
    expect(lie.outputs).not.toEqual(honest.outputs)
    const [liar, challenger, sender] = [wallets[5], wallets[2], wallets[1]]
    const { claimId, key: claimKey } = await submitClaim(game(liar), d.modelId, lie, d.claimBond)
    const before = (await game(challenger).credit(challenger.address)) as bigint
    await challengeClaim(game(challenger), claimKey, d.challengeBond)
    const proof = join(dir, 'proof-3')
    expect((await cli('prove', m, '--input', inputPath(3), '--out', proof)).code).toBe(0)
    const s = await cli('op', 'settle', claimId, m, '--proof', proof, ...rpc(), '--private-key', key(1))
    expect(s.code, s.stdout + s.stderr).toBe(1)
    expect(s.stdout).toMatch(/rejected: the proof shows other outputs/)
    expect((await readClaim(game(sender), claimId)).status).toBe('Rejected')
    expect(((await game(challenger).credit(challenger.address)) as bigint) - before).toBe(
      d.challengeBond + d.claimBond / 2n,
    )
    expect(await game(liar).credit(liar.address)).toBe(0n)
    // The statement's record is the proof's, with the true outputs.
    const r = await cli('result', m, '--input', inputPath(3), ...rpc())
    expect(r.stdout).toMatch(/settled by proof/)
    expect(r.stdout).toMatch(/equal to the reference executor's/)
  })
})
