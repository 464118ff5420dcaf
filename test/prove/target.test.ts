import { access, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePath } from '../../models/make-fixtures.js'
import { irFromJson, modelId } from '../../src/ir/serialize.js'
import { startAnvil } from '../../src/chain/anvil.js'
import { gameContract, readClaim, submitClaim } from '../../src/optimistic/chain/client.js'
import { deployOptimisticModel, loadOptimisticModel } from '../../src/optimistic/chain/deployment.js'
import { buildTrace } from '../../src/optimistic/trace.js'
import { compileModel } from '../../src/prove/compile.js'
import { BuildTargetError, type OptimisticManifest, readBuildManifest, sha256File } from '../../src/prove/manifest.js'
import { artifactPaths } from '../../src/prove/paths.js'
import { proveModel, runModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { cliSpawn } from '../helpers/cli.js'

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )
const input = { input_data: [[0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.9, -0.8]] }

/**
 * `compile --target optimistic`: the IR, the ONNX file and the accuracy report, no circuit;
 * the same IR and model id as a zk build; the optimistic path reads it, the zk verbs refuse it.
 */
describe('compile --target optimistic (tiny MLP)', () => {
  let tmp: string
  let opt: string
  let zk: string
  let manifest: OptimisticManifest
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'veriml-target-'))
    opt = join(tmp, 'optimistic')
    zk = join(tmp, 'zk')
    manifest = (await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: opt, target: 'optimistic' }))
      .manifest
    await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: zk })
  }, 240_000)
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('writes model.onnx, ir.json, report.json and a manifest without circuit or constraint count', async () => {
    const paths = artifactPaths(opt)
    for (const f of [paths.onnx, paths.ir, paths.report, paths.manifest]) expect(await exists(f)).toBe(true)
    expect(await exists(paths.circuitDir)).toBe(false)
    expect(manifest.target).toBe('optimistic')
    expect(manifest).not.toHaveProperty('constraintCount')
    expect(manifest).not.toHaveProperty('layout')
    expect(manifest.artifacts).toEqual({
      'model.onnx': await sha256File(paths.onnx),
      'ir.json': await sha256File(paths.ir),
    })
    const report = JSON.parse(await readFile(paths.report, 'utf8')) as {
      accuracy: { samples: number; argmaxAgreement: number }
    }
    expect(report.accuracy.samples).toBeGreaterThan(0)
    expect(report.accuracy.argmaxAgreement).toBeGreaterThan(0.5)
  })

  it('holds the same IR, byte for byte, and the same model id as the zk build', async () => {
    const [a, b] = await Promise.all([readFile(artifactPaths(opt).ir, 'utf8'), readFile(artifactPaths(zk).ir, 'utf8')])
    expect(a).toBe(b)
    expect(manifest.modelId).toBe((await readBuildManifest(zk))!.modelId)
    expect(manifest.modelId).toBe(modelId(irFromJson(a)))
  })

  it('is reused while nothing changed, and rebuilt with --force', async () => {
    const again = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: opt, target: 'optimistic' })
    expect(again.reused).toBe(true)
    const forced = await compileModel({
      onnxPath: fixturePath('tiny-mlp.onnx'),
      outDir: opt,
      target: 'optimistic',
      force: true,
    })
    expect(forced.reused).toBe(false)
    expect(forced.manifest.modelId).toBe(manifest.modelId)
  })

  it('is read by loadOptimisticModel and run by runModel, as a zk build is', async () => {
    const [o, z] = await Promise.all([loadOptimisticModel({ model: opt }), loadOptimisticModel({ model: zk })])
    expect(o.buildModelId).toBe(manifest.modelId)
    expect(o.params.paramsRoot).toBe(z.params.paramsRoot)
    const [ro, rz] = await Promise.all([runModel({ model: opt, input: input }), runModel({ model: zk, input: input })])
    expect(ro.outputs).toEqual(rz.outputs)
  })

  it('is deployed to the optimistic game and claimed on, as `op deploy` and `op claim` do', async () => {
    const anvil = await startAnvil({ accounts: 2 })
    try {
      const [deployer, claimant] = anvil.accounts.map((a) => new Wallet(a.privateKey, anvil.provider))
      const deployment = await deployOptimisticModel({ model: opt, runner: deployer, chainId: anvil.chainId })
      expect(deployment.buildModelId).toBe(manifest.modelId)
      const { model } = await loadOptimisticModel({ model: opt })
      const trace = buildTrace(model, (await runModel({ model: opt, input: input })).inputs)
      const game = gameContract(deployment.gameAddress, claimant)
      const claim = await submitClaim(game, deployment.modelId, trace, deployment.claimBond)
      expect((await readClaim(game, claim.claimId)).status).toBe('Pending')
    } finally {
      await anvil.stop()
    }
  }, 120_000)

  it('refuses the zk verbs with a typed error that says how to fix it', async () => {
    await expect(setupModel({ model: opt, dev: true })).rejects.toThrow(BuildTargetError)
    await expect(setupModel({ model: opt, dev: true })).rejects.toThrow(
      'compiled with --target optimistic: recompile with --target zk',
    )
    await expect(proveModel({ model: opt, input, outDir: join(tmp, 'proof') })).rejects.toThrow(BuildTargetError)
    await expect(verifyProof({ model: opt, proofDir: join(tmp, 'proof') })).rejects.toThrow(BuildTargetError)
  })

  it('recompiling a zk folder for the optimistic target removes the circuit it no longer describes', async () => {
    const dir = join(tmp, 'switch')
    await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir })
    expect(await exists(artifactPaths(dir).circuitDir)).toBe(true)
    const r = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir, target: 'optimistic' })
    expect(r.reused).toBe(false)
    expect(await exists(artifactPaths(dir).circuitDir)).toBe(false)
    expect(r.manifest.modelId).toBe(manifest.modelId)
  }, 240_000)

  it('CLI: --target optimistic compiles without circom; zk-only flags and unknown targets are usage errors', async () => {
    const cli = (...args: string[]) => cliSpawn(args)
    const out = join(tmp, 'cli')
    const r = await cli('compile', fixturePath('tiny-mlp.onnx'), '--out', out, '--target', 'optimistic')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(manifest.modelId)
    expect(await exists(artifactPaths(out).circuitDir)).toBe(false)
    const setup = await cli('setup', out, '--dev')
    expect(setup.code).not.toBe(0)
    expect(setup.stderr).toContain('recompile with --target zk')
    const bad = await cli('compile', fixturePath('tiny-mlp.onnx'), '--out', out, '--target', 'snark')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--target must be one of zk, optimistic; got "snark"/)
    const mixed = await cli(
      'compile',
      fixturePath('tiny-mlp.onnx'),
      '--out',
      out,
      '--target',
      'optimistic',
      '--weights',
      'hashed',
    )
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toContain('--weights only apply to --target zk')
  }, 120_000)
})
