import { cp, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePath } from '../../models/make-fixtures.js'
import { beaconSetup, contributeSetup, verifySetup } from '../../src/prove/ceremony.js'
import { compileModel } from '../../src/prove/compile.js'
import { artifactPaths, proofPaths } from '../../src/prove/paths.js'
import { proveModel } from '../../src/prove/prove.js'
import {
  blake2b512File,
  PtauFormatError,
  PtauHashMismatchError,
  PtauTooSmallError,
} from '../../src/prove/ptau-check.js'
import { requiredPower, setupModel } from '../../src/prove/setup.js'
import { shutdown } from '../../src/shutdown.js'

const input = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }
let tmp: string
/** Compiled tiny MLP with dev keys, before any ceremony step (copied by each test). */
let base: string

const previousCache = process.env.VERIML_PTAU_CACHE

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'veriml-ceremony-'))
  // setup --ptau caches the file per machine: keep the tests' files out of the real cache.
  process.env.VERIML_PTAU_CACHE = join(tmp, 'cache')
  base = join(tmp, 'base')
  await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: base })
  await setupModel({ model: base, dev: true })
}, 120_000)

afterAll(async () => {
  if (previousCache === undefined) delete process.env.VERIML_PTAU_CACHE
  else process.env.VERIML_PTAU_CACHE = previousCache
  await shutdown()
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

async function copyOfBase(name: string): Promise<string> {
  const dir = join(tmp, name)
  await cp(base, dir, { recursive: true })
  return dir
}

/** Byte offset and size of section `id` of an iden3 binary file (zkey, ptau). */
async function sectionOf(path: string, id: number): Promise<{ at: number; size: number }> {
  const bytes = await readFile(path)
  let at = 12
  for (let i = 0; i < bytes.readUInt32LE(8); i++) {
    const size = Number(bytes.readBigUInt64LE(at + 4))
    if (bytes.readUInt32LE(at) === id) return { at: at + 12, size }
    at += 12 + size
  }
  throw new Error(`no section ${id} in ${path}`)
}

describe('phase-2 ceremony on dev keys', () => {
  it('contribute → beacon → verify passes, and a proof with the final key verifies', async () => {
    const dir = await copyOfBase('chain')
    const vkBefore = JSON.parse(await readFile(artifactPaths(dir).verificationKey, 'utf8'))
    const c = await contributeSetup({ model: dir, name: 'alice' })
    expect(c.insecure).toBe(true)
    expect(c.contribution.contributionHash).toMatch(/^[0-9a-f]{128}$/)
    const b = await beaconSetup({ model: dir, beaconHashHex: '0123456789abcdef'.repeat(4), iterationsExp: 10 })
    expect(b.record.contributions.map((x) => [x.name, x.kind])).toEqual([
      ['alice', 'contribute'],
      ['beacon #2', 'beacon'],
    ])
    const v = await verifySetup({ model: dir })
    expect(v.problems).toEqual([])
    expect(v.valid).toBe(true)
    expect(v.insecure).toBe(true)
    const vk = JSON.parse(await readFile(artifactPaths(dir).verificationKey, 'utf8'))
    expect(vk.vk_delta_2).not.toEqual(vkBefore.vk_delta_2)
    const proofDir = join(tmp, 'chain-proof')
    await proveModel({ model: dir, input, outDir: proofDir })
    const pp = proofPaths(proofDir)
    const [proof, signals] = await Promise.all([readFile(pp.proof, 'utf8'), readFile(pp.public, 'utf8')])
    expect(await snarkjs.groth16.verify(vk, JSON.parse(signals), JSON.parse(proof))).toBe(true)
    // …and the old verification key no longer accepts it: delta really changed.
    expect(await snarkjs.groth16.verify(vkBefore, JSON.parse(signals), JSON.parse(proof))).toBe(false)
  }, 60_000)

  it('a zkey with one byte flipped in a point section fails setup verify', async () => {
    const dir = await copyOfBase('tampered')
    await contributeSetup({ model: dir, name: 'bob' })
    const zkey = artifactPaths(dir).zkey
    const l = await sectionOf(zkey, 8) // the L (C) points a contribution rescales
    expect(l.size).toBeGreaterThan(64)
    const fd = await open(zkey, 'r+')
    const at = l.at + 64 + 17 // inside the second point's x coordinate
    const byte = Buffer.alloc(1)
    await fd.read(byte, 0, 1, at)
    byte[0] ^= 0x01
    await fd.write(byte, 0, 1, at)
    await fd.close()
    const v = await verifySetup({ model: dir })
    expect(v.chainValid).toBe(false)
    expect(v.valid).toBe(false)
  }, 30_000)
})

describe('setup --ptau checks', () => {
  it('names the power the circuit needs when the ptau is too small', async () => {
    const dir = await copyOfBase('small')
    const small = join(tmp, 'small-4.ptau')
    const curve = await snarkjs.curves.getCurveFromName('bn128')
    await snarkjs.powersOfTau.newAccumulator(curve, 4, join(tmp, 'small-4-raw.ptau'))
    await snarkjs.powersOfTau.preparePhase2(join(tmp, 'small-4-raw.ptau'), small)
    const power = await requiredPower(artifactPaths(dir).r1cs)
    expect(power).toBeGreaterThan(4)
    const attempt = setupModel({ model: dir, ptauPath: small, force: true })
    await expect(attempt).rejects.toThrow(PtauTooSmallError)
    await expect(attempt).rejects.toThrow(`has power 4; this circuit needs power ${power}`)
  }, 30_000)

  it('refuses a file that is not a ptau with a clear error', async () => {
    const dir = await copyOfBase('notptau')
    const bogus = join(tmp, 'bogus.ptau')
    await writeFile(bogus, JSON.stringify({ hello: 'this is not a powers-of-tau file' }))
    const attempt = setupModel({ model: dir, ptauPath: bogus, force: true })
    await expect(attempt).rejects.toThrow(PtauFormatError)
    await expect(attempt).rejects.toThrow(/not a usable powers-of-tau file: bad magic/)
  })

  it('refuses a ptau whose blake2b-512 differs from the pinned one, and accepts the pinned one', async () => {
    const dir = await copyOfBase('pinned')
    // The dev setup's prepared ptau is a structurally valid, large-enough ceremony file.
    const ptau = join(tmp, 'pinned.ptau')
    await cp(artifactPaths(base).ptau, ptau)
    const wrong = 'ab'.repeat(64)
    await expect(setupModel({ model: dir, ptauPath: ptau, ptauBlake2b: wrong, force: true })).rejects.toThrow(
      PtauHashMismatchError,
    )
    const right = await blake2b512File(ptau)
    const record = await setupModel({ model: dir, ptauPath: ptau, ptauBlake2b: right.toUpperCase(), force: true })
    expect(record.kind).toBe('ptau')
    expect(record.ptauPath).toBe(ptau)
    expect(record.ptauBlake2b).toBe(right)
    await contributeSetup({ model: dir, entropy: 'carol' })
    expect((await verifySetup({ model: dir })).valid).toBe(true)
  }, 60_000)
})

describe('per-machine ptau cache', () => {
  it('caches a ceremony file given once with --ptau and reuses it for a later model', async () => {
    try {
      // The dev setup's ptau stands in for a ceremony file (same format, prepared).
      const ceremony = join(tmp, 'ceremony.ptau')
      await cp(artifactPaths(base).ptau, ceremony)
      const first = await copyOfBase('cache-first')
      await setupModel({ model: first, ptauPath: ceremony, force: true })
      const second = await copyOfBase('cache-second')
      const r = await setupModel({ model: second, force: true })
      expect(r.kind).toBe('ptau')
      expect(r.insecure).toBe(false)
      expect(r.ptauPath).toMatch(new RegExp(`^${join(tmp, 'cache')}/ptau-p\\d+-[0-9a-f]{16}\\.ptau$`))
      expect((await verifySetup({ model: second })).problems).toEqual([])
      // An empty cache and no key source: a specific error naming the power needed.
      process.env.VERIML_PTAU_CACHE = join(tmp, 'empty-cache')
      await expect(setupModel({ model: await copyOfBase('cache-none'), force: true })).rejects.toThrow(
        /choose a setup: --dev \(fast, insecure\) or --ptau FILE \(a ceremony file of power ≥ \d+\)/,
      )
    } finally {
      process.env.VERIML_PTAU_CACHE = join(tmp, 'cache')
    }
  })
})
