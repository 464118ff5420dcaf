import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEV_SETUP_CONTRIBUTION_NAME, DevSetupError, R1csFormatError, devSetup } from '../../src/prove/dev-setup.js'
import { compileCircom } from '../../src/prove/circom.js'

/** The slice of snarkjs's untyped API these tests use. */
type Snarkjs = typeof import('snarkjs')

const N = 24

// Multiplications (p, q), one wide linear combination (2N terms into y) and 2N+1 public
// inputs plus 2 public outputs: enough to exercise IC, the extra public rows and H.
const CIRCUIT = `pragma circom 2.0.0;
template DevSetupFixture(N) {
    signal input x[N];
    signal input w[N];
    signal input k;
    signal input secret;
    signal output y;
    signal output z;
    signal p[N];
    for (var i = 0; i < N; i++) { p[i] <== x[i] * w[i]; }
    var lc = 0;
    for (var i = 0; i < N; i++) { lc += (i + 3) * p[i] + (2 * i + 1) * x[i]; }
    y <== lc;
    signal q;
    q <== y * k;
    signal r;
    r <== q * secret;
    z <== r + 7 * k;
}
component main {public [x, w, k]} = DevSetupFixture(${N});
`

const input = {
  x: Array.from({ length: N }, (_, i) => String(i + 1)),
  w: Array.from({ length: N }, (_, i) => String(3 * i + 2)),
  k: '5',
  secret: '11',
}

let dir: string
let snarkjs: Snarkjs

beforeAll(async () => {
  snarkjs = await import('snarkjs')
  dir = await mkdtemp(join(tmpdir(), 'veriml-dev-setup-'))
  await writeFile(join(dir, 'fixture.circom'), CIRCUIT)
  await compileCircom(dir, { name: 'fixture' })
})

afterAll(async () => {
  await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const r1csPath = () => join(dir, 'fixture.r1cs')
const wasmPath = () => join(dir, 'fixture_js', 'fixture.wasm')

describe('devSetup', () => {
  it('writes a zkey that snarkjs proves and verifies with, and zkey verify accepts', async () => {
    const zkeyPath = join(dir, 'a.zkey')
    const ptauPath = join(dir, 'a.ptau')
    const result = await devSetup({ r1csPath: r1csPath(), zkeyPath, ptauPath })
    expect(result.nPublic).toBe(2 * N + 1 + 2)
    expect(result.domainSize).toBeGreaterThan(result.nConstraints + result.nPublic)

    const vkey = await snarkjs.zKey.exportVerificationKey(zkeyPath)
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasmPath(), zkeyPath)
    expect(publicSignals).toHaveLength(result.nPublic)
    expect(await snarkjs.groth16.verify(vkey, publicSignals, proof)).toBe(true)

    // Every public position is bound: bumping any one of them breaks verification.
    for (const index of [0, 1, publicSignals.length - 1]) {
      const tampered = [...publicSignals]
      tampered[index] = (BigInt(tampered[index]!) + 1n).toString()
      expect(await snarkjs.groth16.verify(vkey, tampered, proof)).toBe(false)
    }

    const lines: string[] = []
    const logger = {
      info: (m: string) => lines.push(m),
      warn: () => {},
      debug: () => {},
      error: (m: string) => lines.push(m),
    }
    expect(await snarkjs.zKey.verifyFromR1cs(r1csPath(), ptauPath, zkeyPath, logger)).toBe(true)
    expect(lines.join('\n')).toContain(DEV_SETUP_CONTRIBUTION_NAME)
    expect(lines.join('\n').replace(/\s+/g, '')).toContain(result.circuitHashHex.slice(0, 32))
  })

  it('draws fresh toxic waste on every run', async () => {
    const first = await devSetup({ r1csPath: r1csPath(), zkeyPath: join(dir, 'b1.zkey') })
    const second = await devSetup({ r1csPath: r1csPath(), zkeyPath: join(dir, 'b2.zkey') })
    const vk1 = await snarkjs.zKey.exportVerificationKey(join(dir, 'b1.zkey'))
    const vk2 = await snarkjs.zKey.exportVerificationKey(join(dir, 'b2.zkey'))
    expect(vk1.vk_alpha_1).not.toEqual(vk2.vk_alpha_1)
    expect(vk1.vk_delta_2).not.toEqual(vk2.vk_delta_2)
    expect(vk1.IC).not.toEqual(vk2.IC)
    // The circuit hash depends on tau, alpha and beta too, so it differs as well.
    expect(first.circuitHashHex).not.toBe(second.circuitHashHex)

    // A proof made with one dev key does not verify under the other key.
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasmPath(), join(dir, 'b1.zkey'))
    expect(await snarkjs.groth16.verify(vk1, publicSignals, proof)).toBe(true)
    expect(await snarkjs.groth16.verify(vk2, publicSignals, proof)).toBe(false)
  })

  it('rejects a zkey whose ptau comes from another run', async () => {
    await devSetup({ r1csPath: r1csPath(), zkeyPath: join(dir, 'c1.zkey'), ptauPath: join(dir, 'c1.ptau') })
    await devSetup({ r1csPath: r1csPath(), zkeyPath: join(dir, 'c2.zkey'), ptauPath: join(dir, 'c2.ptau') })
    const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} }
    expect(await snarkjs.zKey.verifyFromR1cs(r1csPath(), join(dir, 'c1.ptau'), join(dir, 'c2.zkey'), quiet)).toBe(false)
  })

  it('fails with typed errors on a missing or malformed r1cs', async () => {
    await expect(devSetup({ r1csPath: join(dir, 'missing.r1cs'), zkeyPath: join(dir, 'x.zkey') })).rejects.toThrow(
      DevSetupError,
    )
    const garbage = join(dir, 'garbage.r1cs')
    await writeFile(garbage, (await readFile(r1csPath())).subarray(0, 4).fill(0x41))
    await expect(devSetup({ r1csPath: garbage, zkeyPath: join(dir, 'x.zkey') })).rejects.toThrow(R1csFormatError)
    const truncated = join(dir, 'truncated.r1cs')
    const full = await readFile(r1csPath())
    await writeFile(truncated, full.subarray(0, full.byteLength - 100))
    await expect(devSetup({ r1csPath: truncated, zkeyPath: join(dir, 'x.zkey') })).rejects.toThrow(R1csFormatError)
  })
})
