import { rm, stat } from 'node:fs/promises'
import { FileError, fileError } from '../util/external.js'
import * as snarkjs from 'snarkjs'
import { publicSignals } from '../circuit/public.js'
import { sideSignalCount } from '../ir/packing.js'
import type { IrModel } from '../ir/types.js'
import { runQuantized } from '../quantize/run.js'
import { writeJsonAtomic } from '../util/fs.js'
import { type Progress, silentProgress } from '../util/progress.js'
import { MissingArtifactError, ToolError, WitnessMismatchError } from './errors.js'
import { type ModelSource, resolveModel } from '../model.js'
import type { BuildManifest, Manifest } from './manifest.js'
import { proofPaths } from './paths.js'
import type { SnarkjsGroth16Proof } from './proof.js'
import { checkArtifacts } from './build-folder.js'

// In errors.ts (no node: import) so the browser entry throws the same class; re-exported here.
export { WitnessMismatchError } from './errors.js'

export interface RunModelReturnType {
  ir: IrModel
  /** A build of either target: the optimistic path runs the same IR (`veriml op claim`). */
  manifest: BuildManifest
  inputs: bigint[][]
  /** Integer outputs of the reference executor, one flat array per model output. */
  outputs: bigint[][]
  /** The same outputs as real values. */
  real: number[][]
  /**
   * Softmax of the real outputs for outputs with a final Softmax/LogSoftmax (null for the
   * others), computed in float from the proven logits; undefined when no output has one.
   */
  probabilities?: (number[] | null)[]
}

export interface RunModelParameters {
  /** A loaded model or its build folder, of either target (op claim runs an optimistic one). */
  model: ModelSource
  /** Input JSON: EZKL `{"input_data": [[...]]}` or named form (see parseInputs). */
  input: unknown
}

/** Reference executor on a compiled model: the definition of the model's output. */
export async function runModel(p: RunModelParameters): Promise<RunModelReturnType> {
  // Loading checks that the IR is the one compiled with this build (an interrupted recompile, an edit).
  const { ir, manifest } = await resolveModel(p.model)
  return { ir, manifest, ...runQuantized(ir, p.input) }
}

export interface ProveModelParameters {
  /** A loaded model (proving it again reuses its compiled witness generator) or its build folder. */
  model: ModelSource
  input: unknown
  outDir: string
  progress?: Progress
}

export interface ProveModelReturnType extends RunModelReturnType {
  manifest: Manifest
  publicSignals: string[]
  witnessMs: number
  proveMs: number
}

/** What output.json holds: the proven outputs as real values and as the circuit's integers. */
export interface ProofOutputJson {
  output_data: number[][]
  probabilities?: (number[] | null)[]
  output_ints: string[][]
  output_scales: number[]
  output_zero_points: number[]
  model_id: string
  public_signal_count: number
  input_signal_count: number
  insecure_setup: boolean
}

export interface ProveInMemoryParameters {
  /** A loaded model (proving it again reuses its compiled witness generator) or its build folder. */
  model: ModelSource
  input: unknown
  progress?: Progress
  /**
   * The proving key's bytes, read once and checked by the caller against the manifest
   * (`checkArtifactBytes(dir, manifest, 'zkey', bytes)`) together with the witness artifacts:
   * a long-lived prover (src/serve) then neither rereads nor rehashes them on every proof.
   * Without it, the artifacts are checked on disk and the key is read from its file.
   */
  zkey?: Uint8Array
}

export interface ProveInMemoryReturnType extends ProveModelReturnType {
  proof: SnarkjsGroth16Proof
  /** output.json's content. */
  output: ProofOutputJson
}

/**
 * Proves that the compiled model maps the input to its output, writing nothing: proveModel
 * writes what this returns, the prover service sends it. The public signals of the proof must
 * equal those computed from the reference executor; any difference is a compiler bug and is
 * reported as such instead of producing a proof of something else.
 */
export async function proveInMemory(p: ProveInMemoryParameters): Promise<ProveInMemoryReturnType> {
  const progress = p.progress ?? silentProgress
  // Refuses an optimistic build (no circuit) before running anything.
  const model = await resolveModel(p.model, { target: 'zk' })
  const { paths, dir, manifest } = model
  const run = { ...(await runModel({ model, input: p.input })), manifest }
  if (!run.manifest.setup)
    throw new MissingArtifactError({
      path: paths.zkey,
      hint: `no proving key: run \`veriml setup ${dir} --dev\` (or --ptau FILE) first.`,
    })
  // A truncated or foreign key, or a witness generator (circom's wasm, the direct build's wire
  // map) from another compile, is named here
  // rather than failing inside snarkjs or blamed on veriml as a witness mismatch.
  if (p.zkey === undefined) await checkArtifacts(dir, run.manifest, ['wasm', 'witnessJs', 'wires', 'zkey'])
  const expected = (await publicSignals(run.manifest.layout, run.inputs, run.outputs)).map(String)
  let t = performance.now()
  const calculate = await model.witness()
  const wtns = { type: 'mem' as const, data: await progress.step('witness', () => calculate(run.inputs)) }
  const witnessMs = performance.now() - t
  t = performance.now()
  const zkey = p.zkey === undefined ? paths.zkey : { type: 'mem' as const, data: p.zkey }
  const { proof, publicSignals: signals } = await progress
    .step(`proving (${run.manifest.constraintCount} constraints)`, () => snarkjs.groth16.prove(zkey, wtns))
    .catch((cause: unknown) => {
      throw new ToolError({
        tool: 'snarkjs',
        argv: ['groth16 prove', paths.zkey],
        problem: `proving failed: ${String((cause as Error)?.message ?? cause).split('\n')[0]}`,
        details: [`If ${paths.zkey} was replaced or damaged, redo the setup: veriml setup ${dir} --force.`],
      })
    })
  const proveMs = performance.now() - t
  const mismatch = signals.length !== expected.length ? -1 : signals.findIndex((s, i) => s !== expected[i])
  if (signals.length !== expected.length || mismatch >= 0) {
    const what =
      mismatch < 0
        ? `the circuit has ${signals.length} public signals, the layout ${expected.length}`
        : `public signal ${mismatch} of the circuit (${signals[mismatch]}) differs from the reference executor (${expected[mismatch]})`
    throw new WitnessMismatchError({
      problem: what,
      details: ['This is a veriml bug: please report it with the model and input.'],
    })
  }
  const output: ProofOutputJson = {
    output_data: run.real,
    ...(run.probabilities ? { probabilities: run.probabilities } : {}),
    output_ints: run.outputs.map((o) => o.map(String)),
    output_scales: run.ir.outputs.map((o) => o.quant.scale),
    output_zero_points: run.ir.outputs.map((o) => o.quant.zeroPoint),
    model_id: run.manifest.modelId,
    public_signal_count: signals.length,
    // The input part's signals: the registry's statement id commits to them (calldata's inferenceId).
    input_signal_count: sideSignalCount(run.manifest.layout.visibility.input, run.manifest.layout.inputs),
    insecure_setup: run.manifest.setup.insecure,
  }
  return { ...run, publicSignals: signals, witnessMs, proveMs, proof: proof as SnarkjsGroth16Proof, output }
}

/** proveInMemory, then proof.json, public.json and output.json written to `outDir`. */
export async function proveModel(p: ProveModelParameters): Promise<ProveModelReturnType> {
  // Refuses an optimistic build (no circuit), then an unusable --out, before running anything.
  const model = await resolveModel(p.model, { target: 'zk' })
  await checkProofDir(p.outDir)
  const { proof, output, ...run } = await proveInMemory({ model, input: p.input, progress: p.progress })
  const out = proofPaths(p.outDir)
  await writeProofFiles(p.outDir, async () => {
    await writeJsonAtomic(out.proof, proof)
    await writeJsonAtomic(out.public, run.publicSignals)
    await writeJsonAtomic(out.output, output)
  })
  return run
}

/** --out of prove: absent or a folder; checked before the witness is computed. */
async function checkProofDir(outDir: string): Promise<void> {
  if (outDir.trim() === '')
    throw new FileError({ path: '""', what: '--out', code: 'ENOENT', details: ['An empty path was given.'] })
  const s = await stat(outDir).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw fileError(e, outDir, '--out')
  })
  if (s && !s.isDirectory()) throw new FileError({ path: outDir, what: '--out', code: 'ENOTDIR' })
}

/** Writes the proof files; a failure (a read-only folder, a full disk) names --out and removes what was written. */
async function writeProofFiles(outDir: string, write: () => Promise<void>): Promise<void> {
  const existed = await stat(outDir).then(
    () => true,
    () => false,
  )
  try {
    await write()
  } catch (error) {
    if (!existed) await rm(outDir, { recursive: true, force: true })
    throw fileError(error, outDir, '--out')
  }
}
