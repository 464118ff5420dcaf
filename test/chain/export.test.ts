import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Interface, id } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inferenceConsumerAbi, verimlRegistryAbi } from '../../src/chain/contracts.js'
import { SolcCompileError, VerifierExportError } from '../../src/chain/errors.js'
import { compileSolidity } from '../../src/chain/solc.js'
import { CONTRACTS_DIR, exportVerifier, verifierContractName } from '../../src/chain/verifier.js'
import { GENERATOR } from '../../src/prove/manifest.js'
import { type TinyCircuit, buildTinyCircuit, preparePtau, terminateSnarkjs } from '../helpers/tiny-circuit.js'
import { SPECS } from './fixture.js'

let root: string
let circuit: TinyCircuit
const modelId = id('veriml export test model')

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'veriml-export-'))
  circuit = await buildTinyCircuit(SPECS.pub3, join(root, 'pub3'), await preparePtau(join(root, 'ptau'), 8))
})

afterAll(async () => {
  await terminateSnarkjs()
  if (root) await rm(root, { recursive: true, force: true })
})

describe('exportVerifier', () => {
  it('writes a folder that compiles on its own with solc', async () => {
    const outDir = join(root, 'export')
    const result = await exportVerifier({ zkeyPath: circuit.zkeyPath, modelId, modelName: 'tiny mlp-v2', outDir })
    expect(result.contractName).toBe('TinyMlpV2Verifier')
    expect(result.publicSignalCount).toBe(3)
    expect((await readdir(outDir)).sort()).toEqual([
      'IVerimlRegistryTypes.sol',
      'IVerimlResults.sol',
      'Owned.sol',
      'TinyMlpV2Verifier.sol',
      'VerimlModels.sol',
      'VerimlRegistry.sol',
      'VerimlResults.sol',
      'examples',
      'export.json',
    ])

    const source = await readFile(result.verifierPath, 'utf8')
    expect(source.split('\n')[0]).toMatch(/^\/\/ SPDX-License-Identifier/)
    expect(source).toContain(GENERATOR)
    expect(source).toContain(`Model id: ${modelId}`)
    expect(source).toContain('contract TinyMlpV2Verifier {')
    expect(source).not.toContain('Groth16Verifier')

    // Only the exported folder is visible to the compiler: imports cannot leave it.
    const compiled = compileSolidity({ baseDir: outDir, files: result.files })
    expect(compiled.contracts.TinyMlpV2Verifier.bytecode).toMatch(/^0x[0-9a-f]{200,}$/)
    expect(compiled.contracts.VerimlRegistry).toBeDefined()
    expect(compiled.contracts.InferenceConsumer).toBeDefined()
    expect(compiled.compiler.optimizer).toEqual({ enabled: true, runs: 200 })
    expect(compiled.compiler.version).toMatch(/^0\.8\.\d+/)
  })

  it('derives a contract name from the model id when no name is given', () => {
    expect(verifierContractName(modelId)).toBe(`Verifier_${modelId.slice(2, 10)}`)
    expect(verifierContractName(modelId, '2024 model')).toBe(`Verifier_${modelId.slice(2, 10)}`)
  })

  it('refuses a missing zkey and a malformed model id', async () => {
    await expect(
      exportVerifier({ zkeyPath: join(root, 'none.zkey'), modelId, outDir: join(root, 'x') }),
    ).rejects.toThrow(VerifierExportError)
    await expect(
      exportVerifier({ zkeyPath: circuit.zkeyPath, modelId: '0x12', outDir: join(root, 'x') }),
    ).rejects.toThrow(VerifierExportError)
  })
})

describe('compileSolidity', () => {
  it('reports errors with file and line', async () => {
    const dir = join(root, 'broken')
    await exportVerifier({ zkeyPath: circuit.zkeyPath, modelId, outDir: dir })
    await writeFile(
      join(dir, 'Broken.sol'),
      'pragma solidity 0.8.37;\n\ncontract Broken {\n  function f() public { undefinedThing(); }\n}\n',
    )
    expect(() => compileSolidity({ baseDir: dir, files: ['Broken.sol'] })).toThrow(SolcCompileError)
    try {
      compileSolidity({ baseDir: dir, files: ['Broken.sol'] })
    } catch (error) {
      expect((error as SolcCompileError).diagnostics[0]).toMatchObject({
        file: 'Broken.sol',
        line: 4,
        severity: 'error',
      })
    }
  })

  it('does not resolve imports outside the base directory', async () => {
    const dir = join(root, 'escape')
    await exportVerifier({ zkeyPath: circuit.zkeyPath, modelId, outDir: dir })
    await writeFile(
      join(dir, 'Escape.sol'),
      'pragma solidity 0.8.37;\nimport "../export/VerimlRegistry.sol";\ncontract Escape {}\n',
    )
    expect(() => compileSolidity({ baseDir: dir, files: ['Escape.sol'] })).toThrow(SolcCompileError)
  })

  it('keeps the exported ABIs equal to the compiled contracts', () => {
    const compiled = compileSolidity({
      baseDir: CONTRACTS_DIR,
      files: ['VerimlRegistry.sol', 'examples/InferenceConsumer.sol'],
    })
    const norm = (abi: readonly unknown[]) => [...Interface.from(abi as never[]).format()].sort()
    // verifyInference is the registry's fallback (cheaper than a function), declared in IVerimlVerify.
    const registryAbi = [
      ...(compiled.contracts.VerimlRegistry.abi as { type: string }[]).filter((f) => f.type !== 'fallback'),
      ...(compiled.contracts.IVerimlVerify.abi as unknown[]),
    ]
    expect((compiled.contracts.VerimlRegistry.abi as { type: string }[]).some((f) => f.type === 'fallback')).toBe(true)
    expect(norm(verimlRegistryAbi)).toEqual(norm(registryAbi))
    expect(norm(inferenceConsumerAbi)).toEqual(norm(compiled.contracts.InferenceConsumer.abi))
  })

  it('IVerimlResults, the interface consumers import, is answered by the registry (same functions, same ABI)', () => {
    const results = compileSolidity({ baseDir: CONTRACTS_DIR, files: ['IVerimlResults.sol'] }).contracts.IVerimlResults
    const functions = Interface.from(results.abi as never[]).format()
    expect(functions).toHaveLength(3)
    const registry = Interface.from(verimlRegistryAbi).format()
    for (const f of functions) expect(registry).toContain(f)
  })
})
