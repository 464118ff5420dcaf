import { BaseError, type BaseErrorParameters } from '../errors.js'
import type { IrOutput, OutputPostprocess } from '../ir/types.js'
import { sizeOf } from '../util/shape.js'

/** An output's post-processing note does not fit its values (a hand-edited or corrupt IR). */
export class PostprocessShapeError extends BaseError {
  override name = 'PostprocessShapeError'
  readonly output: string
  readonly expected: number
  readonly actual: number
  constructor(p: BaseErrorParameters & { output: string; expected: number; actual: number }) {
    super(`output "${p.output}": post-processing expects ${p.expected} values, the output has ${p.actual}`, {
      details: p.details,
      cause: p.cause,
    })
    this.output = p.output
    this.expected = p.expected
    this.actual = p.actual
  }
}

/**
 * Softmax or log-softmax along `axis` of `values` viewed as `shape`, in float64 with the
 * max subtracted first (exp never overflows).
 */
export function applyPostprocess(p: OutputPostprocess, values: readonly number[]): number[] {
  const D = p.shape[p.axis] ?? 1
  const inner = sizeOf(p.shape.slice(p.axis + 1))
  const outer = values.length / (D * inner)
  const out = new Array<number>(values.length)
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (d: number) => (o * D + d) * inner + i
      let m = -Infinity
      for (let d = 0; d < D; d++) m = Math.max(m, values[at(d)])
      let sum = 0
      for (let d = 0; d < D; d++) sum += Math.exp(values[at(d)] - m)
      for (let d = 0; d < D; d++)
        out[at(d)] = p.op === 'softmax' ? Math.exp(values[at(d)] - m) / sum : values[at(d)] - m - Math.log(sum)
    }
  }
  return out
}

function checked(o: IrOutput, values: readonly number[]): OutputPostprocess | undefined {
  const p = o.postprocess
  if (p && sizeOf(p.shape) !== values.length)
    throw new PostprocessShapeError({ output: o.name, expected: sizeOf(p.shape), actual: values.length })
  return p
}

/**
 * What the ONNX graph outputs from the proven (dequantised) values: post-processing applied
 * where an output has it. This is what compares with onnxruntime.
 */
export function onnxOutputs(outputs: readonly IrOutput[], real: readonly (readonly number[])[]): number[][] {
  return real.map((v, k) => {
    const p = checked(outputs[k], v)
    return p ? applyPostprocess(p, v) : [...v]
  })
}

/**
 * The probabilities reported next to proven logits: per output, softmax of the dequantised
 * logits (also for a LogSoftmax output: probabilities, not their logs), or null for an output
 * without post-processing. Undefined when no output has any, so reports stay as they were.
 */
export function outputProbabilities(
  outputs: readonly IrOutput[],
  real: readonly (readonly number[])[],
): (number[] | null)[] | undefined {
  if (!outputs.some((o) => o.postprocess)) return undefined
  return real.map((v, k) => {
    const p = checked(outputs[k], v)
    return p ? applyPostprocess({ ...p, op: 'softmax' }, v) : null
  })
}
