import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePath } from '../../models/make-fixtures.js'
import { startAnvil } from '../../src/chain/anvil.js'
import { verimlRegistry } from '../../src/chain/contracts.js'
import { WeightCommitmentMismatchError } from '../../src/chain/errors.js'
import { deployBuild } from '../../src/chain/model.js'
import { verifyOnChain } from '../../src/chain/verify-on-chain.js'
import { directWitness } from '../../src/circuit/direct/build.js'
import { loadPoseidonTables } from '../../src/circuit/direct/gadgets/poseidon-constants.js'
import { decodeWireMap } from '../../src/circuit/direct/wires.js'
import { wtnsBytes } from '../../src/circuit/r1cs/write-wtns.js'
import { weightCommitment } from '../../src/circuit/weights.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { irFromJson } from '../../src/ir/serialize.js'
import type { LinearOp } from '../../src/ir/types.js'
import { compileModel } from '../../src/prove/compile.js'
import { artifactPaths, proofPaths } from '../../src/prove/paths.js'
import { proveModel, runModel } from '../../src/prove/prove.js'
import { setupModel } from '../../src/prove/setup.js'
import { verifyProof } from '../../src/prove/verify.js'
import { shutdown } from '../../src/shutdown.js'
import { cliSpawn, ROOT } from '../helpers/cli.js'

const run = promisify(execFile)

/**
 * The tiny MLP compiled with `--weights hashed` (hashed input, public output, as the
 * benchmark), set up, proved, verified off chain and through the registry on anvil; and a
 * proof made with other weights, which the pairing check accepts but both verifiers refuse.
 */
describe('private Poseidon-committed weights end to end (tiny MLP)', () => {
  const input = { input_data: [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]] }
  let tmp: string
  let dir: string
  let proofDir: string
  let forgedDir: string
  let constantCount: number
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'veriml-weights-e2e-'))
    dir = join(tmp, 'build')
    proofDir = join(tmp, 'proof')
    forgedDir = join(tmp, 'forged')
    const visibility = { input: 'hashed', output: 'public' } as const
    constantCount = (
      await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: join(tmp, 'constant'), visibility })
    ).manifest.layout.count
    await compileModel({ onnxPath: fixturePath('tiny-mlp.onnx'), outDir: dir, visibility, weights: 'hashed' })
    await setupModel({ model: dir, dev: true })
    await proveModel({ model: dir, input, outDir: proofDir })

    // A proof with one weight changed: a valid witness of the same circuit, made by hand with
    // the prove-time witness pass (the build's wire map, the circuit's bounds, other weights).
    const ir = irFromJson(await readFile(artifactPaths(dir).ir, 'utf8'))
    const first = ir.steps.findIndex((s) => s.op.op === 'linear')
    const op = ir.steps[first]!.op as LinearOp
    const forgedIr = {
      ...ir,
      steps: ir.steps.map((s, i) =>
        i === first ? { ...s, op: { ...op, vals: [op.vals[0]! + 1n, ...op.vals.slice(1)] } } : s,
      ),
    }
    const map = decodeWireMap(await readFile(artifactPaths(dir).wires))
    if (typeof map === 'string') throw new Error(`wire map ${map}`)
    const { inputs } = await runModel({ model: dir, input: input })
    const witness = directWitness({
      model: forgedIr,
      bounds: analyzeBounds(ir),
      visibility,
      weights: 'hashed',
      inputs,
      poseidon: await loadPoseidonTables(),
      ...map,
    })
    const wtns = wtnsBytes(witness)
    const forged = await snarkjs.groth16.prove(artifactPaths(dir).zkey, { type: 'mem', data: wtns })
    await mkdir(forgedDir, { recursive: true })
    await writeFile(proofPaths(forgedDir).proof, JSON.stringify(forged.proof))
    await writeFile(proofPaths(forgedDir).public, JSON.stringify(forged.publicSignals))
  })
  afterAll(shutdown)

  it('records the commitment in the manifest: the TypeScript Poseidon of the IR weights, one public signal more than constant weights', async () => {
    const manifest = JSON.parse(await readFile(artifactPaths(dir).manifest, 'utf8'))
    const ir = irFromJson(await readFile(artifactPaths(dir).ir, 'utf8'))
    expect(manifest.options.weights).toBe('hashed')
    expect(manifest.layout.weights.commitment).toBe((await weightCommitment(ir)).toString())
    expect(manifest.layout.count).toBe(constantCount + 1)
    const signals = JSON.parse(await readFile(proofPaths(proofDir).public, 'utf8')) as string[]
    expect(signals).toHaveLength(manifest.layout.count)
    expect(signals.at(-1)).toBe(manifest.layout.weights.commitment)
  })

  it('CLI: compile --weights hashed prints the commitment; --weights takes constant|hashed only', async () => {
    const cli = (...args: string[]) => cliSpawn(args)
    const out = join(tmp, 'cli')
    const r = await cli(
      'compile',
      fixturePath('tiny-mlp.onnx'),
      '--out',
      out,
      '--input-visibility',
      'hashed',
      '--weights',
      'hashed',
    )
    expect(r.code).toBe(0)
    const manifest = JSON.parse(await readFile(artifactPaths(out).manifest, 'utf8'))
    expect(r.stdout).toContain(`weight commitment  ${manifest.layout.weights.commitment}`)
    expect(r.stdout).toMatch(/weights hashed/)
    const bad = await cli('compile', fixturePath('tiny-mlp.onnx'), '--out', out, '--weights', 'private')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--weights must be one of constant, hashed; got "private"/)
  })

  it('verifies off chain, and snarkjs itself (its CLI) accepts the proof', async () => {
    const v = await verifyProof({ model: dir, proofDir })
    expect(v.valid).toBe(true)
    expect(v.outputs?.[0]).toHaveLength(4)
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

  it('a proof made with other weights passes the pairing check but carries another commitment, which verify rejects', async () => {
    const signals = JSON.parse(await readFile(proofPaths(forgedDir).public, 'utf8')) as string[]
    const vkey = JSON.parse(await readFile(artifactPaths(dir).verificationKey, 'utf8'))
    const proof = JSON.parse(await readFile(proofPaths(forgedDir).proof, 'utf8'))
    expect(await snarkjs.groth16.verify(vkey, signals, proof)).toBe(true)
    const v = await verifyProof({ model: dir, proofDir: forgedDir })
    expect(v.valid).toBe(false)
    expect(v.reason).toMatch(/weight commitment .* is not this model's .*other weights/)
  })

  it('on chain: the registry counts the extra signal, accepts the proof, and refuses the other-weights proof by its commitment', async () => {
    const node = await startAnvil()
    try {
      const privateKey = node.accounts[0].privateKey
      const deploymentPath = join(tmp, 'deployment.json')
      const deployment = await deployBuild({ model: dir, rpcUrl: node.rpcUrl, privateKey, deploymentPath })
      const manifest = JSON.parse(await readFile(artifactPaths(dir).manifest, 'utf8'))
      expect(deployment.registration.publicSignalCount).toBe(manifest.layout.count)
      const registry = verimlRegistry(deployment.registry.address, node.provider)
      expect((await registry.model(deployment.modelId)).hashedWeights).toBe(true)
      expect(await registry.weightCommitment(deployment.modelId)).toBe(BigInt(manifest.layout.weights.commitment))

      const read = async (d: string) => ({
        proof: JSON.parse(await readFile(proofPaths(d).proof, 'utf8')),
        publicSignals: JSON.parse(await readFile(proofPaths(d).public, 'utf8')) as string[],
      })
      const good = await read(proofDir)
      const ok = await verifyOnChain({ rpcUrl: node.rpcUrl, privateKey, deploymentPath, ...good })
      expect(ok.accepted).toBe(true)
      if (ok.accepted)
        console.log(
          `hashed-weights tiny MLP: verifyInference gas ${ok.gasUsed}, ${good.publicSignals.length} public signals`,
        )
      // The output decodes from the output part only; the commitment belongs to neither part.
      const [inPart, outPart] = await registry.splitSignals(deployment.modelId, good.publicSignals.map(BigInt))
      expect(inPart.length + outPart.length).toBe(good.publicSignals.length - 1)
      expect((await registry.decodeOutputs(deployment.modelId, good.publicSignals.map(BigInt))).length).toBe(4)

      const forged = await read(forgedDir)
      await expect(verifyOnChain({ rpcUrl: node.rpcUrl, privateKey, deploymentPath, ...forged })).rejects.toThrow(
        WeightCommitmentMismatchError,
      )
      const returned = await verifyOnChain({
        rpcUrl: node.rpcUrl,
        privateKey,
        deploymentPath,
        ...forged,
        onRejected: 'return',
      })
      expect(returned.accepted).toBe(false)
    } finally {
      await node.stop()
    }
  })
})
