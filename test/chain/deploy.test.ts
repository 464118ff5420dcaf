import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet, id } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { verimlRegistry } from '../../src/chain/contracts.js'
import { deployModel, loadDeployment } from '../../src/chain/deploy.js'
import {
  ChainTransactionError,
  ContractNotDeployedError,
  DeploymentNotFoundError,
  MissingPrivateKeyError,
  ModelAlreadyRegisteredError,
  PublicSignalCountError,
  RpcUnreachableError,
} from '../../src/chain/errors.js'
import { exportVerifier } from '../../src/chain/verifier.js'
import { verifyOnChain } from '../../src/chain/verify-on-chain.js'
import { type TinyCircuit, buildTinyCircuit, preparePtau, terminateSnarkjs } from '../helpers/tiny-circuit.js'
import { SPECS, registrationOf } from './fixture.js'

let root: string
let anvil: AnvilInstance
let circuit: TinyCircuit
let exportDir: string
const modelId = id('veriml deploy test model')
const registration = registrationOf(SPECS.priv1)

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'veriml-deploy-'))
  circuit = await buildTinyCircuit(SPECS.priv1, join(root, 'priv1'), await preparePtau(join(root, 'ptau'), 8))
  exportDir = join(root, 'contracts')
  await exportVerifier({ zkeyPath: circuit.zkeyPath, modelId, outDir: exportDir })
  anvil = await startAnvil()
})

afterAll(async () => {
  await anvil?.stop()
  await terminateSnarkjs()
  if (root) await rm(root, { recursive: true, force: true })
})

describe('deployModel', () => {
  let deploymentPath: string

  it('deploys verifier + registry, registers the model and writes deployment.json', async () => {
    deploymentPath = join(root, 'deployment.json')
    const key = anvil.accounts[0].privateKey
    const deployment = await deployModel({
      rpcUrl: anvil.rpcUrl,
      privateKey: key,
      exportDir,
      registration,
      deploymentPath,
    })
    const onDisk = JSON.parse(await readFile(deploymentPath, 'utf8'))
    expect(onDisk).toMatchObject({
      version: 1,
      chainId: '31337',
      modelId,
      deployer: anvil.accounts[0].address,
      compiler: { optimizer: { enabled: true, runs: 200 }, evmVersion: 'cancun' },
      registry: { address: deployment.registry.address, reused: false },
      verifier: { address: deployment.verifier.address, contractName: deployment.verifier.contractName },
      registration: { publicSignalCount: 1, inputVisibility: 'private', outputVisibility: 'public' },
    })
    for (const part of [onDisk.registry, onDisk.verifier, onDisk.registration]) {
      expect(part.txHash).toMatch(/^0x[0-9a-f]{64}$/)
      expect(BigInt(part.gasUsed)).toBeGreaterThan(21_000n)
    }
    expect(JSON.stringify(onDisk)).not.toContain(key.slice(2))
    expect(await loadDeployment(deploymentPath)).toEqual(deployment)
    const registered = await verimlRegistry(deployment.registry.address, anvil.provider).model(modelId)
    expect(registered.verifier).toBe(deployment.verifier.address)
    expect(registered.publicSignalCount).toBe(1n)
  })

  it('verifies on chain from deployment.json, with the key from VERIML_PRIVATE_KEY', async () => {
    const { proof, publicSignals } = await circuit.prove([1n, -2n, 3n])
    process.env.VERIML_PRIVATE_KEY = anvil.accounts[1].privateKey
    try {
      const result = await verifyOnChain({ rpcUrl: anvil.rpcUrl, deploymentPath, proof, publicSignals })
      expect(result.accepted).toBe(true)
    } finally {
      delete process.env.VERIML_PRIVATE_KEY
    }
    await expect(verifyOnChain({ rpcUrl: anvil.rpcUrl, deploymentPath, proof, publicSignals })).rejects.toThrow(
      MissingPrivateKeyError,
    )
  })

  it('writes nothing when a step fails', async () => {
    const { registry } = await loadDeployment(deploymentPath)
    const failedPath = join(root, 'failed', 'deployment.json')
    const base = {
      rpcUrl: anvil.rpcUrl,
      privateKey: anvil.accounts[0].privateKey,
      exportDir,
      deploymentPath: failedPath,
    }
    // Same model id in the same registry: the verifier is deployed, the registration reverts.
    await expect(deployModel({ ...base, registration, registryAddress: registry.address })).rejects.toThrow(
      ModelAlreadyRegisteredError,
    )
    // Not the registry's owner.
    await expect(
      deployModel({
        ...base,
        privateKey: anvil.accounts[2].privateKey,
        registration,
        registryAddress: registry.address,
      }),
    ).rejects.toThrow(ChainTransactionError)
    // A layout that implies 2 signals for a 1-signal verifier: refused before any transaction.
    await expect(
      deployModel({ ...base, registration: { ...registration, inputVisibility: 'hashed' } }),
    ).rejects.toThrow(PublicSignalCountError)
    await expect(
      deployModel({ ...base, registration, registryAddress: Wallet.createRandom().address }),
    ).rejects.toThrow(ContractNotDeployedError)
    expect(existsSync(failedPath)).toBe(false)
    // A failure never touches an existing deployment.json either.
    const before = await readFile(deploymentPath, 'utf8')
    await expect(
      deployModel({ ...base, deploymentPath, registration, registryAddress: registry.address }),
    ).rejects.toThrow(ModelAlreadyRegisteredError)
    expect(await readFile(deploymentPath, 'utf8')).toBe(before)
  })

  it('reports an unreachable RPC, a missing deployment and a bad key', async () => {
    const { proof, publicSignals } = await circuit.prove([0n, 0n, 0n])
    await expect(
      deployModel({
        rpcUrl: 'http://127.0.0.1:9',
        privateKey: anvil.accounts[0].privateKey,
        exportDir,
        registration,
        deploymentPath: join(root, 'x.json'),
      }),
    ).rejects.toThrow(RpcUnreachableError)
    await expect(verifyOnChain({ rpcUrl: 'http://127.0.0.1:9', deploymentPath, proof, publicSignals })).rejects.toThrow(
      RpcUnreachableError,
    )
    await expect(
      verifyOnChain({ rpcUrl: anvil.rpcUrl, deploymentPath: join(root, 'none.json'), proof, publicSignals }),
    ).rejects.toThrow(DeploymentNotFoundError)
    await writeFile(join(root, 'bad.json'), '{"hello": 1}')
    await expect(
      verifyOnChain({ rpcUrl: anvil.rpcUrl, deploymentPath: join(root, 'bad.json'), proof, publicSignals }),
    ).rejects.toThrow(DeploymentNotFoundError)
    const badKey = '0x1234'
    const error = await verifyOnChain({
      rpcUrl: anvil.rpcUrl,
      privateKey: badKey,
      deploymentPath,
      proof,
      publicSignals,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MissingPrivateKeyError)
    expect(String((error as Error).message)).not.toContain(badKey)
  })
})
