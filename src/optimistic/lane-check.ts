import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel } from '../ir/types.js'
import { BaseError } from '../errors.js'
import { OptimisticModelError } from './errors.js'
import { laneRange } from './input.js'
import type { TraceLayout } from './layout.js'

/**
 * The game is over the integer program for every input a claim can post, i.e. every value of
 * the model's input lane, not only the calibrated domain (a watcher replays any posted input,
 * see `buildTrace`'s `anyInput`). Two ops can be undefined there, and no one could then
 * prove the element: the party that must call `step` would lose on time whatever the truth.
 * - a lookup whose input leaves its table (LookupDomainError);
 * - a mul whose product leaves int256 (the one-step multiplies with checked arithmetic).
 * So a model with lookups or muls is played only when the bounds analysis over the whole lane
 * keeps every lookup in its table and every value under 2^240 (FieldOverflowError), far
 * inside int256. The analysis is the compiler's own (src/ir/bounds.ts), exact per op and
 * sound for either sign of a requant multiplier.
 */
export function checkTotalOnLane(model: IrModel, layout: TraceLayout): void {
  if (!model.steps.some((s) => s.op.op === 'lookup' || s.op.op === 'mul')) return
  const { min, max } = laneRange(layout.inputLane)
  try {
    analyzeBounds({ ...model, inputs: model.inputs.map((i) => ({ ...i, lo: min, hi: max })) })
  } catch (cause) {
    if (!(cause instanceof BaseError)) throw cause
    throw new OptimisticModelError({
      model: model.name,
      reason: `its lookups or products are not defined for every input a claim can post (each input in [${min}, ${max}], the ${layout.inputLane.bytes}-byte input lane): ${cause.shortMessage}`,
      details: [
        'Clamp (requantise) each lookup input to its table domain and the operands of each Mul so that products stay small, or give the table an entry for every value its input can take.',
      ],
      cause,
    })
  }
}
