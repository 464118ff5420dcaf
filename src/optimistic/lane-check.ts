import { analyzeBounds } from '../ir/bounds.js'
import type { DivOp, IrModel, TensorBounds, TensorId } from '../ir/types.js'
import { BaseError } from '../errors.js'
import { OptimisticModelError } from './errors.js'
import { laneRange } from './input.js'
import type { TraceLayout } from './layout.js'

const INT256_LIMIT = 1n << 255n

/**
 * The game is over the integer program for every input a claim can post, i.e. every value of
 * the model's input lane, not only the calibrated domain (a watcher replays any posted input,
 * see `buildTrace`'s `anyInput`). Some ops can be undefined there, and no one could then
 * prove the element: the party that must call `step` would lose on time whatever the truth.
 * - a lookup whose input leaves its table (LookupDomainError);
 * - a mul whose product leaves int256 (the one-step multiplies with checked arithmetic);
 * - a div by a divisor below 1, an isqrt of a negative value (OperandRangeError), and a div
 *   whose 2^(shift+1)·a + d or 2d leaves int256 (the one-step computes them checked).
 * So such a model is played only when the bounds analysis over the whole lane keeps every
 * lookup in its table, every divisor ≥ 1, every root operand ≥ 0 and every value under 2^240
 * (FieldOverflowError), far inside int256, and each div's intermediates inside int256. The
 * analysis is the compiler's own (src/ir/bounds.ts), exact per op and sound for either sign
 * of a requant multiplier.
 */
export function checkTotalOnLane(model: IrModel, layout: TraceLayout): void {
  if (!model.steps.some((s) => PARTIAL_OPS.has(s.op.op))) return
  const { min, max } = laneRange(layout.inputLane)
  const fail = (reason: string, cause?: Error) =>
    new OptimisticModelError({
      model: model.name,
      reason: `its lookups, products, divisions or square roots are not defined for every input a claim can post (each input in [${min}, ${max}], the ${layout.inputLane.bytes}-byte input lane): ${reason}`,
      details: [
        'Clamp (requantise) each lookup input to its table domain, the operands of each Mul so that products stay small, each divisor to at least 1 and each square-root operand to at least 0, or give the table an entry for every value its input can take.',
      ],
      cause,
    })
  let bounds: Map<TensorId, TensorBounds>
  try {
    bounds = analyzeBounds({ ...model, inputs: model.inputs.map((i) => ({ ...i, lo: min, hi: max })) })
  } catch (cause) {
    if (!(cause instanceof BaseError)) throw cause
    throw fail(cause.shortMessage, cause)
  }
  for (const step of model.steps) {
    if (step.op.op !== 'div') continue
    const over = divIntermediateOverflow(step.op, bounds)
    if (over !== null) throw fail(`step "${step.origin}": ${over}`)
  }
}

const PARTIAL_OPS: ReadonlySet<string> = new Set(['lookup', 'mul', 'div', 'isqrt'])

/**
 * Where 2^(shift+1)·a + d or 2d (what IntegerOps.div computes, checked) may leave int256 for
 * operands in their proven ranges, or null. |2^(shift+1)·a| + d bounds the numerator either side.
 */
function divIntermediateOverflow(op: DivOp, bounds: Map<TensorId, TensorBounds>): string | null {
  const lo = op.inputs.flatMap((id) => bounds.get(id)!.lo)
  const hi = op.inputs.flatMap((id) => bounds.get(id)!.hi)
  const scale = 1n << BigInt(op.shift + 1)
  for (let i = 0; i < op.num.length; i++) {
    const n = op.num[i]
    const a = n < 0 ? 1n : absMax(lo[n], hi[n])
    const d = hi[op.den[i]]
    if (a * scale + d >= INT256_LIMIT || 2n * d >= INT256_LIMIT)
      return `2^${op.shift + 1}·a + d of div element ${i} may reach ${a * scale + d}, outside int256`
  }
  return null
}

const absMax = (lo: bigint, hi: bigint): bigint => {
  const [l, h] = [lo < 0n ? -lo : lo, hi < 0n ? -hi : hi]
  return l > h ? l : h
}
