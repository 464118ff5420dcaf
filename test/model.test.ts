import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { fixturePath } from '../models/make-fixtures.js'
import { type AnvilInstance, startAnvil } from '../src/chain/anvil.js'
import { type ZkModel, loadModel } from '../src/model.js'
import { deployOptimisticModel } from '../src/optimistic/chain/deployment.js'
import { InconsistentBuildError } from '../src/prove/build-folder.js'
import { compileModel } from '../src/prove/compile.js'
import { BuildTargetError } from '../src/prove/manifest.js'
import { proveModel } from '../src/prove/prove.js'
import { setupModel } from '../src/prove/setup.js'
import { verifyProof } from '../src/prove/verify.js'
import { shutdown } from '../src/shutdown.js'
import { cliInProcess } from './helpers/cli.js'

// Every readFile of the library, by file name: what one stage reads from the build folder.
const reads = vi.hoisted(() => new Map<string, number>())
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>()
  const readFile = ((path: Parameters<typeof fs.readFile>[0], ...rest: unknown[]) => {
    if (typeof path === 'string') reads.set(path, (reads.get(path) ?? 0) + 1)
    return (fs.readFile as (...a: unknown[]) => unknown)(path, ...rest)
  }) as typeof fs.readFile
  return { ...fs, readFile, default: { ...fs, readFile } }
})
const readsOf = (name: string) =>
  [...reads].filter(([path]) => basename(path) === name).reduce((n, [, count]) => n + count, 0)

describe('CompiledModel: a build folder loaded once (tiny MLP)', () => {
  let tmp: string
  let dir: string
  let model: ZkModel
  const input = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'veriml-model-'))
    dir = join(tmp, 'build')
    const compiled = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir })
    model = (await setupModel({ model: compiled.model, dev: true })).model
  })
  beforeEach(() => reads.clear())
  afterAll(shutdown)

  it('one CLI prove reads the manifest once and ir.json once', async () => {
    const inputPath = join(tmp, 'input.json')
    await writeFile(inputPath, JSON.stringify(input))
    const r = await cliInProcess('prove', dir, '--input', inputPath, '--out', join(tmp, 'cli-proof'))
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(readsOf('manifest.json')).toBe(1)
    expect(readsOf('ir.json')).toBe(1)
    expect(readsOf('model.wires')).toBe(1)
  })

  it('proving a loaded model again reads nothing of it again: no manifest, no IR, the wire map read once', async () => {
    const loaded = await loadModel(dir, { target: 'zk' })
    expect(readsOf('manifest.json')).toBe(1)
    expect(readsOf('ir.json')).toBe(1)
    reads.clear()
    const first = await proveModel({ model: loaded, input, outDir: join(tmp, 'p1') })
    const second = await proveModel({ model: loaded, input, outDir: join(tmp, 'p2') })
    expect(second.publicSignals).toEqual(first.publicSignals)
    expect(readsOf('manifest.json')).toBe(0)
    expect(readsOf('ir.json')).toBe(0)
    expect(readsOf('model.wires')).toBe(1)
    expect((await verifyProof({ model: loaded, proofDir: join(tmp, 'p2') })).valid).toBe(true)
  })

  it('the model compile and setup return is the build on disk, and setup hands back its keys', async () => {
    const loaded = await loadModel(dir)
    expect(loaded.modelId).toBe(model.modelId)
    expect(loaded.manifest).toEqual(model.manifest)
    expect(model.manifest.setup?.kind).toBe('dev')
    expect(loaded.paths.optimistic).toBe(join(dir, 'optimistic.json'))
    expect(loaded.paths.contracts).toBe(join(dir, 'contracts'))
  })

  it('refuses an edited ir.json at load, as the stages did', async () => {
    const copy = join(tmp, 'edited')
    const { cp, readFile: read } = await import('node:fs/promises')
    await cp(dir, copy, { recursive: true })
    const ir = JSON.parse(await read(join(copy, 'ir.json'), 'utf8'))
    ir.name = 'edited'
    await writeFile(join(copy, 'ir.json'), JSON.stringify(ir))
    await expect(loadModel(copy)).rejects.toThrow(InconsistentBuildError)
    await expect(proveModel({ model: copy, input, outDir: join(tmp, 'p3') })).rejects.toThrow(/ir\.json has changed/)
  })

  it('a zk stage refuses an optimistic build, given as a loaded model too', async () => {
    const opt = join(tmp, 'opt')
    const compiled = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: opt, target: 'optimistic' })
    await expect(loadModel(opt, { target: 'zk' })).rejects.toThrow(BuildTargetError)
    await expect(verifyProof({ model: compiled.model, proofDir: join(tmp, 'p1') })).rejects.toThrow(BuildTargetError)
    await expect(compiled.model.witness()).rejects.toThrow(BuildTargetError)
  })
})

describe('CompiledModel on the optimistic path (tiny MLP, optimistic build)', () => {
  let tmp: string
  let dir: string
  let anvil: AnvilInstance
  const input = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'veriml-model-op-'))
    dir = join(tmp, 'build')
    const compiled = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir, target: 'optimistic' })
    anvil = await startAnvil({ accounts: 2 })
    const deployer = new Wallet(anvil.accounts[0].privateKey, anvil.provider)
    await deployOptimisticModel({ model: compiled.model, runner: deployer, chainId: anvil.chainId })
  }, 60_000)
  beforeEach(() => reads.clear())
  afterAll(async () => {
    await anvil?.stop()
  })

  it('one CLI op claim reads the manifest once and ir.json once', async () => {
    const inputPath = join(tmp, 'input.json')
    await writeFile(inputPath, JSON.stringify(input))
    reads.clear()
    const r = await cliInProcess(
      'op',
      'claim',
      dir,
      '--input',
      inputPath,
      '--rpc',
      anvil.rpcUrl,
      '--private-key',
      anvil.accounts[1].privateKey,
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^claim 0x[0-9a-f]{64}$/m)
    expect(readsOf('manifest.json')).toBe(1)
    expect(readsOf('ir.json')).toBe(1)
    expect(readsOf('optimistic.json')).toBe(1)
  }, 60_000)
})
