import type { TensorBounds, TensorId } from '../ir/types.js'
import type { FloatDiv, FloatSqrt, FloatStep } from '../onnx/graph.js'
import { sizeOf } from '../onnx/graph.js'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import { GUARD_BITS, type NonlinearContext, type Scaled, expFor, rescale, wideBits } from './nonlinear.js'

/**
 * Quantisation of division and square root by input-dependent tensors (softmax inside the
 * graph, LayerNorm, RMSNorm). Both produce WIDE results: ~16 significant bits, far more than an
 * int8 activation, because what they feed (a normalised value times γ, a probability) would
 * otherwise lose most of its precision at the one place where the dynamic range is largest. A
 * wide result is an accumulator that the following linear and mul steps read as is (exactly);
 * whatever else reads it requantises it to an activation as after any linear step.
 */

/** Significant bits kept by a square root and a division over the calibrated (or proven) range. */
export const RESULT_BITS = 16
/** A divisor wider than this is shifted down first: its low bits do not change a 16-bit quotient. */
export const DIVISOR_BITS = 24
/** A numerator proven narrower than this is divided as it is (exactly); a wider one is requantised to an activation. */
export const NUMERATOR_BITS = 32

/** A division the quantiser cannot express soundly: a divisor that is not positive, mixed operands. */
export class DivisionError extends BaseError {
  override name = 'DivisionError'
  readonly step: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { step: string; problem: string }) {
    super(`step "${p.step}": ${p.problem}`, { details: p.details, cause: p.cause })
    this.step = p.step
    this.problem = p.problem
  }
}

const bitLength = (v: bigint): number => (v <= 0n ? 0 : v.toString(2).length)
const maxMagnitude = (b: TensorBounds): bigint =>
  [...b.lo, ...b.hi].reduce((m, v) => (v < 0n ? (-v > m ? -v : m) : v > m ? v : m), 0n)

/**
 * √x of any tensor: x·2^m clamped at 0, then isqrt. With y = isqrt(x·2^m) and x at exp e, y is √x
 * at exp (e + m)/2, so m has the parity of e; m is chosen so the calibrated largest root is just
 * under 2^16: the root keeps 16 significant bits there. The operand is clamped at 0 only when
 * its bounds do not already prove it non-negative (a variance plus ε is a sum of squares x·x,
 * which the bounds see as ≥ 0: then the scaling is a free linear step, no range check); the
 * clamp never binds for real inputs — it is what proves the root's operand non-negative.
 */
export function lowerSqrt(ctx: NonlinearContext, step: FloatStep, op: FloatSqrt): Scaled {
  const x = ctx.realized(op.inputs[0])
  const exp = expFor(Math.sqrt(ctx.maxAbs(step.id)), 2 ** RESULT_BITS - 1)
  const scaled = ctx.push(step.origin, `${step.origin}:root-operand`, step.shape, {
    op: 'requant',
    inputs: [x.id],
    ...rescale(x.exp, 2 * exp),
    zeroPoint: 0n,
    lo: ctx.bounds(x.id).lo.every((v) => v >= 0n) ? null : 0n,
    hi: null,
  })
  const id = ctx.push(step.origin, `${step.origin}:isqrt`, step.shape, { op: 'isqrt', inputs: [scaled] })
  return { id, exp, activation: false, exact: 'wide' }
}

/** Which of the step's inputs every index of `map` falls in (-1 entries skipped), and its offset. */
function soleInput(
  step: FloatStep,
  inputs: readonly number[],
  sizes: readonly number[],
  map: Int32Array,
  what: string,
): { input: number; offset: number } {
  const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0))
  const of = (v: number) => {
    let k = starts.length - 1
    while (starts[k] > v) k--
    return k
  }
  const first = map.find((v) => v >= 0)!
  const k = of(first)
  if (map.some((v) => v >= 0 && of(v) !== k))
    throw new DivisionError({ step: step.origin, problem: `the ${what}s come from more than one tensor` })
  return { input: inputs[k], offset: starts[k] }
}

/**
 * Division by a tensor. The divisor d (the row sum of a softmax, the σ of a normalisation) is
 * requantised with a clamp at 1 — the IR refuses a divisor that may be below 1, and for the
 * divisors transformers have it does not bind: a softmax row sum holds the table entry of
 * exp(0) = 1 (64 at exp 6 for int8), and σ = √(var + ε) is at least √ε·2^exp at the ~16-bit exp
 * of the root (≥ 1 unless √ε is below 2^-16 of the calibrated largest σ; then only a row that is
 * constant to that precision is clamped, and its quotient stays bounded instead of exploding). So
 * the clamp is the proof, not an approximation. A divisor whose calibrated range is not positive
 * is refused instead of being silently clamped.
 *
 * A divisor shared by several numerators (a row's sum or σ broadcast over the row) gets ONE
 * reciprocal, round(2^s / d) with s = wideBits + bits(d's calibrated max) so it keeps ≥ wideBits
 * significant bits for every d in the calibrated range (≥ GUARD_BITS beyond it), then one product per element: a product is one constraint, a division
 * several (its remainder's range checks). Unshared divisors take one division per element with
 * the shift that puts the calibrated largest quotient just under 2^16.
 */
export function lowerDiv(ctx: NonlinearContext, step: FloatStep, op: FloatDiv): Scaled {
  const sizes = op.inputs.map((t) => sizeOf(ctx.shapeOf(t)))
  const dIn = soleInput(step, op.inputs, sizes, op.den, 'divisor')
  const reciprocal = op.num.every((v) => v < 0)
  if (!reciprocal && op.num.some((v) => v < 0))
    throw new DivisionError({ step: step.origin, problem: 'some numerators are the constant 1 and some are not' })
  const [dLo] = ctx.range(dIn.input)
  if (!(dLo > 0))
    throw new DivisionError({
      step: step.origin,
      problem: `the divisor takes the value ${dLo} in the calibration samples; only a positive divisor is supported`,
      details: ['Softmax row sums and √(variance + ε) are positive; divide by such a tensor.'],
    })
  const d = ctx.realized(dIn.input)
  const nIn = reciprocal ? undefined : soleInput(step, op.inputs, sizes, op.num, 'numerator')
  const nRaw = nIn && ctx.realized(nIn.input)
  // INVARIANT: every divisor is proven ≥ 1 (the clamp), and at most DIVISOR_BITS wide.
  const drop = Math.max(0, bitLength(maxMagnitude(ctx.bounds(d.id))) - DIVISOR_BITS)
  const dExp = d.exp - drop
  // A structural lower bound (a softmax row sum ≥ exp(0) = 1), less 2^-8 of it for the rounding of
  // the terms (tables keep ≥ 8 bits): a clamp that never binds, which narrows the reciprocal's
  // proven range from [.., 2^s] to [.., 2^s / lo] and every range check downstream with it.
  const floor = op.denLo === undefined ? 1n : BigInt(Math.floor(op.denLo * 2 ** dExp * (1 - 2 ** -8)))
  const divisor = ctx.push(step.origin, `${step.origin}:divisor`, ctx.shapeOf(dIn.input), {
    op: 'requant',
    inputs: [d.id],
    mul: 1n,
    shift: drop,
    zeroPoint: 0n,
    lo: floor > 1n ? floor : 1n,
    hi: null,
  })
  const dMax = (maxMagnitude(ctx.bounds(d.id)) >> BigInt(drop)) + 1n
  const den = Int32Array.from(op.den, (v) => v - dIn.offset)
  // The numerator exactly when it is narrow (an activation, a linear accumulator), else as an activation.
  const numerator = (): Scaled =>
    nRaw!.activation || bitLength(maxMagnitude(ctx.bounds(nRaw!.id))) <= NUMERATOR_BITS
      ? nRaw!
      : ctx.activation(nIn!.input, step.origin)
  const uses = new Int32Array(sizes[op.inputs.indexOf(dIn.input)])
  for (const v of den) uses[v]++
  if (reciprocal || uses.some((u) => u > 1)) {
    // wideBits (12 at int8) at the CALIBRATED largest divisor: the products are requantised to
    // activations (see GUARD_BITS), and each bit of the shift is one constraint in every one of
    // those requantisations. A LayerNorm's σ is proven up to 4-16× its calibrated largest (the
    // bound of a row whose every deviation is the largest); such a row still gets GUARD_BITS
    // significant bits, never a reciprocal rounded to 0.
    const dCal = BigInt(Math.ceil(ctx.range(dIn.input)[1] * 2 ** dExp))
    const shift = Math.max(wideBits(ctx) + bitLength(dCal), GUARD_BITS + bitLength(dMax))
    const size = uses.length
    const recip = ctx.push(step.origin, `${step.origin}:reciprocal`, ctx.shapeOf(dIn.input), {
      op: 'div',
      inputs: [divisor],
      num: new Int32Array(size).fill(-1),
      den: Int32Array.from({ length: size }, (_, i) => i),
      shift,
    })
    const rExp = shift - dExp
    if (reciprocal) {
      const id =
        den.length === size && den.every((v, i) => v === i)
          ? recip
          : ctx.push(step.origin, `${step.origin}:broadcast`, step.shape, {
              op: 'gather',
              inputs: [recip],
              index: den,
              fill: 0n,
            })
      return { id, exp: rExp, activation: false, exact: 'wide' }
    }
    const n = numerator()
    const nSize = sizes[op.inputs.indexOf(nIn!.input)]
    const id = ctx.push(step.origin, `${step.origin}:mul`, step.shape, {
      op: 'mul',
      inputs: [n.id, recip],
      left: Int32Array.from(op.num, (v) => v - nIn!.offset),
      right: den.map((v) => v + nSize),
    })
    // A scaled value (x/σ of a normalisation, e/Σe of a softmax), not a sum of products: what reads
    // it requantises it to an activation. Fed exactly into the next projection, its 16-bit
    // reciprocal made every accumulator after it ~60 bits wide, and each requantisation of those
    // a ~60-bit range check (the bundled ViT: 550k constraints, 425k of them requants).
    return { id, exp: n.exp + rExp, activation: false }
  }
  const n = numerator()
  const nSize = sizes[op.inputs.indexOf(nIn!.input)]
  // The quotient n·2^s/d is at exp n.exp + s − dExp: s puts the calibrated largest just under 2^16.
  const shift = Math.max(0, expFor(ctx.maxAbs(step.id), 2 ** RESULT_BITS - 1) - n.exp + dExp)
  const id: TensorId = ctx.push(step.origin, `${step.origin}:div`, step.shape, {
    op: 'div',
    inputs: [n.id, divisor],
    num: Int32Array.from(op.num, (v) => v - nIn!.offset),
    den: den.map((v) => v + nSize),
    shift,
  })
  return { id, exp: n.exp + shift - dExp, activation: false, exact: 'wide' }
}
