import type { IrModel, TensorId } from '../ir/types.js'
import { OptimisticModelError } from './errors.js'
import { type InputLane, inputLaneFor } from './input.js'
import { depthFor } from './merkle.js'
import { sizeOf } from '../util/shape.js'

/**
 * Where each tensor lives in the trace: states 0 .. inputCount-1 are the model inputs in
 * order, state inputCount + i is the output of step i. The trace tree has one leaf per state.
 */
export interface TraceLayout {
  inputCount: number
  stepCount: number
  stateCount: number
  /** Element count of each state. */
  stateSizes: number[]
  /** Trace position of each tensor id. */
  positionOf: Map<TensorId, number>
  /** State holding the (single) model output. */
  outputState: number
  traceDepth: number
  /** How claims post the input values: the narrowest lane holding every input's domain. */
  inputLane: InputLane
}


export function traceLayout(model: IrModel): TraceLayout {
  const fail = (reason: string) => new OptimisticModelError({ model: model.name, reason })
  if (model.inputs.length === 0) throw fail('it has no input')
  if (model.steps.length === 0) throw fail('it has no step')
  // The game binds one output tensor to the claim (see OptimisticGame.claim).
  if (model.outputs.length !== 1) throw fail(`it has ${model.outputs.length} outputs; the game supports exactly one`)
  const positionOf = new Map<TensorId, number>()
  const stateSizes: number[] = []
  for (const input of model.inputs) {
    positionOf.set(input.id, stateSizes.length)
    stateSizes.push(sizeOf(input.shape))
  }
  for (const step of model.steps) {
    for (const id of step.op.inputs) {
      // Steps are in topological order: an operand is always an earlier state.
      if (!positionOf.has(id)) throw fail(`step "${step.origin}" reads tensor ${id} before it is defined`)
    }
    if (positionOf.has(step.output.id)) throw fail(`step "${step.origin}" redefines tensor ${step.output.id}`)
    positionOf.set(step.output.id, stateSizes.length)
    stateSizes.push(sizeOf(step.output.shape))
  }
  if (stateSizes.some((n) => n < 1)) throw fail('a tensor has no element')
  const outputState = positionOf.get(model.outputs[0].tensor)
  if (outputState === undefined || outputState < model.inputs.length) throw fail('its output is not produced by a step')
  return {
    inputCount: model.inputs.length,
    stepCount: model.steps.length,
    stateCount: stateSizes.length,
    stateSizes,
    positionOf,
    outputState,
    traceDepth: depthFor(stateSizes.length),
    inputLane: inputLaneFor(model.inputs),
  }
}
