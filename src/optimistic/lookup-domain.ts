import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel } from '../ir/types.js'
import { BaseError } from '../errors.js'
import { OptimisticModelError } from './errors.js'
import { laneRange } from './input.js'
import type { TraceLayout } from './layout.js'

/**
 * The game is over the integer program for every input a claim can post, i.e. every value of
 * the model's input lane, not only the calibrated domain (a watcher replays any posted input,
 * see `buildTrace`'s `anyInput`). A lookup whose input could leave its table for some lane
 * value would have no defined output there: no one could prove that element, and the party
 * that must call `step` would lose on time whatever the truth. So a model with lookups is
 * played only when the bounds analysis over the whole lane keeps every lookup in its table.
 * (The analysis assumes requant multipliers ≥ 0, as the circuit emitter enforces.)
 */
export function checkLookupsTotalOnLane(model: IrModel, layout: TraceLayout): void {
  if (!model.steps.some((s) => s.op.op === 'lookup')) return
  const { min, max } = laneRange(layout.inputLane)
  try {
    analyzeBounds({ ...model, inputs: model.inputs.map((i) => ({ ...i, lo: min, hi: max })) })
  } catch (cause) {
    if (!(cause instanceof BaseError)) throw cause
    throw new OptimisticModelError({
      model: model.name,
      reason: `its lookups are not defined for every input a claim can post (each input in [${min}, ${max}], the ${layout.inputLane.bytes}-byte input lane): ${cause.shortMessage}`,
      details: ['Clamp (requantise) each lookup input to its table domain, or give the table an entry for every value its input can take.'],
      cause,
    })
  }
}
