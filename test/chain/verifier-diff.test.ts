/**
 * Differential test of veriml's Groth16 verifier template against snarkjs's: both deployed side
 * by side for the same keys (1, 2 and 10 public signals), fed random valid proofs and tampered
 * ones at the calldata level, must give the same answer (true, false or a revert) every time.
 * Also the gas of both, alone and through the registry (verify + record).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ContractFactory, Wallet, concat, id, toBeHex } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PackLayout } from '../../src/circuit/packing.js'
import { type AnvilInstance, startAnvil } from '../../src/chain/anvil.js'
import { SCALAR_FIELD } from '../../src/chain/calldata.js'
import { deployModel } from '../../src/chain/deploy.js'
import { verifyProofSelector } from '../../src/chain/groth16-verifier.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { type VerifierTemplate, exportVerifier } from '../../src/chain/verifier.js'
import { verifyOnChain } from '../../src/chain/verify-on-chain.js'
import { proofArguments } from '../../src/prove/proof.js'
import {
  type TinyCircuit,
  type TinyCircuitSpec,
  buildTinyCircuit,
  preparePtau,
  terminateSnarkjs,
} from '../helpers/tiny-circuit.js'
import { SPECS, registrationOf } from './fixture.js'

/** BN254 base field: proof coordinates are below it. */
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n
const R = SCALAR_FIELD

/** 10 signals: 5 public input elements (one lane each), 5 output elements. */
const ONE_LANE_IN: PackLayout = { count: 5, laneBits: 4, lo: -8n, lanesPerElement: 1 }
const ONE_LANE_OUT: PackLayout = { count: 5, laneBits: 7, lo: -3n, lanesPerElement: 1 }
const CIRCUITS = {
  one: SPECS.priv1,
  two: SPECS.hashed2,
  ten: { name: 'Pub10', inputVisibility: 'public', inputLayout: ONE_LANE_IN, outputLayout: ONE_LANE_OUT, shift: -3n },
} satisfies Record<string, TinyCircuitSpec>
type CircuitKey = keyof typeof CIRCUITS
const TEMPLATES: readonly VerifierTemplate[] = ['snarkjs', 'veriml']
const VALID_PER_CIRCUIT = 3

interface Deployed {
  circuit: TinyCircuit
  exportDirs: Record<VerifierTemplate, string>
  address: Record<VerifierTemplate, string>
  /** Proof words (a, b, c: 8) then the signals, per valid proof. */
  valid: bigint[][]
}

let root: string
let anvil: AnvilInstance
let wallet: Wallet
const deployed = {} as Record<CircuitKey, Deployed>
const gasReport: string[] = []

/** x in [-8, 7], as the fixture's layouts allow. */
function randomInput(count: number): bigint[] {
  return Array.from({ length: count }, () => BigInt(Math.floor(Math.random() * 16) - 8))
}

function words(proof: Parameters<typeof proofArguments>[0], signals: readonly string[]): bigint[] {
  const { a, b, c, pubSignals } = proofArguments(proof, signals)
  return [...a, ...b[0], ...b[1], ...c, ...pubSignals]
}

function calldataOf(n: number, w: readonly bigint[]): string {
  return concat([verifyProofSelector(n), ...w.map((v) => toBeHex(v, 32))])
}

/** The verifier's answer: its returned word, or 'revert'. */
function answer(to: string, data: string, value = 0n): Promise<string> {
  return anvil.provider.call({ to, data, value }).then(
    (out) => out,
    () => 'revert',
  )
}

const TRUE = toBeHex(1n, 32)

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'veriml-verifier-diff-'))
  const ptau = await preparePtau(join(root, 'ptau'), 8)
  anvil = await startAnvil()
  wallet = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
  for (const key of Object.keys(CIRCUITS) as CircuitKey[]) {
    const spec: TinyCircuitSpec = CIRCUITS[key]
    const circuit = await buildTinyCircuit(spec, join(root, key), ptau)
    const exportDirs = {} as Record<VerifierTemplate, string>
    const address = {} as Record<VerifierTemplate, string>
    for (const verifier of TEMPLATES) {
      const outDir = join(root, key, verifier)
      const r = await exportVerifier({
        zkeyPath: circuit.zkeyPath,
        modelId: id(`verifier diff ${key} ${verifier}`),
        modelName: spec.name,
        outDir,
        verifier,
      })
      expect(r.verifierTemplate).toBe(verifier)
      const compiled = compileSolidity({ baseDir: outDir, files: [r.verifierFile] }).contracts[r.contractName]
      const contract = await new ContractFactory(compiled.abi as never[], compiled.bytecode, wallet).deploy()
      await contract.waitForDeployment()
      exportDirs[verifier] = outDir
      address[verifier] = await contract.getAddress()
    }
    const valid: bigint[][] = []
    for (let i = 0; i < VALID_PER_CIRCUIT; i++) {
      const p = await circuit.prove(randomInput(spec.inputLayout.count))
      valid.push(words(p.proof, p.publicSignals))
    }
    deployed[key] = { circuit, exportDirs, address, valid }
  }
})

afterAll(async () => {
  if (gasReport.length > 0)
    console.log(`Groth16 verifier gas, snarkjs vs veriml template:\n  ${gasReport.join('\n  ')}`)
  await anvil?.stop()
  await terminateSnarkjs()
  if (root) await rm(root, { recursive: true, force: true })
})

/** Tampered variants of a valid proof's words (`other`: another valid proof of the same circuit). */
function tampered(w: readonly bigint[], other: readonly bigint[], n: number): [string, bigint[]][] {
  const cases: [string, bigint[]][] = []
  const set = (label: string, changes: Record<number, bigint>) => {
    const copy = [...w]
    for (const [i, v] of Object.entries(changes)) copy[Number(i)] = v
    cases.push([label, copy])
  }
  const names = ['A.x', 'A.y', 'B.x.c1', 'B.x.c0', 'B.y.c1', 'B.y.c0', 'C.x', 'C.y']
  for (let i = 0; i < 8; i++) {
    set(`${names[i]} + 1`, { [i]: w[i] + 1n })
    set(`${names[i]} + q (non-canonical)`, { [i]: w[i] + Q })
    set(`${names[i]} = 0`, { [i]: 0n })
  }
  for (let j = 0; j < n; j++) {
    const s = 8 + j
    set(`signal ${j} + 1`, { [s]: w[s] + 1n })
    set(`signal ${j} + r (same field element)`, { [s]: w[s] + R })
    set(`signal ${j} = r`, { [s]: R })
    set(`signal ${j} = 2^256 - 1`, { [s]: 2n ** 256n - 1n })
  }
  set('A and C swapped', { 0: w[6], 1: w[7], 6: w[0], 7: w[1] })
  set('A negated', { 1: (Q - w[1]) % Q })
  set('A at infinity', { 0: 0n, 1: 0n })
  set('A = (1, 3), off the curve', { 0: 1n, 1: 3n })
  set('A = G1 generator', { 0: 1n, 1: 2n })
  set("B's c0 and c1 swapped", { 2: w[3], 3: w[2], 4: w[5], 5: w[4] })
  set("B's x and y swapped", { 2: w[4], 3: w[5], 4: w[2], 5: w[3] })
  set('B from another proof', { 2: other[2], 3: other[3], 4: other[4], 5: other[5] })
  set('C from another proof', { 6: other[6], 7: other[7] })
  set('all proof words zero', { 0: 0n, 1: 0n, 2: 0n, 3: 0n, 4: 0n, 5: 0n, 6: 0n, 7: 0n })
  set("another proof's signals", Object.fromEntries(other.slice(8).map((v, j) => [8 + j, v])))
  return cases
}

describe('veriml Groth16 verifier against snarkjs', () => {
  for (const key of Object.keys(CIRCUITS) as CircuitKey[]) {
    it(`answers as snarkjs's on valid and tampered proofs (${key} signal(s))`, async () => {
      const d = deployed[key]
      const n = d.circuit.publicSignalCount
      const both = async (data: string, value = 0n) =>
        Promise.all(TEMPLATES.map((t) => answer(d.address[t], data, value)))
      let compared = 0
      let rejected = 0
      for (const [i, w] of d.valid.entries()) {
        const [s, v] = await both(calldataOf(n, w))
        expect([s, v], `valid proof ${i}`).toEqual([TRUE, TRUE])
        compared++
        const other = d.valid[(i + 1) % d.valid.length]
        for (const [label, t] of tampered(w, other, n)) {
          const [ts, tv] = await both(calldataOf(n, t))
          expect(tv, `${label} (proof ${i})`).toBe(ts)
          // Equal signals are the same statement: "another proof's signals" rejects only
          // when they differ (a random input can repeat).
          const sameStatement = label === "another proof's signals" && t.slice(8).every((x, j) => x === w[8 + j])
          if (!sameStatement) expect(ts, `${label} (proof ${i}) must not verify`).not.toBe(TRUE)
          compared++
          rejected++
        }
      }
      // Calldata shape: what Solidity's ABI decoding does in snarkjs's, the fallback does in ours.
      const data = calldataOf(n, d.valid[0])
      const shape: [string, string, bigint, string][] = [
        ['one byte short', data.slice(0, -2), 0n, 'revert'],
        ['a trailing word', concat([data, toBeHex(7n, 32)]), 0n, TRUE],
        ['another arity', concat([verifyProofSelector(n + 1), `0x${data.slice(10)}`]), 0n, 'revert'],
        ['no calldata', '0x', 0n, 'revert'],
        ['value sent', data, 1n, 'revert'],
      ]
      for (const [label, shaped, value, expected] of shape) {
        expect(await both(shaped, value), label).toEqual([expected, expected])
        compared++
      }
      expect(rejected).toBeGreaterThan(40)
      gasReport.push(`${key} signal(s): ${compared} calls compared, same answer each time`)
    })
  }

  it("registers either template's verifier at every signal count (the registry's 60k-gas probe answers false, never runs out)", async () => {
    // The probe calls verifyProof with an all-zero proof and 60k gas: too little for 10 ecMuls,
    // so a verifier must answer false at its first failed precompile (veriml's did not: a
    // 27-signal public-input MNIST could not be registered).
    for (const key of Object.keys(CIRCUITS) as CircuitKey[])
      for (const t of TEMPLATES) {
        const n = deployed[key].circuit.publicSignalCount
        // Short of gas, an all-zero proof is answered false, never with a revert.
        for (const gasLimit of [50_000n, 70_000n, 90_000n])
          expect(
            await anvil.provider.call({
              to: deployed[key].address[t],
              data: calldataOf(n, new Array(8 + n).fill(0n)),
              gasLimit,
            }),
          ).toBe(toBeHex(0n, 32))
        const deployment = await deployModel({
          rpcUrl: anvil.rpcUrl,
          privateKey: anvil.accounts[0].privateKey,
          exportDir: deployed[key].exportDirs[t],
          registration: registrationOf(CIRCUITS[key]),
          deploymentPath: join(root, `probe-${key}-${t}.json`),
        })
        expect(deployment.registration.publicSignalCount).toBe(deployed[key].circuit.publicSignalCount)
      }
  })

  it('costs less gas than snarkjs, alone and through the registry (verify + record)', async () => {
    for (const key of Object.keys(CIRCUITS) as CircuitKey[]) {
      const d = deployed[key]
      const gas = {} as Record<VerifierTemplate, bigint>
      for (const t of TEMPLATES) {
        const tx = await wallet.sendTransaction({
          to: d.address[t],
          data: calldataOf(d.circuit.publicSignalCount, d.valid[0]),
          gasLimit: 1_000_000n,
        })
        gas[t] = (await tx.wait())?.gasUsed ?? 0n
      }
      expect(gas.veriml).toBeLessThan(gas.snarkjs)
      gasReport.push(`${key} signal(s), verifyProof transaction: snarkjs ${gas.snarkjs}, veriml ${gas.veriml}`)
    }

    // The 2-signal model through one registry, once per template (two model ids).
    const d = deployed.two
    const record = {} as Record<VerifierTemplate, bigint>
    let registryAddress: string | undefined
    for (const t of TEMPLATES) {
      const deployment = await deployModel({
        rpcUrl: anvil.rpcUrl,
        privateKey: anvil.accounts[0].privateKey,
        exportDir: d.exportDirs[t],
        registration: registrationOf(CIRCUITS.two),
        registryAddress,
        deploymentPath: join(root, `deployment-${t}.json`),
      })
      registryAddress = deployment.registry.address
      const p = await d.circuit.prove(randomInput(3))
      const r = await verifyOnChain({
        rpcUrl: anvil.rpcUrl,
        privateKey: anvil.accounts[0].privateKey,
        deploymentPath: join(root, `deployment-${t}.json`),
        proof: p.proof,
        publicSignals: p.publicSignals,
      })
      expect(r.accepted).toBe(true)
      if (r.accepted) record[t] = r.gasUsed
    }
    expect(record.veriml).toBeLessThanOrEqual(250_000n)
    expect(record.veriml).toBeLessThan(record.snarkjs)
    gasReport.push(`two signals, verifyInference (verify + record): snarkjs ${record.snarkjs}, veriml ${record.veriml}`)
  })
})
