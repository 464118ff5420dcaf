import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePath } from '../../models/make-fixtures.js'
import { startAnvil } from '../../src/chain/anvil.js'
import { InsecureSetupError, deployBuild } from '../../src/chain/model.js'
import { compileModel } from '../../src/prove/compile.js'
import { proveModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { ProofFormatError } from '../../src/index.js'
import { shutdown } from '../../src/shutdown.js'
import { cliSpawn, ROOT } from '../helpers/cli.js'

const run = promisify(execFile)
const cli = (...args: string[]) => cliSpawn(args)

describe('zk path end to end (tiny MLP)', () => {
  let dir: string
  let proofDir: string
  const input = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }
  beforeAll(async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'veriml-e2e-'))
    dir = join(tmp, 'build')
    proofDir = join(tmp, 'proof')
    await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir })
    await setupModel({ model: dir, dev: true })
    await proveModel({ model: dir, input, outDir: proofDir })
  })
  afterAll(shutdown)

  it('proves, and snarkjs itself (its CLI) accepts the proof with no veriml code', async () => {
    expect((await verifyProof({ model: dir, proofDir })).valid).toBe(true)
    const r = await run(process.execPath, [
      join(ROOT, 'node_modules', 'snarkjs', 'build', 'cli.cjs'),
      'groth16',
      'verify',
      join(dir, 'verification_key.json'),
      join(proofDir, 'public.json'),
      join(proofDir, 'proof.json'),
    ])
    expect(r.stdout).toMatch(/OK!/)
  })

  it('writes output.json with real values and raw integers', async () => {
    const out = JSON.parse(await readFile(join(proofDir, 'output.json'), 'utf8'))
    expect(out.output_data[0]).toHaveLength(4)
    expect(out.output_ints[0]).toHaveLength(4)
    out.output_data[0].forEach((v: number, i: number) =>
      expect(v).toBeCloseTo(Number(out.output_ints[0][i]) * out.output_scales[0], 12),
    )
    expect(out.insecure_setup).toBe(true)
  })

  it('rejects every tampered public signal and a tampered proof', async () => {
    const signals = JSON.parse(await readFile(join(proofDir, 'public.json'), 'utf8')) as string[]
    const proof = await readFile(join(proofDir, 'proof.json'), 'utf8')
    const bad = await mkdtemp(join(tmpdir(), 'veriml-bad-'))
    for (let i = 0; i < signals.length; i++) {
      const t = [...signals]
      t[i] = (BigInt(t[i]) + 1n).toString()
      await writeFile(join(bad, 'public.json'), JSON.stringify(t))
      await writeFile(join(bad, 'proof.json'), proof)
      expect((await verifyProof({ model: dir, proofDir: bad })).valid).toBe(false)
    }
    const p = JSON.parse(proof)
    p.pi_a[0] = (BigInt(p.pi_a[0]) + 1n).toString()
    await writeFile(join(bad, 'public.json'), JSON.stringify(signals))
    await writeFile(join(bad, 'proof.json'), JSON.stringify(p))
    expect((await verifyProof({ model: dir, proofDir: bad })).valid).toBe(false)
    await writeFile(join(bad, 'proof.json'), JSON.stringify({ ...p, pi_a: ['not', 'a', 'point'] }))
    const malformed = await verifyProof({ model: dir, proofDir: bad })
    expect(malformed.valid).toBe(false)
    expect(malformed.reason).toMatch(/malformed proof|pairing/)
  })

  it('a public.json that is no array of signals, or a proof.json that is not JSON, rejects with the exported ProofFormatError', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'veriml-format-'))
    await writeFile(join(bad, 'proof.json'), await readFile(join(proofDir, 'proof.json'), 'utf8'))
    await writeFile(join(bad, 'public.json'), '{"0": "1"}')
    const notArray = verifyProof({ model: dir, proofDir: bad })
    await expect(notArray).rejects.toThrow(ProofFormatError)
    await expect(notArray).rejects.toMatchObject({
      path: join(bad, 'public.json'),
      shortMessage: `${join(bad, 'public.json')} must be a JSON array of decimal strings`,
    })
    await writeFile(join(bad, 'proof.json'), '{"pi_a": [')
    const notJson = verifyProof({ model: dir, proofDir: bad })
    await expect(notJson).rejects.toThrow(ProofFormatError)
    await expect(notJson).rejects.toMatchObject({ shortMessage: `${join(bad, 'proof.json')} is not valid JSON` })
  })

  it('reuses artifacts when nothing changed, and leaves no temporary files', async () => {
    const again = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir })
    expect(again.reused).toBe(true)
    const files = await readdir(dir, { recursive: true })
    expect(files.filter((f) => /\.tmp$|staging/.test(String(f)))).toEqual([])
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
    expect(manifest.setup).toMatchObject({ kind: 'dev', insecure: true })
    expect(Object.keys(manifest.artifacts)).toEqual(
      // The default compiler is the direct backend: its wire map stands where circom's wasm was.
      expect.arrayContaining(['ir.json', 'circuit/model.r1cs', 'circuit/model.wires']),
    )
  })

  it('CLI: setup --dev and prove exit by themselves once done (no curve worker threads left behind)', async () => {
    // A lazily imported ffjavascript copy used to null the global that holds snarkjs's threaded
    // curve, so `shutdown()` could not stop its workers and the process never exited.
    const copy = join(dirname(dir), 'build-cli')
    await cp(dir, copy, { recursive: true })
    const inputPath = join(dirname(dir), 'input-cli.json')
    await writeFile(inputPath, JSON.stringify(input))
    const setup = await cliSpawn(['setup', copy, '--dev', '--force'], { timeoutMs: 90_000 })
    expect(setup.timedOut, setup.stderr).toBe(false)
    expect(setup.code, setup.stderr).toBe(0)
    const prove = await cliSpawn(['prove', copy, '--input', inputPath, '--out', join(dirname(dir), 'proof-cli')], {
      timeoutMs: 90_000,
    })
    expect(prove.timedOut, prove.stderr).toBe(false)
    expect(prove.code, prove.stderr).toBe(0)
  }, 240_000)

  it('CLI: verify --onchain deploys to an embedded anvil, verifies, and stops it', async () => {
    const r = await cli('verify', dir, proofDir, '--onchain')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /ACCEPTED on chain 31337 \(embedded anvil \(stopped\)\): inference 0x[0-9a-f]{64}, gas used \d+/,
    )
  })

  it('CLI: deploy to a running node, verify there, calldata and export-verifier', async () => {
    const node = await startAnvil()
    try {
      const key = node.accounts[1].privateKey
      const d = await cli('deploy', dir, '--rpc', node.rpcUrl, '--private-key', key)
      expect(d.code).toBe(0)
      expect(d.stdout + d.stderr).not.toContain(key.slice(2))
      const deployment = JSON.parse(await readFile(join(dir, 'deployment.json'), 'utf8'))
      expect(deployment.chainId).toBe('31337')
      const v = await cli('verify', dir, proofDir, '--rpc', node.rpcUrl, '--private-key', key)
      expect(v.stdout).toMatch(/ACCEPTED on chain 31337/)
      const replay = await cli('verify', dir, proofDir, '--rpc', node.rpcUrl, '--private-key', key)
      expect(replay.code).toBe(1)
      expect(replay.stderr).toMatch(/already recorded/i)
      const c = JSON.parse((await cli('calldata', proofDir)).stdout)
      expect(c.verifyInference).toMatch(/^0x[0-9a-f]+$/)
      expect(c.pubSignals).toEqual(JSON.parse(await readFile(join(proofDir, 'public.json'), 'utf8')))
      const out = await mkdtemp(join(tmpdir(), 'veriml-export-'))
      expect((await cli('export-verifier', dir, '--out', out)).code).toBe(0)
      expect(await readFile(join(out, 'export.json'), 'utf8')).toContain(deployment.modelId)
    } finally {
      await node.stop()
    }
  })

  it('refuses to deploy INSECURE dev keys to a non-local chain', async () => {
    const node = await startAnvil({ chainId: 11155111 })
    try {
      const deploymentPath = join(await mkdtemp(join(tmpdir(), 'veriml-insecure-')), 'deployment.json')
      await expect(
        deployBuild({ model: dir, rpcUrl: node.rpcUrl, privateKey: node.accounts[0].privateKey, deploymentPath }),
      ).rejects.toThrow(InsecureSetupError)
      await expect(readFile(deploymentPath)).rejects.toThrow(/ENOENT/)
      // Nothing was sent: the refusal comes before any transaction.
      expect(await node.provider.getTransactionCount(node.accounts[0].address)).toBe(0)
    } finally {
      await node.stop()
    }
  })

  it('CLI: verify exits 0 on a valid proof and non-zero on a tampered one; errors name the problem', async () => {
    expect((await cli('verify', dir, proofDir)).code).toBe(0)
    const bad = await mkdtemp(join(tmpdir(), 'veriml-bad-'))
    const signals = JSON.parse(await readFile(join(proofDir, 'public.json'), 'utf8')) as string[]
    await writeFile(join(bad, 'public.json'), JSON.stringify([signals[0], (BigInt(signals[1]) + 1n).toString()]))
    await writeFile(join(bad, 'proof.json'), await readFile(join(proofDir, 'proof.json')))
    const r = await cli('verify', dir, bad)
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/INVALID/)
    const wrongInput = join(bad, 'in.json')
    await writeFile(wrongInput, JSON.stringify({ input_data: [[1, 2, 3]] }))
    const e = await cli('prove', dir, '--input', wrongInput, '--out', join(bad, 'p'))
    expect(e.code).toBe(1)
    expect(e.stderr).toMatch(/input "input": expected 8 values \(shape \[1,8\]\), found 3 values/)
    expect((await cli('compile', 'nope.onnx')).code).toBe(2)
    expect((await cli('--help')).stdout).toMatch(/compile/)
    expect((await cli('prove', '--help')).stdout).toMatch(/usage: veriml prove/)
  })
})
