/**
 * `compile --compiler direct` (the default) end to end on the tiny MLP: no circom run, no
 * wasm, and the same model id, constraint count and public signals as the circom build; dev
 * setup, prove from the TypeScript witness (values-only pass over the wire map) and snarkjs's
 * verify accept it.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { fixturePath } from '../../models/make-fixtures.js'
import { loadModel } from '../../src/model.js'
import { InconsistentBuildError } from '../../src/prove/build-folder.js'
import { compileModel } from '../../src/prove/compile.js'
import { artifactPaths } from '../../src/prove/paths.js'
import { proveModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { shutdown } from '../../src/shutdown.js'

afterAll(shutdown)

describe('compile --compiler direct (tiny MLP)', () => {
  const input = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }

  it('builds without circom what the circom build is, and its proof verifies with the same public signals', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'veriml-direct-compile-'))
    const builds = { circom: join(tmp, 'circom'), direct: join(tmp, 'direct') }
    const circom = await compileModel({
      onnxPath: fixturePath('tiny-mlp.onnx'),
      outDir: builds.circom,
      compiler: 'circom',
    })
    const direct = await compileModel({
      onnxPath: fixturePath('tiny-mlp.onnx'),
      outDir: builds.direct,
      compiler: 'direct',
    })
    expect(direct.manifest.compiler).toBe('direct')
    expect(circom.manifest.compiler).toBeUndefined()
    expect(direct.manifest.modelId).toBe(circom.manifest.modelId)
    expect(direct.manifest.constraintCount).toBe(circom.manifest.constraintCount)
    expect(direct.manifest.layout).toEqual(circom.manifest.layout)
    // The circom source is still written; circom's outputs are not.
    const paths = artifactPaths(builds.direct)
    expect(await readFile(paths.circuit, 'utf8')).toBe(await readFile(artifactPaths(builds.circom).circuit, 'utf8'))
    expect(existsSync(paths.wasm)).toBe(false)
    expect(direct.manifest.tools.circom2).toBeUndefined()
    // Another compiler is another build: the compile key differs, nothing is reused across.
    expect(direct.manifest.compileKey).not.toBe(circom.manifest.compileKey)

    const proofs = { circom: join(tmp, 'proof-circom'), direct: join(tmp, 'proof-direct') }
    for (const k of ['circom', 'direct'] as const) {
      await setupModel({ model: builds[k], dev: true })
      await proveModel({ model: builds[k], input, outDir: proofs[k] })
    }
    expect((await verifyProof({ model: builds.direct, proofDir: proofs.direct })).valid).toBe(true)
    const publicOf = async (k: 'circom' | 'direct') =>
      JSON.parse(await readFile(join(proofs[k], 'public.json'), 'utf8'))
    expect(await publicOf('direct')).toEqual(await publicOf('circom'))

    // The default compiler is the direct backend (for the models it builds): the same build, reused.
    const again = await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: builds.direct })
    expect(again.reused).toBe(true)
    expect(again.manifest.compiler).toBe('direct')
    expect(direct.manifest.artifacts['circuit/model.wires']).toMatch(/^[0-9a-f]{64}$/)
  })

  it('a changed or missing wire map is an InconsistentBuildError naming circuit/model.wires (recompile)', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'veriml-direct-wires-'))
    const dir = join(tmp, 'b')
    await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir, compiler: 'direct' })
    const paths = artifactPaths(dir)
    const bytes = await readFile(paths.wires)
    bytes[bytes.length - 1] ^= 1
    await writeFile(paths.wires, bytes)
    const changed = (await loadModel(dir, { target: 'zk' })).witness()
    await expect(changed).rejects.toThrow(InconsistentBuildError)
    await expect(changed).rejects.toThrow(/model\.wires has changed since compile/)
    await rm(paths.wires)
    const missing = (await loadModel(dir, { target: 'zk' })).witness()
    await expect(missing).rejects.toThrow(/model\.wires is missing/)
    await expect(missing).rejects.toMatchObject({ fix: 'recompile' })
  })
})
