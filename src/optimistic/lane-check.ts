import { analyzeBounds } from '../ir/bounds.js'
import type { IrModel } from '../ir/types.js'
import { BaseError } from '../errors.js'
import { OptimisticModelError } from './errors.js'
import type { TraceLayout } from './layout.js'

/**
 * The game is over the integer program for every input a claim can post: each input's
 * declared domain [lo, hi] exactly, since the claim refuses a lane above hi − lo
 * (InputCommitment.sol, InputOutOfDomain) and the packing has no lane below lo. Some ops can be
 * undefined outside what the model was built for, and no one could then prove the element:
 * the party that must call `step` would lose on time whatever the truth.
 * - a lookup whose input leaves its table (LookupDomainError);
 * - a mul whose product leaves int256 (the one-step multiplies with checked arithmetic);
 * - a div by a divisor below 1, an isqrt of a negative value (OperandRangeError), and a div
 *   whose 2^(shift+1)·a + d leaves int256 (the one-step computes it checked).
 * So such a model is played only when the bounds analysis over the declared domains keeps
 * every lookup in its table, every divisor ≥ 1, every root operand ≥ 0 and every value — each
 * div's 2^(shift+1)·a + d included — under 2^240 (FieldOverflowError), far inside int256. The
 * analysis is the compiler's own (src/ir/bounds.ts), exact per op and sound for either sign
 * of a requant multiplier; a quantised model passes it by construction, a hand-built one may not.
 */
export function checkTotalOnLane(model: IrModel, _layout: TraceLayout): void {
  if (!model.steps.some((s) => PARTIAL_OPS.has(s.op.op))) return
  const domains = model.inputs.map((i) => `[${i.lo}, ${i.hi}]`).join(', ')
  const fail = (reason: string, cause?: Error) =>
    new OptimisticModelError({
      model: model.name,
      reason: `its lookups, products, divisions or square roots are not defined for every input a claim can post (inputs in ${domains}): ${reason}`,
      details: [
        'Clamp (requantise) each lookup input to its table domain, the operands of each Mul so that products stay small, each divisor to at least 1 and each square-root operand to at least 0, or give the table an entry for every value its input can take.',
      ],
      cause,
    })
  try {
    // Also bounds each div's 2^(shift+1)·a + d (what IntegerOps.div computes, checked) by 2^240.
    analyzeBounds(model)
  } catch (cause) {
    if (!(cause instanceof BaseError)) throw cause
    throw fail(cause.shortMessage, cause)
  }
}

const PARTIAL_OPS: ReadonlySet<string> = new Set(['lookup', 'mul', 'div', 'isqrt'])
