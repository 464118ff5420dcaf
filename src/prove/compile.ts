import { access, readFile, rm } from 'node:fs/promises'
import { basename, join, relative } from 'node:path'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { readInputFile } from '../util/external.js'
import { checkOutDir, commitStaging, type OutDirState, withStaging } from './build-folder.js'
import { assertDirectSupported } from '../circuit/direct/build.js'
import { emitCircuit } from '../circuit/emit.js'
import type { Visibility, WeightVisibility } from '../circuit/layout.js'
import { weightCommitment } from '../circuit/weights.js'
import { analyzeBounds } from '../ir/bounds.js'
import { execute } from '../ir/execute.js'
import { irToJson, modelId } from '../ir/serialize.js'
import { type FinalSoftmax, lowerModel } from './lower-model.js'
import { readOnnxFile } from '../onnx/file.js'
import type { FloatGraph } from '../onnx/graph.js'
import { type AccuracyReport, compareOutputs, type runOnnxruntime } from '../onnx/runtime.js'
import { floatReference } from './float-reference.js'
import { dequantize, parseInputs, quantizeInputs } from '../quantize/input.js'
import { onnxOutputs } from '../quantize/postprocess.js'
import { DEFAULT_BITS, checkBitWidth, quantize } from '../quantize/quantize.js'
import { domainSamples, hasFixedScales } from '../quantize/fixed.js'
import {
  DEFAULT_CALIBRATION_SAMPLES,
  defaultCalibration,
  describeDefaultCalibration,
} from '../quantize/default-calibration.js'
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js'
import { type Progress, silentProgress } from '../util/progress.js'
import { VERIML_VERSION, packageVersion } from '../util/versions.js'
import { compileCircom } from './circom.js'
import { type Compiler, compileDirect } from './direct.js'
import {
  type BuildManifest,
  type BuildTarget,
  GENERATOR,
  type Manifest,
  type OptimisticManifest,
  readBuildManifest,
  sha256,
  sha256File,
  writeManifest,
} from './manifest.js'
import { artifactPaths } from './paths.js'
import type { IrModel } from '../ir/types.js'
import { type CompiledModel, compiledModel } from '../model.js'

export interface CompileModelParameters {
  onnxPath: string
  outDir: string
  /** JSON samples (EZKL `input_data` or named form, several samples concatenated). */
  calibrationPath?: string
  visibility?: Partial<Visibility>
  /** 'constant' (default): weights are circuit constants. 'hashed': private witness inputs with a public Poseidon commitment (src/circuit/weights.ts). */
  weights?: WeightVisibility
  activationBits?: number
  weightBits?: number
  progress?: Progress
  /** Recompile even when the manifest says nothing changed. */
  force?: boolean
  /** 'zk' (default): circuit, r1cs and witness generator. 'optimistic': the integer IR only, for `veriml op` (no circom). */
  target?: BuildTarget
  /** Sizes of symbolic input dimensions, by name (`--dim N=1`). */
  dims?: Readonly<Record<string, number>>
  /**
   * 'direct' (default): the R1CS and wire map are written from the IR (src/prove/direct.ts), the
   * witness computed in TypeScript; the circom source is still written. 'circom': circom
   * compiles the emitted source (wasm witness generator), the cross-check.
   */
  compiler?: Compiler
  /**
   * A final Softmax/LogSoftmax: 'probabilities' (default) proves the model's own output;
   * 'logits' proves its input (fewer constraints, same argmax) and reports the probabilities
   * computed in float from it.
   */
  finalSoftmax?: FinalSoftmax
}

/** A compile option file that cannot be read as given (calibration samples that are not JSON). */
export class CompileOptionError extends BaseError {
  override name = 'CompileOptionError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

export interface CompileModelReturnType<M extends BuildManifest = Manifest> {
  /** The build, loaded: pass it to setup, prove, verify and deploy instead of the folder. */
  model: CompiledModel<M>
  manifest: M
  accuracy: AccuracyReport
  reused: boolean
}

export const DEFAULT_VISIBILITY: Visibility = { input: 'public', output: 'public' }
// The default calibration is shared with inspect (src/quantize/default-calibration.ts).
export { defaultCalibration } from '../quantize/default-calibration.js'

/**
 * ONNX model → integer IR → circom circuit → r1cs + witness generator, in `outDir`.
 * Every artifact is written atomically; the circom output is built in a temporary folder
 * and renamed into place. When the manifest's compile key (model, calibration, options,
 * veriml version) is unchanged and the artifacts are intact, nothing is recompiled.
 * `target: 'optimistic'` stops after the IR (see compileOptimistic): no circuit, no circom.
 */
// The zk overload is last, so `ReturnType<typeof compileModel>` stays the zk build's.
export async function compileModel(
  p: CompileModelParameters & { target: 'optimistic' },
): Promise<CompileModelReturnType<OptimisticManifest>>
export async function compileModel(
  p: CompileModelParameters & { target: BuildTarget },
): Promise<CompileModelReturnType<BuildManifest>>
export async function compileModel(p: CompileModelParameters & { target?: 'zk' }): Promise<CompileModelReturnType>
export async function compileModel(p: CompileModelParameters): Promise<CompileModelReturnType<BuildManifest>> {
  const progress = p.progress ?? silentProgress
  const activationBits = p.activationBits ?? DEFAULT_BITS
  const weightBits = p.weightBits ?? DEFAULT_BITS
  checkBitWidth('--activation-bits', activationBits)
  checkBitWidth('--weight-bits', weightBits)
  // Refused before any work: a file, or a folder of other files.
  const outState = await checkOutDir(p.outDir)
  // bytes: self-contained (external data inlined), so the build's hash and copy cover the weights.
  const calibrationText = p.calibrationPath
    ? (await readInputFile(p.calibrationPath, 'calibration')).toString('utf8')
    : null
  const calibrationJson = calibrationText ? parseJson(calibrationText, `calibration ${p.calibrationPath}`) : undefined
  // A symbolic input dimension no --dim binds takes its size from the calibration samples.
  const {
    model: onnx,
    bytes,
    inferredDims,
  } = await readOnnxFile(p.onnxPath, {
    dims: p.dims,
    inputFile: calibrationJson,
  })
  const graph = lowerModel(onnx, p.finalSoftmax)
  // A quantised ONNX model (QDQ/QOperator) carries its own scales: no calibration, and a samples file is only the yardstick.
  const fixed = hasFixedScales(graph)
  const samples = calibrationText
    ? parseInputs(calibrationJson, graph.inputs, { many: true })
    : fixed
      ? []
      : defaultCalibration(graph.inputs)
  const visibility: Visibility = {
    input: p.visibility?.input ?? DEFAULT_VISIBILITY.input,
    output: p.visibility?.output ?? DEFAULT_VISIBILITY.output,
  }
  const calibration = calibrationText
    ? `${basename(p.calibrationPath!)} (${samples.length} samples, sha256 ${sha256(calibrationText)})`
    : fixed
      ? "none: the model's own scales (quantised ONNX)"
      : describeDefaultCalibration(graph.inputs)
  const weights = p.weights ?? 'constant'
  const ir = quantize(graph, samples, { activationBits, weightBits })
  const bounds = analyzeBounds(ir)
  const id = modelId(ir)
  const allDims = { ...inferredDims, ...p.dims }
  const dims = Object.keys(allDims).length > 0 ? allDims : undefined
  if (p.target === 'optimistic')
    return compileOptimistic({
      ...p,
      bytes,
      graph,
      name: onnx.name,
      inputs: onnx.inputs,
      ir,
      id,
      samples,
      options: { activationBits, weightBits, calibration, ...(dims ? { dims } : {}) },
      progress,
      outState,
    })
  const header = [`Generated by ${GENERATOR} — do not edit`, `model ${onnx.name}, id ${id}`]
  const emitted = emitCircuit({ model: ir, bounds, visibility, header, weights })
  const direct = (p.compiler ?? 'direct') === 'direct'
  // Refused before the yardstick and the build: an op kind the direct backend does not build.
  if (direct) assertDirectSupported(ir, visibility, weights)
  // The circuit's text is in the key: a build from an older emitter is never reused. Only a
  // non-default weights option enters it by name.
  const compileKey = sha256(
    JSON.stringify({
      onnx: sha256(bytes),
      calibration,
      visibility,
      activationBits,
      weightBits,
      VERIML_VERSION,
      circuit: sha256(emitted.source),
      ...(weights === 'hashed' ? { weights } : {}),
      ...(dims ? { dims } : {}),
      ...(direct ? { compiler: 'direct' } : {}),
    }),
  )

  const previous = await readBuildManifest(p.outDir)
  if (
    !p.force &&
    previous &&
    previous.target !== 'optimistic' &&
    previous.compileKey === compileKey &&
    (await intact(p.outDir, previous))
  ) {
    return reusedBuild(p.outDir, previous, ir)
  }

  // The commitment the verifier compares the proof's last public signal with.
  if (emitted.layout.weights) emitted.layout.weights.commitment = (await weightCommitment(ir)).toString()

  const accuracy = await floatYardstick(progress, bytes, onnx.inputs, ir, samples, graph)

  // Every artifact goes into a staging folder; the build folder changes only once all exist.
  const manifest = await withStaging(p.outDir, async (staging) => {
    const sp = artifactPaths(staging)
    await writeFileAtomic(sp.onnx, bytes)
    await writeFileAtomic(sp.ir, irToJson(ir))
    await writeJsonAtomic(sp.report, {
      accuracy,
      cost: emitted.cost,
      quantization: {
        inputs: ir.inputs.map((i) => ({ name: i.name, ...i.quant, lo: i.lo, hi: i.hi })),
        outputs: ir.outputs,
      },
    })
    await writeFileAtomic(sp.circuit, emitted.source)
    const compiled = direct
      ? await progress.step(`compiling circuit (direct backend, ${emitted.cost.activations} activations)`, () =>
          compileDirect({ paths: sp, ir, bounds, visibility, weights }),
        )
      : await progress.step(`compiling circuit (circom2, ${emitted.cost.activations} activations)`, () =>
          compileCircom(sp.circuitDir),
        )
    const m: Manifest = {
      generator: GENERATOR,
      modelId: id,
      modelName: onnx.name,
      compileKey,
      options: {
        visibility,
        activationBits,
        weightBits,
        calibration,
        ...(weights === 'hashed' ? { weights } : {}),
        ...(dims ? { dims } : {}),
      },
      layout: emitted.layout,
      ...(direct ? { compiler: 'direct' as const } : {}),
      constraintCount: compiled.constraintCount,
      tools: {
        ...('version' in compiled ? { circom2: String(compiled.version) } : {}),
        snarkjs: packageVersion('snarkjs'),
        node: process.version,
      },
      artifacts: {},
      timings: { compileMs: Math.round(compiled.compileMs) },
    }
    // A direct build has no wasm witness generator: its witness is computed from the IR.
    for (const f of [sp.onnx, sp.ir, sp.circuit, sp.r1cs, ...(direct ? [sp.wires] : [sp.wasm, sp.witnessJs])])
      m.artifacts[relative(staging, f)] = await sha256File(f)
    await writeManifest(staging, m)
    await commitStaging(staging, p.outDir, outState)
    return m
  })
  return { model: compiledModel(p.outDir, manifest, ir), manifest, accuracy, reused: false }
}

interface CompileOptimisticParameters extends CompileModelParameters {
  bytes: Uint8Array
  graph: FloatGraph
  name: string
  inputs: Parameters<typeof runOnnxruntime>[1]
  ir: IrModel
  id: `0x${string}`
  samples: Float64Array[][]
  options: OptimisticManifest['options']
  progress: Progress
  outState: OutDirState
}

/**
 * `--target optimistic`: the same IR (so the same model id) as a zk build, written with the
 * ONNX file and the accuracy report, and no circuit: the optimistic game re-executes the IR,
 * it never needs circom. Staged like a zk build (manifest last); a circuit, keys or verifier
 * left by an earlier zk build in the folder are removed, as the manifest no longer describes them.
 */
async function compileOptimistic(p: CompileOptimisticParameters): Promise<CompileModelReturnType<OptimisticManifest>> {
  const started = performance.now()
  const paths = artifactPaths(p.outDir)
  // The IR's hash is in the key: a quantiser change recompiles even under the same version.
  const compileKey = sha256(
    JSON.stringify({ target: 'optimistic', onnx: sha256(p.bytes), ...p.options, VERIML_VERSION, modelId: p.id }),
  )
  const previous = await readBuildManifest(p.outDir)
  if (
    !p.force &&
    previous?.target === 'optimistic' &&
    previous.compileKey === compileKey &&
    (await intact(p.outDir, previous))
  ) {
    return reusedBuild(p.outDir, previous, p.ir)
  }
  const { ir } = p
  const accuracy = await floatYardstick(p.progress, p.bytes, p.inputs, ir, p.samples, p.graph)
  const manifest = await withStaging(p.outDir, async (staging) => {
    const sp = artifactPaths(staging)
    await writeFileAtomic(sp.onnx, p.bytes)
    await writeFileAtomic(sp.ir, irToJson(ir))
    await writeJsonAtomic(sp.report, {
      target: 'optimistic',
      accuracy,
      quantization: {
        inputs: ir.inputs.map((i) => ({ name: i.name, ...i.quant, lo: i.lo, hi: i.hi })),
        outputs: ir.outputs,
      },
    })
    const m: OptimisticManifest = {
      target: 'optimistic',
      generator: GENERATOR,
      modelId: p.id,
      modelName: p.name,
      compileKey,
      options: p.options,
      tools: { node: process.version },
      artifacts: {},
      timings: {},
    }
    for (const f of [sp.onnx, sp.ir]) m.artifacts[relative(staging, f)] = await sha256File(f)
    m.timings.compileMs = Math.round(performance.now() - started)
    await writeManifest(staging, m)
    if (p.outState === 'build') {
      for (const stale of [
        paths.circuitDir,
        paths.zkey,
        paths.verificationKey,
        paths.ptau,
        paths.verifier,
        paths.deployment,
      ])
        await rm(stale, { recursive: true, force: true })
    }
    await commitStaging(staging, p.outDir, p.outState)
    return m
  })
  return { model: compiledModel(p.outDir, manifest, ir), manifest, accuracy, reused: false }
}

/**
 * An intact build compile did not redo, with the accuracy its compile reported. The IR just
 * quantised is the one in ir.json: its hash is in the compile key.
 */
async function reusedBuild<M extends BuildManifest>(
  outDir: string,
  previous: M,
  ir: IrModel,
): Promise<CompileModelReturnType<M>> {
  const report = JSON.parse(await readFile(artifactPaths(outDir).report, 'utf8')) as { accuracy: AccuracyReport }
  return { model: compiledModel(outDir, previous, ir), manifest: previous, accuracy: report.accuracy, reused: true }
}

/** The quantised model against onnxruntime's float run, on up to 64 calibration (or domain) samples. */
function floatYardstick(
  progress: Progress,
  bytes: Uint8Array,
  inputs: Parameters<typeof runOnnxruntime>[1],
  ir: IrModel,
  samples: Float64Array[][],
  graph: FloatGraph,
): Promise<AccuracyReport> {
  return progress.step('float yardstick (onnxruntime)', async () => {
    const yardstick = (samples.length > 0 ? samples : domainSamples(ir, DEFAULT_CALIBRATION_SAMPLES)).slice(0, 64)
    const { reference, note } = await floatReference(bytes, inputs, yardstick, graph)
    if (note) progress.info(note)
    // A final Softmax is applied in float to the proven logits, as onnxruntime's output has it.
    const quantized = yardstick.map((s) =>
      onnxOutputs(
        ir.outputs,
        execute(ir, quantizeInputs(ir.inputs, s)).outputs.map((o, k) => dequantize(o, ir.outputs[k].quant)),
      ),
    )
    return { ...compareOutputs(reference, quantized), ...(note ? { referenceNote: note } : {}) }
  })
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new CompileOptionError({ problem: `${what} is not valid JSON: ${(cause as Error).message}` })
  }
}

/** True when every artifact the manifest lists still has its recorded hash. */
export async function intact(dir: string, manifest: BuildManifest): Promise<boolean> {
  for (const [file, hash] of Object.entries(manifest.artifacts)) {
    try {
      await access(join(dir, file))
      if ((await sha256File(join(dir, file))) !== hash) return false
    } catch {
      return false
    }
  }
  return true
}
