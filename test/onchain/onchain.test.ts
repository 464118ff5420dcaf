import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Contract, ContractFactory, type InterfaceAbi, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AnvilInstance } from '../../src/chain/anvil.js'
import { execute } from '../../src/ir/execute.js'
import { modelId } from '../../src/ir/serialize.js'
import type { IrModel, OpKind } from '../../src/ir/types.js'
import {
  executeOnchain,
  inputCommitment,
  onchainProgramMatches,
  onchainResultOf,
  runOnchain,
} from '../../src/onchain/client.js'
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
import { startQuickAnvil } from '../optimistic/chain.js'
import { mlp, randomInputs, randomModel, rng } from '../optimistic/models.js'

const ROOT = join(import.meta.dirname, '..', '..')

/** models/tiny-mlp.onnx quantised on 16 random samples, and those samples' integer inputs. */
async function tinyMlp(): Promise<{ model: IrModel; inputs: bigint[][][] }> {
  const graph = lowerOnnx(parseOnnx(new Uint8Array(await readFile(join(ROOT, 'models', 'tiny-mlp.onnx')))))
  const calibration = samples(seeded(17), graph.inputs, 16)
  const model = quantize(graph, calibration)
  return { model, inputs: calibration.slice(0, 6).map((s) => quantizeInputs(model.inputs, s)) }
}

/**
 * Tiny models settled on chain outright (verifier-contracts/onchain): the contract's outputs
 * equal the reference executor's bit for bit on models/tiny-mlp.onnx and on random models
 * covering every primitive; an input outside the domain is refused; `run` records a result
 * that reads back; and the IR-only gas estimate is within 15 % of the measured gas.
 */
describe('models executed wholly on chain', () => {
  let anvil: AnvilInstance
  let wallet: Wallet
  let tiny: { model: IrModel; inputs: bigint[][][] }
  let tinyContract: Contract
  beforeAll(async () => {
    anvil = await startQuickAnvil()
    wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
    tiny = await tinyMlp()
    tinyContract = (await deployOnchainModel({ signer: wallet, model: tiny.model })).contract
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

  it('random models over every op kind: outputs equal the reference executor bit for bit', async () => {
    const kinds = new Set<OpKind>()
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const model = randomModel(seed, 10, { divIsqrt: true })
      for (const s of model.steps) kinds.add(s.op.op)
      const { contract } = await deployOnchainModel({ signer: wallet, model })
      const r = rng(seed + 100)
      for (let k = 0; k < 3; k++) {
        const input = randomInputs(model, r)
        expect(await executeOnchain(contract, input), `${model.name} input ${k}`).toEqual(execute(model, input).outputs)
      }
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
        await factory.deploy(modelId(tiny.model), [receipt!.contractAddress])
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
  })

  it('run records the result under the model id and input commitment; it reads back; a second run changes nothing', async () => {
    const input = tiny.inputs[1]
    const commitment = inputCommitment(input)
    expect(await tinyContract.modelId()).toBe(modelId(tiny.model))
    expect((await onchainResultOf(tinyContract, commitment)).recorded).toBe(false)
    const run = await runOnchain(tinyContract, input)
    const want = execute(tiny.model, input).outputs.flat()
    expect(run.inputCommitment).toBe(commitment)
    expect(run.outputs).toEqual(want)
    const recorded = await onchainResultOf(tinyContract, commitment)
    expect(recorded).toMatchObject({ recorded: true, submitter: wallet.address, outputs: want })
    const receipt = await anvil.provider.getTransactionReceipt(run.hash)
    const log = tinyContract.interface.parseLog(receipt!.logs[0])!
    expect(log.name).toBe('ResultRecorded')
    expect([log.args[0], log.args[1], log.args[2], [...log.args[3]]]).toEqual([
      modelId(tiny.model),
      commitment,
      wallet.address,
      want,
    ])
    const again = await runOnchain(tinyContract, input)
    expect(again.outputs).toEqual(want)
    expect((await anvil.provider.getTransactionReceipt(again.hash))!.logs).toHaveLength(0)
    expect((await onchainResultOf(tinyContract, commitment)).blockNumber).toBe(recorded.blockNumber)
  })

  it('the IR-only gas estimate is within 15 % of the measured run and deploy gas on three model shapes (outputs exact)', async () => {
    const random = randomModel(7, 12, { divIsqrt: true })
    const cases: { model: IrModel; input: bigint[][] }[] = [
      { model: tiny.model, input: tiny.inputs[2] },
      { model: mlp([96, 48, 10], 4), input: randomInputs(mlp([96, 48, 10], 4), rng(1)) },
      { model: random, input: randomInputs(random, rng(2)) },
    ]
    for (const { model, input } of cases) {
      const { contract, gasUsed: deployGas } = await deployOnchainModel({ signer: wallet, model })
      const { gasUsed, outputs } = await runOnchain(contract, input)
      // The MLP's rows (96 and 48 one-byte weights) take the 32-terms-a-word path, with a remainder.
      expect(outputs).toEqual(execute(model, input).outputs.flat())
      const estimate = estimateOnchainGas(model)
      expect(
        Math.abs(estimate.run - Number(gasUsed)) / Number(gasUsed),
        `${model.name}: run ${estimate.run} vs ${gasUsed}`,
      ).toBeLessThan(0.15)
      const deployed = Number(deployGas.total)
      expect(
        Math.abs(estimate.deploy - deployed) / deployed,
        `${model.name}: deploy ${estimate.deploy} vs ${deployed}`,
      ).toBeLessThan(0.15)
    }
  })
})
