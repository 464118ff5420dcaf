import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Contract, ContractFactory, type InterfaceAbi, keccak256, solidityPacked, type Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { emitCircuit } from '../../src/circuit/emit.js'
import { publicSignals } from '../../src/circuit/public.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { sideSignalCount } from '../../src/ir/packing.js'
import { modelId } from '../../src/ir/serialize.js'
import type { IrModel, OpKind } from '../../src/ir/types.js'
import { inputCommitment, statementCommitments } from '../../src/ir/commitment.js'
import { executeOnchain, onchainProgramMatches, onchainResultOf, runOnchain } from '../../src/onchain/client.js'
import { dataContractInitCode, onchainArtifacts } from '../../src/onchain/contracts.js'
import { deployOnchainModel } from '../../src/onchain/deploy.js'
import { encodeProgram } from '../../src/onchain/encode.js'
import { OnchainRevertError } from '../../src/onchain/errors.js'
import { estimateOnchainGas } from '../../src/onchain/gas.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng as seeded } from '../helpers/circuit.js'
import { hexOf } from '../../src/util/hex.js'
import { samples } from '../onnx/ort-diff.js'
import { finalizeClaim, hubContract, send, settleByProof } from '../../src/optimistic/chain/client.js'
import { claimKeyOf } from '../../src/optimistic/config.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import type { Hex } from '../../src/util/hex.js'
import {
  advanceTime,
  CLAIM_BOND,
  deployGame,
  type GameFixture,
  registerTestModel,
  startChain,
  WINDOW,
} from '../optimistic/chain.js'
import { mlp, randomInputs, randomModel, rng, tinyModel } from '../optimistic/models.js'
import { claimStatus, expectConserved, postClaim } from '../optimistic/scenario.js'

const ROOT = join(import.meta.dirname, '..', '..')

/** models/tiny-mlp.onnx quantised on 16 random samples, and those samples' integer inputs. */
async function tinyMlp(): Promise<{ model: IrModel; inputs: bigint[][][] }> {
  const graph = lowerOnnx(parseOnnx(new Uint8Array(await readFile(join(ROOT, 'models', 'tiny-mlp.onnx')))))
  const calibration = samples(seeded(17), graph.inputs, 16)
  const model = quantize(graph, calibration)
  return { model, inputs: calibration.slice(0, 6).map((s) => quantizeInputs(model.inputs, s)) }
}

const ONCHAIN = 3
const ZERO = `0x${'0'.repeat(64)}`
/** The hub's record keeps the top 208 bits of the outputs hash. */
const top208 = (h: string) => `${h.slice(0, 54)}${'0'.repeat(12)}`
const statementOf = (id: string, input: string) => keccak256(solidityPacked(['bytes32', 'bytes32'], [id, input]))

/** A stand-in deterministic settler (test/optimistic/HubSettler.sol): records whatever it is told. */
async function standIn(f: GameFixture, id: Hex): Promise<Contract> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const c = compileSolidity({ baseDir: root, files: ['test/optimistic/HubSettler.sol'] }).contracts.HubSettler
  const settler = (await (
    await new ContractFactory(c.abi as InterfaceAbi, c.bytecode, f.wallets[0]).deploy()
  ).waitForDeployment()) as Contract
  await send('bindSettler', () => hubContract(f.hubAddress, f.wallets[0]).bindSettler(id, settler.target, ONCHAIN))
  return settler
}

/**
 * Tiny models settled on chain outright (verifier-contracts/onchain): the contract's outputs
 * equal the reference executor's bit for bit on models/tiny-mlp.onnx and on random models
 * covering every primitive; an input outside the domain is refused; `run` writes the hub's one
 * record of the statement, committed exactly as a proof's signals and an optimistic claim;
 * a pending claim settles by it; and the IR-only gas estimate is within 15 % of the measured gas.
 */
describe('models executed wholly on chain', () => {
  let anvil: AnvilInstance
  let f: GameFixture
  let wallet: Wallet
  let tiny: { model: IrModel; inputs: bigint[][][] }
  let tinyContract: Contract
  /** A model on the hub, bound to a fresh OnchainModel (the tests' hub is f's: owned by wallet). */
  const deploy = (model: IrModel, bind = true) => deployOnchainModel({ signer: wallet, model, hub: f.hubAddress, bind })
  beforeAll(async () => {
    anvil = await startChain()
    f = await deployGame(anvil)
    wallet = f.wallets[0]
    tiny = await tinyMlp()
    tinyContract = (await deploy(tiny.model)).contract
  })
  afterAll(async () => anvil?.stop())

  it('tiny-mlp: outputs equal the reference executor bit for bit', async () => {
    expect(await onchainProgramMatches(tinyContract, tiny.model)).toBe(true)
    const other = structuredClone(tiny.model)
    ;(other.steps[0].op as { bias: bigint[] }).bias[0] += 1n
    expect(await onchainProgramMatches(tinyContract, other)).toBe(false)
    for (const input of tiny.inputs)
      expect(await executeOnchain(tinyContract, input)).toEqual(execute(tiny.model, input).outputs)
  })

  it('random models over every op kind: outputs equal the reference executor bit for bit, and so do the packed commitments', async () => {
    const kinds = new Set<OpKind>()
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const model = randomModel(seed, 10, { divIsqrt: true })
      for (const s of model.steps) kinds.add(s.op.op)
      const { contract } = await deploy(model, false)
      const r = rng(seed + 100)
      for (let k = 0; k < 3; k++) {
        const input = randomInputs(model, r)
        expect(await executeOnchain(contract, input), `${model.name} input ${k}`).toEqual(execute(model, input).outputs)
      }
      // Two inputs and several outputs: packed one after another, as a claim posts them.
      const input = randomInputs(model, r)
      const [inputCommitment_, outputsHash, inputPacked, outputsPacked] = await contract.commitmentsOf(input.flat())
      expect({ inputPacked, inputCommitment: inputCommitment_, outputsPacked, outputsHash }).toEqual(
        statementCommitments(model, input, execute(model, input).outputs),
      )
    }
    expect([...kinds].sort()).toEqual(['div', 'gather', 'isqrt', 'linear', 'lookup', 'max', 'mul', 'requant'])
  })

  it('an input outside the domain, or of the wrong length, reverts', async () => {
    const input = tiny.inputs[0].map((v) => [...v])
    input[0][3] = tiny.model.inputs[0].hi + 1n
    await expect(executeOnchain(tinyContract, input)).rejects.toThrow(OnchainRevertError)
    await expect(executeOnchain(tinyContract, input)).rejects.toMatchObject({
      errorName: 'InputOutOfDomain',
      args: [0n, 3n, tiny.model.inputs[0].hi + 1n, tiny.model.inputs[0].lo, tiny.model.inputs[0].hi],
    })
    input[0][3] = tiny.model.inputs[0].lo - 1n
    await expect(runOnchain(tinyContract, input)).rejects.toMatchObject({ errorName: 'InputOutOfDomain' })
    await expect(executeOnchain(tinyContract, [input[0].slice(1)])).rejects.toMatchObject({
      errorName: 'InputLengthMismatch',
    })
  })

  it('a program that is not the shape its header announces reverts (ProgramMalformed), whole or cut', async () => {
    const program = encodeProgram(tiny.model)
    const deployRaw = async (bytes: Uint8Array) => {
      const receipt = await (await wallet.sendTransaction({ data: hexOf(dataContractInitCode(bytes)) })).wait()
      const { model } = onchainArtifacts()
      const factory = new ContractFactory(model.abi as InterfaceAbi, model.bytecode, wallet)
      return (await (
        await factory.deploy(f.hubAddress, modelId(tiny.model), [receipt!.contractAddress])
      ).waitForDeployment()) as Contract
    }
    const input = tiny.inputs[0]
    expect(await executeOnchain(await deployRaw(program), input)).toEqual(execute(tiny.model, input).outputs)
    const longer = Uint8Array.from([...program, 0])
    await expect(executeOnchain(await deployRaw(longer), input)).rejects.toMatchObject({
      errorName: 'ProgramMalformed',
    })
    await expect(executeOnchain(await deployRaw(program.subarray(0, program.length - 1)), input)).rejects.toThrow(
      OnchainRevertError,
    )
    // An output layout of 0 bits (the last output's laneBits byte, before its lo word) is no layout.
    const zeroLane = Uint8Array.from(program)
    zeroLane[program.length - 33] = 0
    await expect(executeOnchain(await deployRaw(zeroLane), input)).rejects.toMatchObject({
      errorName: 'ProgramMalformed',
    })
    // An output layout too narrow for the outputs: the run refuses to pack it (no wrong hash).
    const narrow = Uint8Array.from(program)
    narrow[program.length - 33] = 1
    await expect(executeOnchain(await deployRaw(narrow), input)).rejects.toMatchObject({
      errorName: 'ValueOutsideLane',
    })
  })

  it('run writes the hub record (how 3, the packed outputs hash); a second run passes and leaves it; an unbound model cannot record', async () => {
    const input = tiny.inputs[1]
    const id = modelId(tiny.model)
    const want = statementCommitments(tiny.model, input, execute(tiny.model, input).outputs)
    expect(inputCommitment(tiny.model, input)).toBe(want.inputCommitment)
    expect(await onchainResultOf(tinyContract, want.inputCommitment)).toEqual({ how: 0, at: 0n, outputsHash: ZERO })
    const run = await runOnchain(tinyContract, input)
    expect(run).toMatchObject({
      inputCommitment: want.inputCommitment,
      outputsHash: want.outputsHash,
      outputs: execute(tiny.model, input).outputs.flat(),
    })
    const recorded = await onchainResultOf(tinyContract, want.inputCommitment)
    expect(recorded).toMatchObject({ how: ONCHAIN, outputsHash: top208(want.outputsHash) })
    const hub = hubContract(f.hubAddress, wallet)
    expect(await hub.outputsMatch(statementOf(id, want.inputCommitment), want.outputsHash)).toBe(true)
    // The run's event carries the packed outputs the hash is of.
    const receipt = await anvil.provider.getTransactionReceipt(run.hash)
    const ran = receipt!.logs.map((l) => tinyContract.interface.parseLog(l)).find((l) => l?.name === 'Ran')!
    expect([...ran.args]).toEqual([id, want.inputCommitment, wallet.address, want.outputsPacked])
    await advanceTime(f.provider, 10n)
    await runOnchain(tinyContract, input)
    expect(await onchainResultOf(tinyContract, want.inputCommitment)).toEqual(recorded)
    const { contract: unbound } = await deploy(tiny.model, false)
    await expect(runOnchain(unbound, tiny.inputs[2])).rejects.toMatchObject({ errorName: 'NotSettler' })
  })

  it('tiny model: the run commits to the very words of the zk proof signals and of the optimistic claim', async () => {
    const model = tinyModel()
    const input = [[3n, -7n, 120n, -128n, 0n, 55n]]
    const { contract } = await deploy(model)
    const outputs = execute(model, input).outputs
    // zk: the public signals a proof of (input → outputs) carries, split into its two parts.
    const { layout } = emitCircuit({
      model,
      bounds: analyzeBounds(model),
      visibility: { input: 'public', output: 'public' },
      source: false,
    })
    const signals = await publicSignals(layout, input, outputs)
    const inputSignals = sideSignalCount('public', layout.inputs)
    const words = (xs: bigint[]) =>
      solidityPacked(
        xs.map(() => 'uint256'),
        xs,
      )
    const zk = { inputPacked: words(signals.slice(0, inputSignals)), outputsPacked: words(signals.slice(inputSignals)) }
    // Optimistic: the key a claim on the honest trace commits to.
    const claim = claimKeyOf(modelId(model), buildTrace(model, input), wallet.address)
    const [inputCommitment_, outputsHash, inputPacked, outputsPacked] = await contract.commitmentsOf(input.flat())
    expect({ inputPacked, outputsPacked }).toEqual(zk)
    expect([inputCommitment_, outputsHash]).toEqual([keccak256(zk.inputPacked), keccak256(zk.outputsPacked)])
    expect([inputCommitment_, outputsHash]).toEqual([claim.inputHash, claim.outputsHash])
    expect(statementCommitments(model, input, outputs)).toEqual({
      inputPacked,
      inputCommitment: inputCommitment_,
      outputsPacked,
      outputsHash,
    })
  })

  it('a pending optimistic claim of the statement settles at once by the run (agreeing: Finalized, bond back); a finalised claim is overwritten by a run', async () => {
    const model = tinyModel()
    const m = await registerTestModel(f, model)
    const { contract } = await deploy(model)
    const [, claimant, sender] = f.wallets
    const input = [[1n, 2n, 3n, 4n, 5n, 6n]]
    const { claimId, key } = await postClaim(f, m, claimant, buildTrace(model, input))
    const ran = await runOnchain(contract, input)
    const { gasUsed } = await settleByProof(f.gameAs(sender), key)
    expect(await claimStatus(f, claimId)).toBe('Finalized')
    expect(await f.gameAs(claimant).credit(claimant.address)).toBe(CLAIM_BOND)
    // A statement settled optimistically first: the run makes it OnChain, with the same outputs.
    const other = [[9n, -9n, 0n, 1n, -1n, 100n]]
    const late = await postClaim(f, m, claimant, buildTrace(model, other))
    await advanceTime(f.provider, WINDOW + 1n)
    await finalizeClaim(f.gameAs(sender), late.key)
    expect((await onchainResultOf(contract, late.key.inputHash)).how).toBe(2)
    await runOnchain(contract, other)
    expect(await onchainResultOf(contract, late.key.inputHash)).toMatchObject({
      how: ONCHAIN,
      outputsHash: top208(late.key.outputsHash),
    })
    await expectConserved(f, 0n, [claimant, sender])
    console.log(`tiny model: run + hub record ${ran.gasUsed} gas; settleByProof from its record ${gasUsed} gas`)
  })

  it('a deterministic record of the statement: the same outputs let the run pass, other outputs make the hub refuse it (ConflictingProof)', async () => {
    const model = mlp([8, 4], 3)
    const { contract, modelId: id } = await deploy(model)
    const settler = await standIn(f, id)
    const [agreeing, contradicted] = [randomInputs(model, rng(8)), randomInputs(model, rng(9))]
    const a = statementCommitments(model, agreeing, execute(model, agreeing).outputs)
    await send('record', () => settler.record(f.hubAddress, id, a.inputCommitment, a.outputsHash))
    const before = await onchainResultOf(contract, a.inputCommitment)
    await runOnchain(contract, agreeing)
    expect(await onchainResultOf(contract, a.inputCommitment)).toEqual(before)
    const c = inputCommitment(model, contradicted)
    await send('record', () => settler.record(f.hubAddress, id, c, keccak256('0x01')))
    await expect(runOnchain(contract, contradicted)).rejects.toMatchObject({ errorName: 'ConflictingProof' })
    expect(await onchainResultOf(contract, c)).toMatchObject({ how: ONCHAIN, outputsHash: top208(keccak256('0x01')) })
  })

  it('the IR-only gas estimate is within 15 % of the measured run and deploy gas on three model shapes (outputs exact)', async () => {
    const random = randomModel(7, 12, { divIsqrt: true })
    const cases: { model: IrModel; input: bigint[][] }[] = [
      { model: tiny.model, input: tiny.inputs[2] },
      { model: mlp([96, 48, 10], 4), input: randomInputs(mlp([96, 48, 10], 4), rng(1)) },
      { model: random, input: randomInputs(random, rng(2)) },
    ]
    for (const { model, input } of cases) {
      const { contract, gasUsed: deployGas } = await deploy(model)
      const { gasUsed, outputs } = await runOnchain(contract, input)
      // The MLP's rows (96 and 48 one-byte weights) take the 32-terms-a-word path, with a remainder.
      expect(outputs).toEqual(execute(model, input).outputs.flat())
      const estimate = estimateOnchainGas(model)
      console.log(`${model.name}: run ${gasUsed} gas (estimate ${estimate.run})`)
      expect(
        Math.abs(estimate.run - Number(gasUsed)) / Number(gasUsed),
        `${model.name}: run ${estimate.run} vs ${gasUsed}`,
      ).toBeLessThan(0.15)
      const deployed = Number(deployGas.chunks + deployGas.model)
      expect(
        Math.abs(estimate.deploy - deployed) / deployed,
        `${model.name}: deploy ${estimate.deploy} vs ${deployed}`,
      ).toBeLessThan(0.15)
    }
  })
})
