import type { PrimitiveOp, TensorBounds, TensorId } from '../ir/types.js'
import type { FloatMax, FloatMul, FloatStep, FloatUnary } from '../onnx/graph.js'
import { BaseError, type BaseErrorParameters } from '../errors.js'

/** An integer tensor and its power-of-two scale (real = q / 2^exp), as quantize.ts tracks them. */
export interface Scaled {
  id: TensorId
  exp: number
  activation: boolean
  /**
   * An accumulator that linear steps read as it is, without requantising it to an activation
   * first: the products of a mul ('product': the x·x of a variance, summed exactly by the mean
   * that follows) and the ~16-bit results of a division or square root ('wide', which a mul
   * reads as is too: RMSNorm's x · 1/σ). The bounds analysis proves the sums stay in the field.
   */
  exact?: 'product' | 'wide'
}

/** What the max and unary rules need from the quantiser's state. */
export interface NonlinearContext {
  /** The float tensor as an activation (an accumulator is requantised, saturating, to its calibrated scale). */
  activation: (t: number, origin: string) => Scaled
  /** The float tensor as it was quantised (an activation or an accumulator), without requantising. */
  realized: (t: number) => Scaled
  /** Calibrated [min, max] of a float tensor. */
  range: (t: number) => [number, number]
  push: (origin: string, name: string, shape: number[], op: PrimitiveOp) => TensorId
  shapeOf: (t: number) => number[]
  /** Largest calibrated |value| of a float tensor. */
  maxAbs: (t: number) => number
  /** Proven bounds of a tensor pushed so far (analysed incrementally, never the whole model again). */
  bounds: (id: TensorId) => TensorBounds
  actLo: bigint
  actHi: bigint
}

/**
 * Largest exp such that maxAbs · 2^exp ≤ limit, 0 for an all-zero or non-finite range (powers of
 * two keep requantisation a shift). The one rule for every scale the quantiser picks.
 */
export function expFor(maxAbs: number, limit: number): number {
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return 0
  return Math.floor(Math.log2(limit / maxAbs))
}

/** The requant factor taking a value at scale 2^-exp to scale 2^-toExp: a shift down or an exact multiply up. */
export function rescale(exp: number, toExp: number): { mul: bigint; shift: number } {
  return toExp <= exp ? { mul: 1n, shift: exp - toExp } : { mul: 1n << BigInt(toExp - exp), shift: 0 }
}

/**
 * Rescales every operand to the coarsest of their exps (shift only: never loses range). A sum
 * of products (attention's scores, which reach a softmax unrequantised) is read as it is.
 */
function commonScale(
  ctx: NonlinearContext,
  step: FloatStep,
  inputs: readonly number[],
): { ids: TensorId[]; exp: number } {
  const ins = inputs.map((t) =>
    ctx.realized(t).exact === 'product' ? ctx.realized(t) : ctx.activation(t, step.origin),
  )
  const exp = Math.min(...ins.map((r) => r.exp))
  return { ids: atExp(ctx, step, inputs, ins, exp), exp }
}

/**
 * Each operand at scale 2^-exp: a coarser one multiplied up (exact, free in R1CS), a finer one
 * shifted down (rounded); neither clamps. One rescale step per operand not already there.
 */
function atExp(
  ctx: NonlinearContext,
  step: FloatStep,
  inputs: readonly number[],
  ins: readonly Scaled[],
  exp: number,
): TensorId[] {
  return ins.map((r, i) =>
    r.exp === exp
      ? r.id
      : ctx.push(step.origin, `${step.origin}:rescale`, ctx.shapeOf(inputs[i]), {
          op: 'requant',
          inputs: [r.id],
          ...rescale(r.exp, exp),
          zeroPoint: 0n,
          lo: null,
          hi: null,
        }),
  )
}

/**
 * MaxPool: the max of activations at one scale is an activation at that scale, exactly. The
 * row max of sums of products (a softmax over attention scores) is such a sum itself.
 */
export function lowerMax(ctx: NonlinearContext, step: FloatStep, op: FloatMax): Scaled {
  const { ids, exp } = commonScale(ctx, step, op.inputs)
  const id = ctx.push(step.origin, `${step.origin}:max`, step.shape, {
    op: 'max',
    inputs: ids,
    rowPtr: op.rowPtr,
    cols: op.cols,
  })
  const products = op.inputs.every((t) => ctx.realized(t).exact === 'product')
  return products ? { id, exp, activation: false, exact: 'product' } : { id, exp, activation: true }
}

/** Tables larger than this are refused: a lookup costs about 3·√entries constraints per element. */
export const MAX_TABLE_ENTRIES = 1 << 16

/** A unary step that has no usable lookup table: too large a domain, or a non-finite value. */
export class LookupTableError extends BaseError {
  override name = 'LookupTableError'
  readonly step: string
  readonly function: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { step: string; function: string; problem: string }) {
    super(`step "${p.step}" (${p.function}): ${p.problem}`, { details: p.details, cause: p.cause })
    this.step = p.step
    this.function = p.function
    this.problem = p.problem
  }
}

/**
 * Functions whose table entries keep GUARD_BITS more than an activation: exp, whose values span
 * orders of magnitude and, in softmax, feed only the row sum and the products by its reciprocal
 * — which need no activation. At int8, exp of x − max ≤ 0 would be 64 levels over (0, 1] (a
 * probability of 0.05 off by up to 8 %). The table costs the same (its size is the input's
 * domain); its result is a wide accumulator that a reader needing an activation requantises.
 */
const WIDE_TABLES = new Set(['Exp'])

/**
 * Bits beyond an activation's kept by values that are products' operands on their way to an
 * activation (exp's table entries, a shared reciprocal): their rounding stays 2^-4 of the
 * activation's, and each further bit would cost one constraint in every requantisation of their
 * products (the dropped low bits are range-checked). 16 bits at int8 gave the same accuracy on
 * the bundled ViT and the nanoGPT block at 12 bits instead of 16 at int8.
 */
export const GUARD_BITS = 4

/** Significant bits of a wide table or reciprocal: the activation's plus GUARD_BITS. */
export const wideBits = (ctx: Pick<NonlinearContext, 'actHi'>): number => ctx.actHi.toString(2).length + 1 + GUARD_BITS

/**
 * An elementwise real function as a table lookup. The input is an activation, so its proven
 * range is a small interval [lo, hi] (256 values for int8, fewer after a ReLU or for an
 * unsigned input); the table has exactly one entry per value:
 *   T[q] = clamp(round(f(q · 2^-expIn) · 2^expOut), actLo, actHi),
 * expOut the finest exp at which the calibrated output range fits the activation domain (for
 * bounded functions such as sigmoid, their range over the calibration). Entries beyond the
 * calibrated range saturate, like every other activation.
 */
export function lowerUnary(ctx: NonlinearContext, step: FloatStep, op: FloatUnary): Scaled {
  const input = ctx.activation(op.inputs[0], step.origin)
  const b = ctx.bounds(input.id)
  const lo = b.lo.reduce((m, v) => (v < m ? v : m)),
    hi = b.hi.reduce((m, v) => (v > m ? v : m))
  const entries = hi - lo + 1n
  if (entries > BigInt(MAX_TABLE_ENTRIES)) {
    throw new LookupTableError({
      step: step.origin,
      function: op.name,
      problem: `its input takes ${entries} integer values, more than the ${MAX_TABLE_ENTRIES} a lookup table may have`,
      details: ['Quantise activations to at most 16 bits.'],
    })
  }
  const wide = WIDE_TABLES.has(op.name)
  const wideLimit = (1n << BigInt(wideBits(ctx))) - 1n
  const [outLo, outHi] = wide ? [-wideLimit, wideLimit] : [ctx.actLo, ctx.actHi]
  // An embedding table's column: the whole table's range, so every id fits and every column shares one scale.
  const expOut = expFor(op.outMaxAbs ?? ctx.maxAbs(step.id), Number(outHi))
  const table: bigint[] = []
  for (let q = lo; q <= hi; q++) {
    const y = op.f(Number(q) * 2 ** -input.exp)
    if (!Number.isFinite(y))
      throw new LookupTableError({
        step: step.origin,
        function: op.name,
        problem: `f(${Number(q) * 2 ** -input.exp}) = ${y} is not finite`,
      })
    const t = BigInt(Math.round(y * 2 ** expOut))
    table.push(t < outLo ? outLo : t > outHi ? outHi : t)
  }
  const id = ctx.push(step.origin, `${step.origin}:lookup`, step.shape, {
    op: 'lookup',
    inputs: [input.id],
    offset: lo,
    table,
  })
  return wide ? { id, exp: expOut, activation: false, exact: 'wide' } : { id, exp: expOut, activation: true }
}

/** Squares of an accumulator this narrow are summed exactly (≤ 2·28 bits each, far inside the field). */
const SQUARED_BITS = 28

/**
 * A linear accumulator (not a product) proven within ±2^SQUARED_BITS: a LayerNorm's x − μ. Its
 * squares are exact and the variance they sum is exact, instead of the squares of its int8
 * requantisation: the requantisation (a range check as wide as the accumulator, per element)
 * disappears, and the division reads the same accumulator anyway (src/quantize/division.ts).
 */
function narrowAccumulator(ctx: NonlinearContext, r: Scaled): boolean {
  if (r.activation || r.exact) return false
  const b = ctx.bounds(r.id)
  const limit = 1n << BigInt(SQUARED_BITS)
  return b.lo.every((v) => v >= -limit) && b.hi.every((v) => v <= limit)
}

/**
 * Mul of two input-dependent tensors: both operands are activations (requantised to their
 * calibrated scales), or a wide division result read as is (a reciprocal keeps its 16 bits),
 * so each product is exact at exp = expA + expB. The product is an accumulator, not an
 * activation: a following linear step sums the products exactly (a variance's mean of x·x),
 * anything else requantises it. The index maps carry over: IR operands have the float sizes.
 */
export function lowerMul(ctx: NonlinearContext, step: FloatStep, op: FloatMul): Scaled {
  const square = op.inputs.length === 1 && op.left.every((v, i) => v === op.right[i])
  const ins = op.inputs.map((t) => {
    const r = ctx.realized(t)
    return r.exact === 'wide' || (square && narrowAccumulator(ctx, r)) ? r : ctx.activation(t, step.origin)
  })
  // The product's scale is the left operand's times the right one's: each side must read
  // inputs of one scale. A mul whose left (or right) operands span inputs at different scales
  // (three inputs, or a side crossing inputs) takes them all at the finest of those scales:
  // a multiplication by 2^k, exact and free in R1CS (a requant with shift 0 and no clamp).
  const sides = [sideExps(ctx, op.inputs, ins, op.left), sideExps(ctx, op.inputs, ins, op.right)]
  let ids = ins.map((r) => r.id)
  let exp = [...sides[0]][0] + [...sides[1]][0]
  if (sides.some((e) => e.size > 1)) {
    const fine = Math.max(...ins.map((r) => r.exp))
    ids = atExp(ctx, step, op.inputs, ins, fine)
    exp = 2 * fine
  }
  const id = ctx.push(step.origin, `${step.origin}:mul`, step.shape, {
    op: 'mul',
    inputs: ids,
    left: op.left,
    right: op.right,
  })
  return { id, exp, activation: false, exact: 'product' }
}

/** The exps of the inputs one side of a mul reads (`index` into the concatenation of `inputs`). */
function sideExps(
  ctx: NonlinearContext,
  inputs: readonly number[],
  ins: readonly Scaled[],
  index: Int32Array,
): Set<number> {
  const ends: number[] = []
  let end = 0
  for (const t of inputs) ends.push((end += ctx.shapeOf(t).reduce((a, b) => a * b, 1)))
  const exps = new Set<number>()
  for (const v of index) exps.add(ins[ends.findIndex((e) => v < e)].exp)
  return exps
}
