import { FINAL_SOFTMAX, type FinalSoftmax } from '../../prove/lower-model.js'
import type { InputVisibility, OutputVisibility, WeightVisibility } from '../../circuit/layout.js'
import { inspectModel } from '../../inspect.js'
import { compileModel } from '../../prove/compile.js'
import { COMPILERS, type Compiler } from '../../prove/direct.js'
import { BUILD_TARGETS, type BuildTarget } from '../../prove/manifest.js'
import { quantizeOnnxFile } from '../../quantize/qdq/file.js'
import { terminalProgress } from '../../util/progress.js'
import { type Flags, choiceFlag, dimsFlag, intFlag, requiredString, stringFlag } from '../flags.js'
import { UsageError, ms, table } from '../format.js'
import { type Verb, positional } from '../verb.js'

/** The model verbs: look at an ONNX model, quantise it, compile it for either target. */

/** What the default calibration assumed (`calibration`: the manifest's description of it), said out loud. */
const defaultCalibrationNote = (calibration: string) =>
  calibration.includes('token ids')
    ? "NOTE: no --calibration given: float inputs are assumed uniform in [-1, 1) and token ids uniform over their table's rows; run and prove refuse float inputs outside that range. Pass --calibration samples.json with real inputs."
    : 'NOTE: no --calibration given: inputs are assumed uniform in [-1, 1); run and prove refuse inputs outside that range. Pass --calibration samples.json with real inputs.'

const INPUT_VIS = ['public', 'hashed', 'private'] as const
const OUTPUT_VIS = ['public', 'hashed'] as const
const WEIGHTS = ['constant', 'hashed'] as const
/** Bit widths the quantiser and the field arithmetic support (the emitter proves bounds below 2^253). */
const MIN_BITS = 2
const MAX_BITS = 32

export async function inspect(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [path] = positional(args, 1, verb.usage)
  const r = await inspectModel({
    onnxPath: path,
    calibrationPath: stringFlag(flags, 'calibration', { what: 'FILE' }),
    dims: dimsFlag(flags),
  })
  console.log(r.text)
  return r.unsupported.length > 0 ? 1 : 0
}

export async function quantize(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [onnxPath] = positional(args, 1, verb.usage)
  if (flags.calibration === undefined || flags.out === undefined)
    throw new UsageError({
      problem: '--calibration FILE and --out FILE are required',
      details: [`usage: ${verb.usage}`],
    })
  const r = await quantizeOnnxFile({
    onnxPath,
    calibrationPath: requiredString(flags, 'calibration', 'FILE'),
    outPath: requiredString(flags, 'out', 'FILE'),
    weightRange: flags['full-range-weights'] ? 'full' : 'reduced',
    progress: terminalProgress(),
  })
  console.log(
    table([
      [
        'quantised nodes',
        r.weights.map((w) => `${w.node} (${w.channels} channel${w.channels === 1 ? '' : 's'})`).join(', ') || 'none',
      ],
      [
        'activations',
        r.tensors.map((t) => `${t.tensor} ${t.type} scale ${t.scale.toPrecision(4)} zp ${t.zeroPoint}`).join('; '),
      ],
      ['calibration', `${r.calibrationSamples} samples`],
      [
        'int8 vs float (onnxruntime)',
        `max |error| ${r.agreement.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * r.agreement.argmaxAgreement).toFixed(1)}% over ${r.agreement.samples} calibration samples`,
      ],
      ['written', `${r.outPath} (${r.bytes} bytes)`],
    ]),
  )
  return 0
}

export async function compile(args: string[], flags: Flags, verb: Verb): Promise<number> {
  const [onnxPath] = positional(args, 1, verb.usage)
  const bits = (name: string) => intFlag(flags, name, { min: MIN_BITS, max: MAX_BITS })
  if (choiceFlag<BuildTarget>(flags, 'target', BUILD_TARGETS) === 'optimistic') {
    const zkOnly = ['input-visibility', 'output-visibility', 'weights', 'compiler'].filter(
      (f) => flags[f] !== undefined,
    )
    if (zkOnly.length > 0)
      throw new UsageError({
        problem: `${zkOnly.map((f) => `--${f}`).join(', ')} only apply to --target zk`,
        details: [`usage: ${verb.usage}`],
      })
    const r = await compileModel({
      onnxPath,
      outDir: requiredString(flags, 'out', 'DIR'),
      target: 'optimistic',
      calibrationPath: stringFlag(flags, 'calibration', { what: 'FILE' }),
      force: Boolean(flags.force),
      activationBits: bits('activation-bits'),
      weightBits: bits('weight-bits'),
      dims: dimsFlag(flags),
      finalSoftmax: choiceFlag<FinalSoftmax>(flags, 'final-softmax', FINAL_SOFTMAX),
      progress: terminalProgress(),
    })
    console.log(
      table([
        ['model id', r.manifest.modelId],
        ['target', 'optimistic (no circuit: `veriml op deploy` next)'],
        ['calibration', r.manifest.options.calibration],
        [
          'quantisation',
          `max |error| ${r.accuracy.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * r.accuracy.argmaxAgreement).toFixed(1)}% over ${r.accuracy.samples} samples`,
        ],
        ['compile', r.reused ? 'reused (nothing changed)' : ms(r.manifest.timings.compileMs)],
      ]),
    )
    const calibration = r.manifest.options.calibration
    if (calibration.startsWith('default')) console.log(defaultCalibrationNote(calibration))
    if (r.accuracy.referenceNote) console.log(`note: ${r.accuracy.referenceNote}`)
    return 0
  }
  const r = await compileModel({
    onnxPath,
    outDir: requiredString(flags, 'out', 'DIR'),
    calibrationPath: stringFlag(flags, 'calibration', { what: 'FILE' }),
    force: Boolean(flags.force),
    visibility: {
      input: choiceFlag<InputVisibility>(flags, 'input-visibility', INPUT_VIS),
      output: choiceFlag<OutputVisibility>(flags, 'output-visibility', OUTPUT_VIS),
    },
    weights: choiceFlag<WeightVisibility>(flags, 'weights', WEIGHTS),
    compiler: choiceFlag<Compiler>(flags, 'compiler', COMPILERS),
    activationBits: bits('activation-bits'),
    weightBits: bits('weight-bits'),
    dims: dimsFlag(flags),
    finalSoftmax: choiceFlag<FinalSoftmax>(flags, 'final-softmax', FINAL_SOFTMAX),
    progress: terminalProgress(),
  })
  const m = r.manifest
  console.log(
    table([
      ['model id', m.modelId],
      ['constraints', m.constraintCount],
      ['public signals', m.layout.count],
      [
        'visibility',
        `input ${m.layout.visibility.input}, output ${m.layout.visibility.output}, weights ${m.layout.weights ? 'hashed' : 'constant'}`,
      ],
      ...(m.layout.weights
        ? [
            [
              'weight commitment',
              `${m.layout.weights.commitment} (Poseidon over ${m.layout.weights.values} weights and biases, last public signal)`,
            ] as [string, string],
          ]
        : []),
      ['calibration', m.options.calibration],
      [
        'quantisation',
        `max |error| ${r.accuracy.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * r.accuracy.argmaxAgreement).toFixed(1)}% over ${r.accuracy.samples} samples`,
      ],
      [
        'compile',
        `${r.reused ? 'reused (nothing changed)' : ms(m.timings.compileMs)}, ${m.compiler === 'direct' ? 'direct backend' : 'circom'}`,
      ],
    ]),
  )
  // Said out loud: with no samples the scales fit inputs in [-1, 1), and run/prove refuse any input outside it.
  if (m.options.calibration.startsWith('default')) console.log(defaultCalibrationNote(m.options.calibration))
  if (r.accuracy.referenceNote) console.log(`note: ${r.accuracy.referenceNote}`)
  return 0
}
