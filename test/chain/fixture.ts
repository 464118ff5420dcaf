/**
 * Shared setup of the chain tests: tiny circuits with 1, 2 and 3 public signals (plus a
 * second 1-signal model with another circuit), a local anvil, one registry holding them all.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { id } from 'ethers'
import { type PackLayout, packLayout } from '../../src/circuit/packing.js'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { type Deployment, type ModelRegistration, deployModel } from '../../src/chain/deploy.js'
import { exportVerifier } from '../../src/chain/verifier.js'
import {
  type TinyCircuit,
  type TinyCircuitSpec,
  buildTinyCircuit,
  preparePtau,
  terminateSnarkjs,
} from '../helpers/tiny-circuit.js'

/** Inputs in [-8, 7]: 4-bit lanes. */
const IN_31: PackLayout = packLayout(3, -8n, 7n)
/** The same values two lanes per element, so the public input spans two elements. */
const IN_2PER: PackLayout = { count: 3, laneBits: 4, lo: -8n, lanesPerElement: 2 }
/** y = x² - 3 ∈ [-3, 61] (and x² ∈ [0, 64] for the other model): 7-bit lanes from -3. */
const OUT: PackLayout = packLayout(3, -3n, 64n)

export const SPECS = {
  /** 1 signal: private input, packed output. */
  priv1: { name: 'Priv1', inputVisibility: 'private', inputLayout: IN_31, outputLayout: OUT, shift: -3n },
  /** 2 signals: Poseidon-hashed input, packed output. */
  hashed2: { name: 'Hashed2', inputVisibility: 'hashed', inputLayout: IN_31, outputLayout: OUT, shift: -3n },
  /** 3 signals: public input packed in 2 elements, packed output. */
  pub3: { name: 'Pub3', inputVisibility: 'public', inputLayout: IN_2PER, outputLayout: OUT, shift: -3n },
  /** Another model with priv1's signal count: y = x². */
  other1: { name: 'Other1', inputVisibility: 'private', inputLayout: IN_31, outputLayout: OUT, shift: 0n },
} satisfies Record<string, TinyCircuitSpec>

export type ModelKey = keyof typeof SPECS

export interface DeployedTinyModel {
  circuit: TinyCircuit
  modelId: string
  registration: ModelRegistration
  exportDir: string
  deploymentPath: string
  deployment: Deployment
}

export interface ChainFixture {
  root: string
  anvil: AnvilInstance
  privateKey: string
  registryAddress: string
  models: Record<ModelKey, DeployedTinyModel>
  ptau: string
  teardown(): Promise<void>
}

export function registrationOf(spec: TinyCircuitSpec): ModelRegistration {
  return {
    inputVisibility: spec.inputVisibility,
    outputVisibility: 'public',
    inputLayout: spec.inputVisibility === 'public' ? spec.inputLayout : undefined,
    outputLayout: spec.outputLayout,
  }
}

export async function setupChainFixture(): Promise<ChainFixture> {
  const root = await mkdtemp(join(tmpdir(), 'veriml-chain-'))
  const ptau = await preparePtau(join(root, 'ptau'), 8)
  const circuits = {} as Record<ModelKey, TinyCircuit>
  for (const key of Object.keys(SPECS) as ModelKey[]) {
    circuits[key] = await buildTinyCircuit(SPECS[key], join(root, key), ptau)
  }
  const anvil = await startAnvil()
  const privateKey = anvil.accounts[0].privateKey
  const models = {} as Record<ModelKey, DeployedTinyModel>
  let registryAddress: string | undefined
  for (const key of Object.keys(SPECS) as ModelKey[]) {
    const modelId = id(`veriml test model ${key}`)
    const exportDir = join(root, key, 'contracts')
    await exportVerifier({ zkeyPath: circuits[key].zkeyPath, modelId, modelName: SPECS[key].name, outDir: exportDir })
    const registration = registrationOf(SPECS[key])
    const deploymentPath = join(root, key, 'deployment.json')
    const deployment = await deployModel({
      rpcUrl: anvil.rpcUrl,
      privateKey,
      exportDir,
      registration,
      registryAddress,
      deploymentPath,
    })
    registryAddress = deployment.registry.address
    models[key] = { circuit: circuits[key], modelId, registration, exportDir, deploymentPath, deployment }
  }
  return {
    root,
    anvil,
    privateKey,
    registryAddress: registryAddress as string,
    models,
    ptau,
    async teardown() {
      await anvil.stop()
      await terminateSnarkjs()
      await rm(root, { recursive: true, force: true })
    },
  }
}
