import { applyOp } from './ops.js'
import type { IrModel, TensorId } from './types.js'
import { IrInputError } from './errors.js'
import { sizeOf } from '../util/shape.js'

export interface ExecuteReturnType {
  /** Every tensor's values, by tensor id: inputs first, then one per step (the trace states). */
  values: Map<TensorId, bigint[]>
  outputs: bigint[][]
}

/** Gathers the concatenated operand vector of a step. */
export function operands<T>(values: ReadonlyMap<TensorId, T[]>, inputs: readonly TensorId[]): T[] {
  if (inputs.length === 1) return values.get(inputs[0])!
  return inputs.flatMap((id) => values.get(id)!)
}

/**
 * The reference executor: the definition of the model's output. Inputs are the quantised
 * integer tensors, one flat array per model input, already checked against their domains.
 */
export function execute(model: IrModel, inputs: readonly (readonly bigint[])[]): ExecuteReturnType {
  if (inputs.length !== model.inputs.length) {
    throw new IrInputError({ input: '(all)', expected: `${model.inputs.length} inputs`, actual: `${inputs.length}` })
  }
  const values = new Map<TensorId, bigint[]>()
  model.inputs.forEach((info, i) => {
    const size = sizeOf(info.shape)
    if (inputs[i].length !== size) {
      throw new IrInputError({
        input: info.name,
        expected: `${size} values (shape [${info.shape}])`,
        actual: `${inputs[i].length}`,
      })
    }
    inputs[i].forEach((v, k) => {
      if (v < info.lo || v > info.hi) {
        throw new IrInputError({
          input: info.name,
          expected: `integers in [${info.lo}, ${info.hi}]`,
          actual: `${v} at index ${k}`,
        })
      }
    })
    values.set(info.id, [...inputs[i]])
  })
  for (const step of model.steps) values.set(step.output.id, applyOp(step.op, operands(values, step.op.inputs)))
  return { values, outputs: model.outputs.map((o) => values.get(o.tensor)!) }
}
