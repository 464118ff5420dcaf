import { BaseError, type BaseErrorParameters } from '../errors.js'
import type { FloatAffine, FloatGraph, FloatStep } from '../onnx/graph.js'
import { executeFloat, sizeOf } from '../onnx/graph.js'
import { analyzeBounds } from '../ir/bounds.js'
import type { IrInput, IrModel, PrimitiveOp, Step, TensorBounds, TensorId } from '../ir/types.js'
import { type NonlinearContext, type Scaled, expFor, lowerMax, lowerMul, lowerUnary, rescale } from './nonlinear.js'
import { lowerDiv, lowerSqrt } from './division.js'
import { FixedScaleError, hasFixedScales, quantizeFixed } from './fixed.js'
import { narrowLookupClamps } from './lookup-clamps.js'
import { attentionCentred, attentionIndexExp, exactScores } from './attention-index.js'
import { tokenIdInput } from './input.js'

/** Bits of activations and of weights when none are given (library and CLI alike). */
export const DEFAULT_BITS = 8
/** Bit widths the quantiser and the field arithmetic support. */
export const BIT_RANGE = { min: 2, max: 32 } as const

export interface QuantizeOptions {
  /** Bits of every activation (the integer domain between non-linear ops). Default 8. */
  activationBits?: number
  /** Bits of every weight. Weights are circuit constants, so more bits cost only accumulator range. Default 8. */
  weightBits?: number
}

/** The calibration samples cannot quantise this model. */
export class CalibrationError extends BaseError {
  override name = 'CalibrationError'
  readonly problem: string
  constructor(p: BaseErrorParameters & { problem: string }) {
    super(p.problem, { details: p.details, cause: p.cause })
    this.problem = p.problem
  }
}

/**
 * A bit width outside BIT_RANGE. One class for quantize() and compileModel(), which checks
 * the same widths before any work; `option` is the name as the caller spelled it.
 */
export class BitWidthError extends BaseError {
  override name = 'BitWidthError'
  readonly option: string
  readonly value: number
  constructor(p: BaseErrorParameters & { option: string; value: number }) {
    super(`${p.option} must be an integer from ${BIT_RANGE.min} to ${BIT_RANGE.max}; got ${p.value}`, {
      details: p.details,
      cause: p.cause,
    })
    this.option = p.option
    this.value = p.value
  }
}

/** Throws BitWidthError unless `value` is an integer in BIT_RANGE. */
export function checkBitWidth(option: string, value: number): void {
  if (!Number.isInteger(value) || value < BIT_RANGE.min || value > BIT_RANGE.max)
    throw new BitWidthError({ option, value })
}

/** An integer tensor and its power-of-two scale: real = q / 2^exp (src/quantize/nonlinear.ts). */
type Realized = Scaled

/** Every float step kind has a branch above: a new kind fails to type-check here. */
function unhandled(step: FloatStep, op: never): never {
  throw new CalibrationError({
    problem: `step "${step.origin}": float step kind "${(op as { kind: string }).kind}" has no quantisation rule`,
  })
}

/** Shared bigints for the small integers weights quantise to: one allocation each instead of one per weight. */
const SMALL = 1 << 16
const SMALL_BIGINTS = Array.from({ length: 2 * SMALL + 1 }, (_, i) => BigInt(i - SMALL))
const smallBigInt = (v: number): bigint => (v >= -SMALL && v <= SMALL ? SMALL_BIGINTS[v + SMALL] : BigInt(v))

/**
 * The saturating lower bound of a clamp with only an upper bound: the activation's lowest
 * value, raised by one when that leaves [lo, hi] a power of two of values (softmax's
 * x − max ≤ 0 at int8: [−127, 0], 128 values, not [−128, 0]). The requant's upper clamp then
 * costs a 4-constraint zero test instead of a second range check (src/circuit/requant.ts), and
 * the one value given up is the domain's last (exp(−2) vs exp(−2 + 1/64) for a softmax whose
 * centred scores reach −2). Any other upper bound (a Clip's max) keeps the whole domain.
 */
function belowSpan(actLo: bigint, hi: bigint): bigint {
  const n = hi - actLo
  return n > 0n && (n & (n - 1n)) === 0n ? actLo + 1n : actLo
}

/** The largest k ≤ 30 such that 2^k divides every (integer-valued) entry; 0 when all are 0. */
function commonTwos(lists: readonly ArrayLike<number>[]): number {
  let k = 30
  let any = false
  for (const list of lists)
    for (let j = 0; j < list.length; j++) {
      const v = list[j]
      if (v === 0) continue
      any = true
      // Past 2^53 a double's low bits are not the integer's: keep such a list as it is.
      if (!Number.isSafeInteger(v)) return 0
      while (k > 0 && v % 2 ** k !== 0) k--
      if (k === 0) return 0
    }
  return any ? k : 0
}

/**
 * Quantises the float graph to the integer IR with power-of-two scales chosen from the
 * calibration samples: each activation gets the finest scale at which the calibrated range
 * fits the activation domain; each affine step gets the finest weight scale at which its
 * largest weight fits `weightBits`. Activations are clamped to their domain (saturating),
 * so every value stays within its proven bound whatever the input.
 *
 * A graph that carries its own quantisation (QDQ or QOperator ONNX: a QuantizeLinear on an
 * activation, or int8/uint8 inputs) takes the fixed-scale path instead (src/quantize/fixed.ts):
 * the model's scales and zero points, no calibration, and the bit-width options do not apply.
 */
export function quantize(
  graph: FloatGraph,
  calibration: readonly (readonly Float64Array[])[],
  options: QuantizeOptions = {},
): IrModel {
  const actBits = options.activationBits ?? DEFAULT_BITS
  const wBits = options.weightBits ?? DEFAULT_BITS
  checkBitWidth('activationBits', actBits)
  checkBitWidth('weightBits', wBits)
  const actLo = -(1n << BigInt(actBits - 1))
  const actHi = (1n << BigInt(actBits - 1)) - 1n
  if (hasFixedScales(graph)) return narrowLookupClamps(quantizeFixed(graph))
  if (calibration.length === 0)
    throw new CalibrationError({
      problem: 'no calibration samples',
      details: ['Pass --calibration samples.json with representative inputs.'],
    })

  // Calibrated range of every float tensor.
  const lo = new Map<number, number>(),
    hi = new Map<number, number>()
  for (const sample of calibration) {
    for (const [id, v] of executeFloat(graph, sample as Float64Array[])) {
      let a = lo.get(id) ?? Infinity,
        b = hi.get(id) ?? -Infinity
      for (const x of v) {
        if (x < a) a = x
        if (x > b) b = x
      }
      lo.set(id, a)
      hi.set(id, b)
    }
  }
  const maxAbs = (id: number) => Math.max(Math.abs(lo.get(id)!), Math.abs(hi.get(id)!))

  const steps: Step[] = []
  let nextId = 0
  const push = (origin: string, name: string, shape: number[], op: PrimitiveOp): TensorId => {
    const id = nextId++
    steps.push({ origin, op, output: { id, name, shape } })
    return id
  }

  const inputs: IrInput[] = graph.inputs.map((info, i) => {
    // Token ids are their own integers (scale 1): nothing to calibrate, only to check.
    if (info.tokenIds) return tokenIdInput(info, info.tokenIds, nextId++, calibration, i)
    // An attention mask (src/onnx/ops/input-mask.ts): 0 and 1 at scale 1, the circuit's range check.
    if (info.binary) return tokenIdInput(info, { lo: 0, hi: 1 }, nextId++, calibration, i)
    // An input that is 0 in every sample has no range to calibrate: scale 1 would round every real input to 0.
    if (!(maxAbs(info.id) > 0) || !Number.isFinite(maxAbs(info.id))) {
      throw new CalibrationError({
        problem: `input "${info.name}" is ${maxAbs(info.id) === 0 ? '0 in every calibration sample' : 'not finite in the calibration samples'}: its range cannot be calibrated`,
        details: [
          `The calibration has ${calibration.length} sample(s); give representative inputs that span the values the model will see.`,
        ],
      })
    }
    const unsigned = lo.get(info.id)! >= 0
    const [qlo, qhi] = unsigned ? [0n, (1n << BigInt(actBits)) - 1n] : [actLo, actHi]
    const exp = expFor(maxAbs(info.id), Number(qhi))
    return {
      id: nextId++,
      name: info.name,
      shape: info.shape,
      quant: { scale: 2 ** -exp, zeroPoint: 0 },
      lo: qlo,
      hi: qhi,
    }
  })
  const shapes = new Map<number, number[]>(graph.inputs.map((i) => [i.id, i.shape]))
  for (const s of graph.steps) shapes.set(s.id, s.shape)
  const raw = new Map<number, Realized>(
    graph.inputs.map((info, i) => [
      info.id,
      { id: inputs[i].id, exp: -Math.log2(inputs[i].quant.scale), activation: true },
    ]),
  )
  const act = new Map<number, Realized>()

  /** The tensor as an activation: an affine accumulator is requantised (saturating) to its calibrated scale. */
  const activation = (t: number, origin: string): Realized => {
    const r = raw.get(t)!
    if (r.activation) return r
    if (!act.has(t)) {
      const exp = expFor(maxAbs(t), Number(actHi))
      const id = push(origin, `${origin}:act`, shapes.get(t)!, {
        op: 'requant',
        inputs: [r.id],
        ...rescale(r.exp, exp),
        zeroPoint: 0n,
        lo: actLo,
        hi: actHi,
      })
      act.set(t, { id, exp, activation: true })
    }
    return act.get(t)!
  }

  // Proven bounds of the steps pushed so far, extended as steps are pushed (never recomputed).
  const proven = new Map<TensorId, TensorBounds>()
  const nonlinear: NonlinearContext = {
    activation,
    realized: (t) => raw.get(t)!,
    range: (t) => [lo.get(t)!, hi.get(t)!],
    push,
    actLo,
    actHi,
    maxAbs,
    shapeOf: (t) => shapes.get(t)!,
    bounds: (id) => analyzeBounds({ name: graph.name, inputs, steps, outputs: [] }, proven).get(id)!,
  }

  const rescaled = new Map<string, TensorId>()
  const lowerAffine = (step: FloatStep, op: FloatAffine): Realized => {
    // Products and division results are summed as they are: requantising each product of a
    // variance (or each normalised value before γ, β) to int8 first would throw away the bits
    // the sum needs. Weights are still quantised relative to each base's own exp.
    const ins = op.inputs.map((t) => (raw.get(t)!.exact ? raw.get(t)! : activation(t, step.origin)))
    const starts: number[] = []
    let at = 0
    for (const t of op.inputs) {
      starts.push(at)
      at += sizeOf(shapes.get(t)!)
    }
    const baseOf = (col: number) => {
      let b = starts.length - 1
      while (starts[b] > col) b--
      return b
    }
    // The accumulator scale: the finest at which every base's largest weight still fits wBits.
    // Loops over typed arrays, with the base looked up only when there are several: 10M-weight layers.
    const maxW = ins.map(() => 0)
    const unit = ins.map(() => true)
    const single = starts.length === 1
    for (let k = 0; k < op.cols.length; k++) {
      const b = single ? 0 : baseOf(op.cols[k])
      maxW[b] = Math.max(maxW[b], Math.abs(op.vals[k]))
      if (Math.abs(op.vals[k]) !== 1) unit[b] = false
    }
    const wLimit = 2 ** (wBits - 1) - 1
    const wBitsExp = Math.min(...ins.map((r, b) => r.exp + (maxW[b] > 0 ? expFor(maxW[b], wLimit) : 64)))
    // Only ±1 weights beside an exact base (a product sum less the row max of a softmax): every
    // base is exact at the finest of their exps, so the product base needs no rescale and the
    // activations' weights are powers of two (circuit constants: free).
    const allUnit = ins.length > 1 && unit.every((u) => u) && ins.some((r) => r.exact)
    const accExp = allUnit ? Math.max(...ins.map((r) => r.exp)) : wBitsExp
    // An exact base (products, at about twice an activation's exp) beside an activation: the
    // accumulator exp the activation allows would leave the products' weights a few bits (the
    // attention output projection plus the residual: error 0.54 of 1.4), or below 1 and rounded
    // to 0 (a product sum less the row max). Such a base is rescaled first to the exp where its
    // own weights get their wBits (±1 weights are exact at any exp ≤ accExp), dropping only
    // product bits below what the sum keeps anyway.
    for (let b = 0; b < ins.length; b++) {
      if (!ins[b].exact || maxW[b] === 0) continue
      const target = unit[b] ? accExp : accExp - expFor(maxW[b], wLimit)
      if (ins[b].exp <= target) continue
      // Several affines read one product sum (a block's context feeds the residual stream, the
      // next LayerNorm and the pool): one rescale per target exp, not one per reader.
      const key = `${ins[b].id}@${target}`
      let id = rescaled.get(key)
      if (id === undefined) {
        id = push(step.origin, `${step.origin}:rescale`, shapes.get(op.inputs[b])!, {
          op: 'requant',
          inputs: [ins[b].id],
          ...rescale(ins[b].exp, target),
          zeroPoint: 0n,
          lo: null,
          hi: null,
        })
        rescaled.set(key, id)
      }
      ins[b] = { ...ins[b], id, exp: target }
    }
    const factor = ins.map((r) => 2 ** (accExp - r.exp))
    const ints = new Float64Array(op.vals.length)
    for (let k = 0; k < ints.length; k++) ints[k] = Math.round(op.vals[k] * factor[single ? 0 : baseOf(op.cols[k])])
    const biasInts = Array.from(op.bias, (b) => Math.round(b * 2 ** accExp))
    // Integer weights and bias that share a factor 2^k (the 1/√d of attention scores, 1/n of a
    // mean, the 2^6 every ±1 weight gets at wBits): dividing it out is the same accumulator at
    // exp accExp − k, exactly, k bits narrower, which saves k constraints in every requant of it.
    const k = commonTwos([ints, biasInts])
    const vals = new Array<bigint>(ints.length)
    for (let j = 0; j < vals.length; j++) vals[j] = smallBigInt(ints[j] / 2 ** k)
    const bias = biasInts.map((b) => BigInt(b / 2 ** k))
    const id = push(step.origin, `${step.origin}:acc`, step.shape, {
      op: 'linear',
      inputs: ins.map((r) => r.id),
      rowPtr: op.rowPtr,
      cols: op.cols,
      vals,
      bias,
    })
    // A linear combination of products is still one (a variance, then the variance + ε): read as
    // it is by what follows. Anything else reading an accumulator requantises it.
    const exact = op.inputs.every((t) => raw.get(t)!.exact) ? { exact: 'product' as const } : {}
    return { id, exp: accExp - k, activation: false, ...exact }
  }

  // Attention's x − max, requantised coarser for exp's table (src/quantize/attention-index.ts).
  const centred = attentionCentred(graph)
  const keepExact = exactScores(graph)
  for (const step of graph.steps) {
    const op = step.op
    if (op.kind === 'affine') {
      raw.set(step.id, lowerAffine(step, op))
    } else if (op.kind === 'clamp') {
      // Clamp fuses with the requantisation of an accumulator; on an activation it is a pure clamp.
      const src = raw.get(op.inputs[0])!
      // Without bounds (a softmax's input, src/onnx/ops/normalization.ts) it only makes its input
      // an activation. Attention's scores, a sum of products, stay that exact sum: the row max
      // and x − max read it as it is, and only x − max is requantised, once, for exp's table
      // (src/quantize/attention-index.ts).
      if ((src.activation || (src.exact === 'product' && keepExact.has(step.id))) && op.lo === null && op.hi === null) {
        raw.set(step.id, src)
        continue
      }
      const calibrated = expFor(maxAbs(step.id), Number(actHi))
      const exp = src.activation ? src.exp : centred.has(step.id) ? attentionIndexExp(src.exp, calibrated) : calibrated
      // On an accumulator the clamp also saturates to the activation domain.
      const toInt = (v: number | null, dflt: bigint, pick: (a: bigint, b: bigint) => bigint) => {
        const q = v === null ? null : BigInt(Math.round(v * 2 ** exp))
        if (src.activation) return q
        return q === null ? dflt : pick(q, dflt)
      }
      const qhi = toInt(op.hi, actHi, (a, b) => (a < b ? a : b))
      const qlo = toInt(op.lo, op.lo === null && qhi !== null ? belowSpan(actLo, qhi) : actLo, (a, b) =>
        a > b ? a : b,
      )
      const id = push(step.origin, `${step.origin}:act`, step.shape, {
        op: 'requant',
        inputs: [src.id],
        ...rescale(src.exp, exp),
        zeroPoint: 0n,
        lo: qlo,
        hi: qhi,
      })
      raw.set(step.id, { id, exp, activation: true })
    } else if (op.kind === 'gather') {
      const ins = op.inputs.map((t) => activation(t, step.origin))
      const exp = Math.min(...ins.map((r) => r.exp))
      const ids = ins.map((r) =>
        r.exp === exp
          ? r.id
          : push(step.origin, `${step.origin}:rescale`, shapes.get(op.inputs[ins.indexOf(r)])!, {
              op: 'requant',
              inputs: [r.id],
              ...rescale(r.exp, exp),
              zeroPoint: 0n,
              lo: null,
              hi: null,
            }),
      )
      const id = push(step.origin, `${step.origin}:gather`, step.shape, {
        op: 'gather',
        inputs: ids,
        index: op.index,
        fill: BigInt(Math.round(op.fill * 2 ** exp)),
      })
      raw.set(step.id, { id, exp, activation: true })
    } else if (op.kind === 'max') {
      raw.set(step.id, lowerMax(nonlinear, step, op))
    } else if (op.kind === 'unary') {
      raw.set(step.id, lowerUnary(nonlinear, step, op))
    } else if (op.kind === 'mul') {
      raw.set(step.id, lowerMul(nonlinear, step, op))
    } else if (op.kind === 'div') {
      raw.set(step.id, lowerDiv(nonlinear, step, op))
    } else if (op.kind === 'sqrt') {
      raw.set(step.id, lowerSqrt(nonlinear, step, op))
    } else if (op.kind === 'quant') {
      // Not reached: a graph with a quant step takes the fixed-scale path above.
      throw new FixedScaleError({ step: step.origin, problem: 'QuantizeLinear reached the calibrated path' })
    } else {
      unhandled(step, op)
    }
  }
  const outputs = graph.outputs.map((o) => {
    const r = raw.get(o.id)!
    return {
      tensor: r.id,
      name: o.name,
      quant: { scale: 2 ** -r.exp, zeroPoint: 0 },
      ...(o.postprocess ? { postprocess: o.postprocess } : {}),
    }
  })
  const ir = { name: graph.name, inputs, steps, outputs }
  // The steps' bounds were proven as they were made: only the last steps' are new here.
  return narrowLookupClamps(ir, analyzeBounds(ir, proven))
}
