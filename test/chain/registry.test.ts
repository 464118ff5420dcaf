import { fileURLToPath } from 'node:url'
import { Contract, ContractFactory, Interface, Wallet, ZeroAddress, ZeroHash, keccak256, solidityPacked } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pack } from '../../src/circuit/packing.js'
import { SCALAR_FIELD, calldata, inferenceId } from '../../src/chain/calldata.js'
import { proofArguments } from '../../src/prove/proof.js'
import {
  type ModelConfigStruct,
  VISIBILITY_CODE,
  decodeRegistryError,
  groth16VerifierAbi,
  inferenceConsumer,
  inferenceConsumerAbi,
  revertData,
  verimlRegistry,
  verimlRegistryInterface,
} from '../../src/chain/contracts.js'
import {
  InferenceReplayError,
  ModelNotRegisteredError,
  ProofRejectedError,
  PublicSignalCountError,
  RegistryOwnerError,
  VerifierOutOfGasError,
} from '../../src/chain/errors.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { CONTRACTS_DIR } from '../../src/chain/verifier.js'
import { verifyOnChain } from '../../src/chain/verify-on-chain.js'
import type { Groth16Proof } from '../helpers/tiny-circuit.js'
import { tinyModel } from '../helpers/tiny-circuit.js'
import { type ChainFixture, type ModelKey, setupChainFixture } from './fixture.js'

const X = [-8n, 3n, 7n]
const gasReport: string[] = []

let f: ChainFixture
const proofs = {} as Record<ModelKey, { proof: Groth16Proof; publicSignals: string[] }>

beforeAll(async () => {
  f = await setupChainFixture()
  for (const key of Object.keys(f.models) as ModelKey[]) proofs[key] = await f.models[key].circuit.prove(X)
  const first = f.models.priv1.deployment
  gasReport.push(`deploy registry: ${first.registry.gasUsed}`)
  for (const key of Object.keys(f.models) as ModelKey[]) {
    gasReport.push(`registerModel ${key}: ${f.models[key].deployment.registration.gasUsed}`)
  }
})

afterAll(async () => {
  if (gasReport.length > 0) console.log(`registry gas (tiny circuits):\n  ${gasReport.join('\n  ')}`)
  await f?.teardown()
})

function submit(
  key: ModelKey,
  overrides: {
    proof?: Groth16Proof
    publicSignals?: readonly (string | bigint)[]
    modelId?: string
    gasLimit?: bigint
  } = {},
) {
  return verifyOnChain({
    rpcUrl: f.anvil.rpcUrl,
    privateKey: f.privateKey,
    registryAddress: f.registryAddress,
    modelId: overrides.modelId ?? f.models[key].modelId,
    proof: overrides.proof ?? proofs[key].proof,
    publicSignals: overrides.publicSignals ?? proofs[key].publicSignals,
    gasLimit: overrides.gasLimit,
  })
}

const registry = () => verimlRegistry(f.registryAddress, f.anvil.provider)
const consumerInterface = new Interface(inferenceConsumerAbi)

/** The custom error a call reverted with (undefined when it did not revert). */
async function revertName(
  call: Promise<unknown>,
  iface: Interface = verimlRegistryInterface,
): Promise<string | undefined> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  const data = error === undefined ? undefined : revertData(error)
  return data === undefined
    ? error === undefined
      ? undefined
      : 'unparsed revert'
    : (iface.parseError(data)?.name ?? data)
}

// Tests run in file order: the rejections come before the same statements are recorded, so
// none of them can pass as a replay.
describe('VerimlRegistry.verifyInference', () => {
  it('public signals follow the packing layout', () => {
    const { pub3, priv1 } = f.models
    const expectedOut = pack(tinyModel(X, -3n), priv1.circuit.spec.outputLayout).map(String)
    expect(proofs.priv1.publicSignals).toEqual(expectedOut)
    expect(proofs.pub3.publicSignals).toEqual([...pack(X, pub3.circuit.spec.inputLayout).map(String), ...expectedOut])
    expect(proofs.hashed2.publicSignals).toHaveLength(2)
  })

  it('rejects a proof for another model with the same signal count', async () => {
    // Runs before priv1's proof is recorded, so a rejection cannot be a replay.
    await expect(submit('priv1', { modelId: f.models.other1.modelId })).rejects.toThrow(ProofRejectedError)
  })

  it('rejects a proof for a model with another signal count', async () => {
    await expect(submit('priv1', { modelId: f.models.pub3.modelId })).rejects.toThrow(PublicSignalCountError)
  })

  it('rejects a proof for an unregistered model id', async () => {
    await expect(submit('priv1', { modelId: keccak256('0x1234') })).rejects.toThrow(ModelNotRegisteredError)
  })

  it('rejects each tampered public signal', async () => {
    for (const key of ['priv1', 'hashed2', 'pub3'] as const) {
      const signals = proofs[key].publicSignals
      for (let i = 0; i < signals.length; i++) {
        const plusOne = signals.map((s, j) => (j === i ? BigInt(s) + 1n : BigInt(s)))
        await expect(submit(key, { publicSignals: plusOne }), `${key} signal ${i} + 1`).rejects.toThrow(
          ProofRejectedError,
        )
        // The same field element, written non-canonically: must not record a second id.
        const aliased = signals.map((s, j) => (j === i ? BigInt(s) + SCALAR_FIELD : BigInt(s)))
        const args = proofArguments(proofs[key].proof, signals)
        expect(
          await revertName(
            registry().verifyInference.staticCall(f.models[key].modelId, args.a, args.b, args.c, aliased),
          ),
          `${key} signal ${i} + r`,
        ).toBe('SignalNotInField')
      }
    }
  })

  it('rejects a tampered proof', async () => {
    const p = proofs.pub3.proof
    // An off-curve point (the precompile fails) and a valid point from another proof.
    const offCurve = { ...p, pi_a: [String(BigInt(p.pi_a[0]) + 1n), p.pi_a[1], p.pi_a[2]] }
    await expect(submit('pub3', { proof: offCurve })).rejects.toThrow(ProofRejectedError)
    const other = await f.models.pub3.circuit.prove([1n, 2n, 3n])
    await expect(submit('pub3', { proof: { ...p, pi_c: other.proof.pi_c } })).rejects.toThrow(ProofRejectedError)
    const swappedB = { ...p, pi_b: [p.pi_b[1], p.pi_b[0], p.pi_b[2]] }
    await expect(submit('pub3', { proof: swappedB })).rejects.toThrow(ProofRejectedError)
  })

  it('decodes verifyInference (the fallback) as Solidity would: anything malformed reverts', async () => {
    const { modelId } = f.models.hashed2
    const { data } = calldata(proofs.hashed2.proof, proofs.hashed2.publicSignals, modelId)
    const from = f.anvil.accounts[0].address
    const outcome = (tx: { data: string; value?: bigint }) =>
      f.anvil.provider.call({ to: f.registryAddress, from, ...tx }).then(
        (out) => out,
        (e: unknown) => `revert ${revertData(e) ?? ''}`,
      )
    // The well-formed call succeeds (a dry run: nothing is recorded).
    expect(await outcome({ data })).toBe(inferenceId(modelId, proofs.hashed2.publicSignals.map(BigInt), 1))
    const word = (i: number) => 4 + 32 * i
    const withWord = (i: number, v: bigint) =>
      `${data.slice(0, 2 + 2 * word(i))}${v.toString(16).padStart(64, '0')}${data.slice(2 + 2 * word(i + 1))}`
    const cases: [string, { data: string; value?: bigint }][] = [
      ['another selector', { data: `0x12345678${data.slice(10)}` }],
      ['no calldata', { data: '0x' }],
      ['value sent', { data, value: 1n }],
      ['a head cut short', { data: data.slice(0, 2 + 2 * word(9)) }],
      ['an array longer than the calldata', { data: withWord(10, 3n) }],
      ['an array offset past the calldata', { data: withWord(9, 2n ** 64n) }],
      ['one byte short', { data: data.slice(0, -2) }],
    ]
    for (const [what, tx] of cases) expect(await outcome(tx), what).toMatch(/^revert (0x)?$/)
  })

  it('reports a too-low gas limit as out of gas, not as a rejected proof', async () => {
    await expect(submit('priv1', { gasLimit: 150_000n })).rejects.toThrow(VerifierOutOfGasError)
  })

  it('estimates gas through the registry (snarkjs alone underestimates)', async () => {
    const { modelId } = f.models.hashed2
    const args = calldata(proofs.hashed2.proof, proofs.hashed2.publicSignals, modelId)
    const throughRegistry = await f.anvil.provider.estimateGas({
      to: f.registryAddress,
      data: args.data,
      from: f.anvil.accounts[0].address,
    })
    const verifier = f.models.hashed2.deployment.verifier.address
    const direct = await f.anvil.provider.estimateGas({ to: verifier, data: args.verifierData })
    // The direct call "succeeds" (returns false) at any gas, so estimation finds the floor.
    expect(direct).toBeLessThan(100_000n)
    expect(throughRegistry).toBeGreaterThan(200_000n)
    const direct2 = new Interface(groth16VerifierAbi(2)).decodeFunctionResult(
      'verifyProof',
      await f.anvil.provider.call({ to: verifier, data: args.verifierData, gasLimit: direct }),
    )
    expect(direct2[0]).toBe(false)
    const sent = await submit('hashed2', { gasLimit: throughRegistry })
    expect(sent.accepted).toBe(true)
    if (sent.accepted) {
      expect(sent.gasUsed).toBeLessThanOrEqual(throughRegistry)
      gasReport.push(
        `2 signals (hashed input + packed output): ${sent.gasUsed} (estimate ${throughRegistry}, direct verifier estimate ${direct})`,
      )
    }
  })

  it('accepts a valid proof, records its statement (how, when, outputs hash), with no event', async () => {
    // priv1: a private input, so the statement is the whole signal vector; pub3: 2 input signals.
    for (const [key, inputCount] of [
      ['priv1', 0],
      ['pub3', 2],
    ] as const) {
      const result = await submit(key)
      expect(result.accepted).toBe(true)
      if (!result.accepted) continue
      const signals = proofs[key].publicSignals.map(BigInt)
      const { modelId } = f.models[key]
      const words = (s: bigint[]) => keccak256(solidityPacked(['uint256[]'], [s]))
      const inputCommitment = words(inputCount === 0 ? signals : signals.slice(0, inputCount))
      const expectedId = keccak256(solidityPacked(['bytes32', 'bytes32'], [modelId, inputCommitment]))
      expect(result.inferenceId).toBe(expectedId)
      expect(await registry().isRecorded(expectedId)).toBe(true)
      const block = await f.anvil.provider.getBlock(result.blockNumber)
      const outputsHash = words(signals.slice(inputCount))
      const truncated = `${outputsHash.slice(0, 54)}${'0'.repeat(12)}`
      expect([...(await registry().resultOf(modelId, inputCommitment))]).toEqual([
        1n,
        BigInt(block!.timestamp),
        truncated,
      ])
      expect(await registry().outputsMatch(expectedId, outputsHash)).toBe(true)
      expect(await registry().outputsMatch(expectedId, keccak256(solidityPacked(['uint256[]'], [[1n]])))).toBe(false)
      const receipt = await f.anvil.provider.getTransactionReceipt(result.txHash)
      // No log (the record is in storage), and the statement in the transaction's calldata.
      expect(receipt?.logs ?? []).toHaveLength(0)
      const tx = await f.anvil.provider.getTransaction(result.txHash)
      const decoded = verimlRegistryInterface.decodeFunctionData('verifyInference', tx?.data ?? '0x')
      expect(decoded.pubSignals.map(BigInt)).toEqual(signals)
      gasReport.push(
        `${signals.length} signal(s) (${f.models[key].circuit.spec.inputVisibility} input + packed output): ${result.gasUsed}`,
      )
    }
  })

  it('checkInference verifies and decodes without recording, for consumers acting in the same transaction', async () => {
    const key = 'hashed2'
    const { a, b, c, pubSignals } = proofArguments(proofs[key].proof, proofs[key].publicSignals)
    const [, outputs] = await registry().checkInference.staticCall(f.models[key].modelId, a, b, c, pubSignals)
    expect(outputs).toEqual(tinyModel(X, -3n))
    // A statement no test records: checking it in a transaction leaves no record.
    const o = proofArguments(proofs.other1.proof, proofs.other1.publicSignals)
    const signer = verimlRegistry(f.registryAddress, new Wallet(f.privateKey, f.anvil.provider))
    const tx = await signer.checkInference.send(f.models.other1.modelId, o.a, o.b, o.c, o.pubSignals)
    await tx.wait()
    const [otherId] = await registry().statementIdOf(f.models.other1.modelId, o.pubSignals)
    expect(await registry().isRecorded(otherId)).toBe(false)
    const gas = await registry().checkInference.estimateGas(f.models[key].modelId, a, b, c, pubSignals)
    gasReport.push(`checkInference, 2 signals (no record): ${gas}`)
    const tampered = [...pubSignals]
    tampered[1] += 1n
    expect(await revertName(registry().checkInference.staticCall(f.models[key].modelId, a, b, c, tampered))).toBe(
      'ProofRejected',
    )
  })

  it('decodes recorded outputs (and public inputs) to the packed values', async () => {
    const expected = tinyModel(X, -3n)
    for (const key of ['priv1', 'pub3', 'hashed2'] as const) {
      expect(await registry().decodeOutputs(f.models[key].modelId, proofs[key].publicSignals.map(BigInt))).toEqual(
        expected,
      )
    }
    expect(await registry().decodeInputs(f.models.pub3.modelId, proofs.pub3.publicSignals.map(BigInt))).toEqual(X)
    expect(
      await revertName(registry().decodeInputs(f.models.hashed2.modelId, proofs.hashed2.publicSignals.map(BigInt))),
    ).toBe('PartNotPublic')
    // Only recorded inferences are decoded.
    expect(
      await revertName(registry().decodeOutputs(f.models.other1.modelId, proofs.other1.publicSignals.map(BigInt))),
    ).toBe('InferenceNotRecorded')
  })

  it('a proof stands: it overwrites a finalised optimistic result, never a deterministic one it contradicts', async () => {
    const { modelId } = f.models.pub3
    const root = fileURLToPath(new URL('../..', import.meta.url))
    const c = compileSolidity({ baseDir: root, files: ['test/optimistic/HubSettler.sol'] }).contracts.HubSettler
    const owner = new Wallet(f.privateKey, f.anvil.provider)
    const deploySettler = async (how: number) => {
      const s = await (await new ContractFactory(c.abi as never[], c.bytecode, owner).deploy()).waitForDeployment()
      await (await verimlRegistry(f.registryAddress, owner).bindSettler(modelId, await s.getAddress(), how)).wait()
      return new Contract(await s.getAddress(), c.abi as never[], owner)
    }
    const words = (s: bigint[]) => keccak256(solidityPacked(['uint256[]'], [s]))
    const wrong = keccak256('0x01')
    // A claim finalised with wrong outputs (nobody challenged): the proof of the statement overwrites it.
    const optimistic = await deploySettler(2)
    const p = await f.models.pub3.circuit.prove([1n, 2n, 3n])
    const signals = p.publicSignals.map(BigInt)
    await (await optimistic.record(f.registryAddress, modelId, words(signals.slice(0, 2)), wrong)).wait()
    expect((await registry().resultOf(modelId, words(signals.slice(0, 2))))[0]).toBe(2n)
    const proven = await submit('pub3', { proof: p.proof, publicSignals: p.publicSignals })
    expect(proven.accepted).toBe(true)
    expect((await registry().resultOf(modelId, words(signals.slice(0, 2))))[0]).toBe(1n)
    expect(await registry().outputsMatch(proven.accepted ? proven.inferenceId : '', words(signals.slice(2)))).toBe(true)
    // A later optimistic result of the proven statement is dropped: the record stays the proof's (1), not these outputs.
    expect([
      ...(await optimistic.record.staticCall(f.registryAddress, modelId, words(signals.slice(0, 2)), wrong)),
    ]).toEqual([1n, false])
    // A deterministic path (an on-chain run) recorded other outputs first: the proof is refused, the record stays.
    const onchain = await deploySettler(3)
    const q = await f.models.pub3.circuit.prove([0n, -1n, 5n])
    const qSignals = q.publicSignals.map(BigInt)
    await (await onchain.record(f.registryAddress, modelId, words(qSignals.slice(0, 2)), wrong)).wait()
    const { a, b, c: cc } = proofArguments(q.proof, q.publicSignals)
    expect(await revertName(registry().verifyInference.staticCall(modelId, a, b, cc, qSignals))).toBe(
      'ConflictingProof',
    )
    expect((await registry().resultOf(modelId, words(qSignals.slice(0, 2))))[0]).toBe(3n)
  })

  it('refuses a replay, also with a fresh proof of the same statement', async () => {
    await expect(submit('priv1')).rejects.toThrow(InferenceReplayError)
    const fresh = await f.models.priv1.circuit.prove(X)
    expect(fresh.proof.pi_a).not.toEqual(proofs.priv1.proof.pi_a)
    await expect(submit('priv1', { proof: fresh.proof })).rejects.toThrow(InferenceReplayError)
  })
})

describe('InferenceConsumer', () => {
  it('stores the argmax class of a verified inference only', async () => {
    const compiled = compileSolidity({ baseDir: CONTRACTS_DIR, files: ['examples/InferenceConsumer.sol'] }).contracts
      .InferenceConsumer
    const wallet = new Wallet(f.privateKey, f.anvil.provider)
    const factory = new ContractFactory(compiled.abi as never[], compiled.bytecode, wallet)
    // A private-input model cannot key classes by input.
    expect(await revertName(factory.deploy(f.registryAddress, f.models.priv1.modelId), consumerInterface)).toBe(
      'ModelNotUsable',
    )

    const deployed = await factory.deploy(f.registryAddress, f.models.pub3.modelId)
    await deployed.waitForDeployment()
    const consumer = inferenceConsumer(await deployed.getAddress(), wallet)
    const signals = proofs.pub3.publicSignals.map(BigInt)
    await (await consumer.consume(signals)).wait()
    const inputKey = keccak256(solidityPacked(['uint256[]'], [signals.slice(0, 2)]))
    const scores = tinyModel(X, -3n)
    const argmax = scores.indexOf(scores.reduce((a, b) => (b > a ? b : a)))
    expect(await consumer.classOf(inputKey)).toEqual([true, BigInt(argmax)])

    // An unverified statement (another input) is refused.
    const unverified = [...pack([1n, 2n, 3n], f.models.pub3.circuit.spec.inputLayout), signals[2]]
    expect(await revertName(consumer.consume.staticCall(unverified), consumerInterface)).toBe('InferenceNotVerified')
  })
})

describe('VerimlRegistry ownership and registration', () => {
  // A registry of its own: these tests move ownership, which the fixture's registry must keep.
  let address: string
  const wallet = (i: number) => new Wallet(f.anvil.accounts[i].privateKey, f.anvil.provider)
  const asAccount = (i: number) => verimlRegistry(address, wallet(i))
  const newModelId = (label: string) => keccak256(solidityPacked(['string'], [`registration test ${label}`]))
  /** A valid configuration: priv1's 1-signal verifier, private input, packed output. */
  const validConfig = (): ModelConfigStruct => ({
    verifier: f.models.priv1.deployment.verifier.address,
    inputVisibility: VISIBILITY_CODE.private,
    outputVisibility: VISIBILITY_CODE.public,
    inputLayout: { count: 0, laneBits: 0, lanesPerElement: 0, lo: 0n },
    outputLayout: { ...f.models.priv1.registration.outputLayout! },
    weightCommitment: 0n,
  })
  /** A dry-run call, its revert decoded as deployModel decodes it. */
  const dryRun = <T>(call: Promise<T>) =>
    call.catch((error: unknown) => {
      throw decodeRegistryError(error, { action: 'registerModel', rpcUrl: f.anvil.rpcUrl })
    })
  const registerAs = (i: number, modelId: string, config: ModelConfigStruct) =>
    dryRun(asAccount(i).registerModel.staticCall(modelId, config))

  beforeAll(async () => {
    const compiled = compileSolidity({ baseDir: CONTRACTS_DIR, files: ['VerimlRegistry.sol'] }).contracts.VerimlRegistry
    const factory = new ContractFactory(compiled.abi as never[], compiled.bytecode, wallet(0))
    const deployed = await factory.deploy(f.anvil.accounts[0].address)
    await deployed.waitForDeployment()
    address = await deployed.getAddress()
  })

  it('refuses owner-only calls from anyone else', async () => {
    expect(await asAccount(0).owner()).toBe(f.anvil.accounts[0].address)
    await expect(registerAs(1, newModelId('a'), validConfig())).rejects.toThrow(RegistryOwnerError)
    await expect(dryRun(asAccount(1).transferOwnership.staticCall(f.anvil.accounts[1].address))).rejects.toThrow(
      RegistryOwnerError,
    )
    expect(await revertName(asAccount(1).registerModel.staticCall(newModelId('a'), validConfig()))).toBe('NotOwner')
    expect(await registerAs(0, newModelId('a'), validConfig())).toBe(1n)
  })

  it('moves ownership in two steps: only the named account accepts, the old owner loses every right', async () => {
    const [owner, next, third] = f.anvil.accounts
    const started = await (await asAccount(0).transferOwnership(next.address)).wait()
    const startedLogs = (started?.logs ?? []).map((l) => verimlRegistryInterface.parseLog(l))
    expect(startedLogs.map((l) => [l?.name, ...(l?.args ?? [])])).toEqual([
      ['OwnershipTransferStarted', owner.address, next.address],
    ])
    // Until accepted, nothing changes: the owner still registers.
    expect(await asAccount(0).owner()).toBe(owner.address)
    expect(await asAccount(0).pendingOwner()).toBe(next.address)
    expect(await registerAs(0, newModelId('b'), validConfig())).toBe(1n)
    // A third party cannot take it, and cannot name itself either.
    await expect(dryRun(asAccount(2).acceptOwnership.staticCall())).rejects.toThrow(RegistryOwnerError)
    expect(await revertName(asAccount(2).acceptOwnership.staticCall())).toBe('NotPendingOwner')
    expect(await revertName(asAccount(2).transferOwnership.staticCall(third.address))).toBe('NotOwner')

    const accepted = await (await asAccount(1).acceptOwnership()).wait()
    const acceptedLogs = (accepted?.logs ?? []).map((l) => verimlRegistryInterface.parseLog(l))
    expect(acceptedLogs.map((l) => [l?.name, ...(l?.args ?? [])])).toEqual([
      ['OwnershipTransferred', owner.address, next.address],
    ])
    expect(await asAccount(0).owner()).toBe(next.address)
    expect(await asAccount(0).pendingOwner()).toBe(ZeroAddress)
    // The old owner can neither register nor take ownership back; the new one registers.
    await expect(registerAs(0, newModelId('b'), validConfig())).rejects.toThrow(RegistryOwnerError)
    expect(await revertName(asAccount(0).transferOwnership.staticCall(owner.address))).toBe('NotOwner')
    expect(await revertName(asAccount(0).acceptOwnership.staticCall())).toBe('NotPendingOwner')
    await (await asAccount(1).registerModel(newModelId('b'), validConfig())).wait()
    expect((await asAccount(0).model(newModelId('b'))).verifier).toBe(validConfig().verifier)
  })

  it('refuses each invalid configuration with its own error', async () => {
    const owner = 1 // since the previous test
    const base = validConfig()
    const out = base.outputLayout
    const cases: [string, string, ModelConfigStruct, string][] = [
      ['zero model id', ZeroHash, base, 'ZeroModelId'],
      [
        'verifier without code',
        newModelId('c'),
        { ...base, verifier: Wallet.createRandom().address },
        'VerifierHasNoCode',
      ],
      ['private output', newModelId('c'), { ...base, outputVisibility: VISIBILITY_CODE.private }, 'OutputNotExposed'],
      ['layout for a private input', newModelId('c'), { ...base, inputLayout: { ...out } }, 'LayoutForUnpackedPart'],
      ['no output values', newModelId('c'), { ...base, outputLayout: { ...out, count: 0 } }, 'EmptyLayout'],
      ['zero-bit lanes', newModelId('c'), { ...base, outputLayout: { ...out, laneBits: 0 } }, 'EmptyLayout'],
      [
        'no lanes per element',
        newModelId('c'),
        { ...base, outputLayout: { ...out, lanesPerElement: 0 } },
        'EmptyLayout',
      ],
      [
        'element over 252 bits',
        newModelId('c'),
        { ...base, outputLayout: { ...out, laneBits: 127, lanesPerElement: 2 } },
        'ElementTooWide',
      ],
      [
        'lanes overflowing int256',
        newModelId('c'),
        { ...base, outputLayout: { ...out, lo: 2n ** 255n - 1n - 126n } },
        'LaneRangeOverflow',
      ],
      [
        'more signals than a uint16',
        newModelId('c'),
        { ...base, outputLayout: { ...out, count: 2 ** 32 - 1, lanesPerElement: 1 } },
        'TooManyPublicSignals',
      ],
      [
        'verifier of another arity',
        newModelId('c'),
        { ...base, inputVisibility: VISIBILITY_CODE.hashed },
        'VerifierProbeFailed',
      ],
      ['already registered', newModelId('b'), base, 'ModelAlreadyRegistered'],
    ]
    for (const [what, modelId, config, errorName] of cases) {
      expect(await revertName(asAccount(owner).registerModel.staticCall(modelId, config)), what).toBe(errorName)
    }
    // The largest lo that still fits is accepted: the overflow check is exact.
    const edge = { ...base, outputLayout: { ...out, lo: 2n ** 255n - 1n - 127n } }
    expect(await registerAs(owner, newModelId('c'), edge)).toBe(1n)
  })

  it('decodes each refusal into a message that names the reason', async () => {
    const base = validConfig()
    const out = base.outputLayout
    await expect(
      registerAs(1, newModelId('d'), { ...base, outputLayout: { ...out, laneBits: 127, lanesPerElement: 2 } }),
    ).rejects.toMatchObject({
      errorName: 'ElementTooWide',
      shortMessage: expect.stringContaining('takes 254 bits, more than the 252'),
    })
    await expect(registerAs(1, newModelId('d'), { ...base, inputLayout: { ...out } })).rejects.toMatchObject({
      errorName: 'LayoutForUnpackedPart',
      shortMessage: expect.stringContaining('the input is private, yet a packing layout was given'),
    })
    await expect(
      registerAs(1, newModelId('d'), { ...base, outputLayout: { ...out, laneBits: 0 } }),
    ).rejects.toMatchObject({
      errorName: 'EmptyLayout',
      shortMessage: expect.stringContaining(`count ${out.count}, laneBits 0, lanesPerElement ${out.lanesPerElement}`),
    })
    await expect(
      registerAs(1, newModelId('d'), { ...base, outputLayout: { ...out, lo: 2n ** 255n - 1n } }),
    ).rejects.toMatchObject({ errorName: 'LaneRangeOverflow' })
    await expect(
      registerAs(1, newModelId('d'), { ...base, inputVisibility: VISIBILITY_CODE.hashed }),
    ).rejects.toMatchObject({
      errorName: 'VerifierProbeFailed',
      shortMessage: expect.stringContaining('with 2 public signals'),
    })
  })
})
