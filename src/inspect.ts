import { readInputFile } from './util/external.js'
import { UsageError } from './errors.js'
import { table } from './util/table.js'
import { DEFAULT_VISIBILITY } from './prove/compile.js'
import { emitCircuit } from './circuit/emit.js'
import { analyzeBounds } from './ir/bounds.js'
import { execute } from './ir/execute.js'
import { UnsupportedOpsError } from './onnx/lower.js'
import { lowerModel } from './prove/lower-model.js'
import { readOnnxFile } from './onnx/file.js'
import { compareOutputs } from './onnx/runtime.js'
import { floatReference } from './prove/float-reference.js'
import { dequantize, parseInputs, quantizeInputs } from './quantize/input.js'
import { onnxOutputs } from './quantize/postprocess.js'
import { quantize } from './quantize/quantize.js'
import { domainSamples, hasFixedScales } from './quantize/fixed.js'
import { describeOnchainFit } from './onchain/describe.js'
import {
  DEFAULT_CALIBRATION_SAMPLES,
  defaultCalibration,
  describeDefaultCalibration,
} from './quantize/default-calibration.js'

export interface InspectModelReturnType {
  text: string
  parameterCount: number
  unsupported: UnsupportedOpsError['nodes']
  /** Constraint estimate from the emitter's plan (null when the model is unsupported). */
  estimatedConstraints: number | null
}

async function readCalibration(path: string): Promise<unknown> {
  const text = (await readInputFile(path, 'calibration')).toString('utf8')
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new UsageError({ problem: `calibration ${path} is not valid JSON: ${(cause as Error).message}` })
  }
}

export interface InspectModelParameters {
  onnxPath: string
  /** Samples for the quantisation error and the circuit cost estimate (a quantised ONNX model needs none). */
  calibrationPath?: string
  /** Sizes of symbolic input dimensions, by name. */
  dims?: Readonly<Record<string, number>>
}

/** What a model is made of, whether veriml supports it, and what its circuit would cost. */
export async function inspectModel(p: InspectModelParameters): Promise<InspectModelReturnType> {
  const calibration = p.calibrationPath ? await readCalibration(p.calibrationPath) : undefined
  // A symbolic input dimension no --dim binds takes its size from the samples file.
  const { model: onnx, bytes } = await readOnnxFile(p.onnxPath, { dims: p.dims, inputFile: calibration })
  const parameterCount = [...onnx.initializers.values()].reduce((s, t) => s + t.data.length, 0)
  const ops = new Map<string, number>()
  for (const n of onnx.nodes) ops.set(n.opType, (ops.get(n.opType) ?? 0) + 1)
  const lines = [
    `model ${onnx.name} (opset ${onnx.opset}), ${onnx.nodes.length} nodes, ${parameterCount} parameters`,
    table([
      ['inputs', onnx.inputs.map((i) => `${i.name} [${i.shape}]`).join(', ')],
      ['outputs', onnx.outputs.map((i) => `${i.name} [${i.shape}]`).join(', ')],
    ]),
    '',
    table([['op', 'count'], ...[...ops].map(([k, v]) => [k, v])]),
  ]
  let graph
  try {
    graph = lowerModel(onnx)
  } catch (error) {
    if (!(error instanceof UnsupportedOpsError)) throw error
    lines.push('', `NOT SUPPORTED: ${error.shortMessage}`)
    return { text: lines.join('\n'), parameterCount, unsupported: error.nodes, estimatedConstraints: null }
  }
  // Token ids have a known domain (the table's rows): without a samples file, inspect calibrates
  // as compile does (src/quantize/default-calibration.ts) and says so. A float input's range is
  // the user's to give, so a model of float inputs still asks for samples.
  const byDefault = calibration === undefined && !hasFixedScales(graph) && graph.inputs.some((i) => i.tokenIds)
  const samples =
    calibration !== undefined
      ? parseInputs(calibration, graph.inputs, { many: true })
      : byDefault
        ? defaultCalibration(graph.inputs)
        : null
  lines.push('', 'supported: every node lowers to the integer IR')
  if (byDefault)
    lines.push(`calibration: ${describeDefaultCalibration(graph.inputs)}, as compile uses without a samples file`)
  // A quantised ONNX model carries its own scales: its estimate needs no samples file.
  if (samples || hasFixedScales(graph)) {
    const ir = quantize(graph, samples ?? [])
    const yardstick = (samples ?? domainSamples(ir, DEFAULT_CALIBRATION_SAMPLES)).slice(0, 64)
    const { cost } = emitCircuit({
      model: ir,
      bounds: analyzeBounds(ir),
      visibility: DEFAULT_VISIBILITY,
      source: false,
    })
    const estimate =
      cost.inputRangeChecks +
      cost.requant +
      cost.linear +
      cost.hashing +
      cost.max +
      cost.lookup +
      cost.mul +
      cost.div +
      cost.isqrt
    const { reference, note } = await floatReference(bytes, onnx.inputs, yardstick, graph)
    // A final Softmax is applied in float to the proven logits, as onnxruntime's output has it.
    const acc = compareOutputs(
      reference,
      yardstick.map((s) =>
        onnxOutputs(
          ir.outputs,
          execute(ir, quantizeInputs(ir.inputs, s)).outputs.map((o, k) => dequantize(o, ir.outputs[k].quant)),
        ),
      ),
    )
    lines.push(
      table([
        ['integer IR steps', ir.steps.map((s) => s.op.op).join(' → ')],
        ['activations', cost.activations],
        [
          'estimated constraints',
          `${estimate} (input range checks ${cost.inputRangeChecks}, requant ${cost.requant}, max ${cost.max}, lookup ${cost.lookup}, mul ${cost.mul}, div ${cost.div}, isqrt ${cost.isqrt}, linear ${cost.linear})`,
        ],
        [
          'quantisation error',
          `max |error| ${acc.maxAbsError.toPrecision(3)}, argmax agreement ${(100 * acc.argmaxAgreement).toFixed(1)}% (${acc.samples} samples)`,
        ],
        // onchain (issue 17): whether the whole model runs in one transaction, and its gas.
        ['run wholly on chain', describeOnchainFit(ir)],
      ]),
    )
    if (note) lines.push(`note: ${note}`)
    return { text: lines.join('\n'), parameterCount, unsupported: [], estimatedConstraints: estimate }
  }
  lines.push('(pass --calibration samples.json for the quantisation error and the circuit cost estimate)')
  return { text: lines.join('\n'), parameterCount, unsupported: [], estimatedConstraints: null }
}
