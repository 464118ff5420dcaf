import type { TensorId } from '../ir/types.js'
import { compose, identity } from '../onnx/affine.js'
import {
  type FloatAffine,
  type FloatClamp,
  type FloatGather,
  type FloatMax,
  type FloatMul,
  type FloatOp,
  type FloatQuant,
  type FloatSqrt,
  type FloatStep,
  type FloatUnary,
  sizeOf,
} from '../onnx/graph.js'
import { foldRows, rowFactor } from './dyadic.js'
import {
  clampOp,
  type FixedBuild,
  FixedScaleError,
  inPlace,
  onGrid,
  operands,
  push,
  quantizeValue,
  type State,
  uniformIndexMap,
  view,
} from './fixed-state.js'

/**
 * One rule per float step kind (src/quantize/fixed.ts): what the step's output is, as IR
 * steps pushed now or a map still pending its QuantizeLinear.
 */
type StepRule<Op extends FloatOp> = (b: FixedBuild, step: FloatStep, op: Op) => State

/** Every float step kind has a rule: a new kind fails to type-check here. */
const STEP_RULES: { [K in FloatOp['kind']]: StepRule<Extract<FloatOp, { kind: K }>> } = {
  quant: quantStep,
  unary: unaryStep,
  affine: affineStep,
  clamp: clampStep,
  max: maxStep,
  gather: gatherStep,
  mul: mulStep,
  div: (_b, step) => {
    throw new FixedScaleError({
      step: step.origin,
      problem: 'division by a tensor is not supported in pre-quantised (QDQ/QOperator) models yet',
      details: ['Give the float model and let veriml quantise it (calibration samples).'],
    })
  },
  sqrt: sqrtStep,
}

/** What a float step's output is, by its kind's rule (pushing the IR steps it needs). */
export function stepState(b: FixedBuild, step: FloatStep): State {
  // The table's type pairs each kind with its op; TypeScript cannot follow that through the lookup.
  const rule = STEP_RULES[step.op.kind] as StepRule<FloatOp> | undefined
  if (!rule)
    throw new FixedScaleError({
      step: step.origin,
      problem: `float step kind "${step.op.kind}" has no fixed-scale rule`,
    })
  return rule(b, step, step.op)
}

function quantStep(b: FixedBuild, step: FloatStep, op: FloatQuant): State {
  const src = b.state.get(op.inputs[0])!
  if (src.kind === 'func') {
    // Q(f(DQ(q))) over q's whole integer range is a table: one lookup, exact for every input.
    const table: bigint[] = []
    for (let q = src.lo; q <= src.hi; q++) table.push(BigInt(quantizeValue(src.f(Number(q)), op)))
    return {
      kind: 'int',
      id: push(b, step.origin, `${step.origin}:lookup`, step.shape, {
        op: 'lookup',
        inputs: [src.id],
        offset: src.lo,
        table,
      }),
    }
  }
  // A QuantizeLinear of a model input is the IR input itself.
  return b.quantOf.get(step.id) ? src : { kind: 'int', id: requantize(b, step, op) }
}

/** One quant step over a pending map: a linear step of folded integer weights, then one half-even requant. */
function requantize(b: FixedBuild, step: FloatStep, q: FloatQuant): TensorId {
  const { a, clamp } = view(b, q.inputs[0])
  const rows = Array.from(a.bias, (bias, j) => {
    const f = rowFactor(Array.from(a.vals.subarray(a.rowPtr[j], a.rowPtr[j + 1])))
    return { ints: f.ints, g: f.g, bias }
  })
  let folded: ReturnType<typeof foldRows>
  try {
    folded = foldRows(rows, q.scale)
  } catch (cause) {
    throw new FixedScaleError({
      step: step.origin,
      problem: `the requantisation multiplier of scale ${q.scale} is not a positive float32`,
      details: ["Check the model's scales: one is out of the float32 range."],
      cause,
    })
  }
  // Q(clamp(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi)) because Q is non-decreasing: Relu/Clip fuse into the requant.
  const lo = BigInt(clamp ? quantizeValue(clamp.lo, q) : q.lo),
    hi = BigInt(clamp ? quantizeValue(clamp.hi, q) : q.hi)
  const inputs = a.bases.map((base) => base.id)
  const W = folded.vals
  const n = a.bias.length
  // A shift-free identity map with one constant offset needs no linear step: requant adds it to the zero point.
  const plain =
    folded.shift === 0 &&
    a.bases.length === 1 &&
    a.bases[0].size === n &&
    a.cols.length === n &&
    a.cols.every((c, j) => c === j && a.rowPtr[j] === j) &&
    W.every((w) => w === 1n) &&
    folded.bias.every((x) => x === folded.bias[0])
  const src = plain
    ? inputs[0]
    : push(b, step.origin, `${step.origin}:acc`, step.shape, {
        op: 'linear',
        inputs,
        rowPtr: a.rowPtr,
        cols: a.cols,
        vals: W,
        bias: folded.bias,
      })
  const zeroPoint = BigInt(q.zeroPoint) + (plain ? folded.bias[0] : 0n)
  // Requantising to the same scale and zero point (DQ → MaxPool → Q) changes nothing when the values already fit.
  const known = plain ? b.range.get(src) : undefined
  if (known && zeroPoint === 0n && known[0] >= lo && known[1] <= hi) return src
  return push(b, step.origin, `${step.origin}:q`, step.shape, {
    op: 'requant',
    inputs: [src],
    mul: 1n,
    shift: folded.shift,
    zeroPoint,
    lo,
    hi,
    rounding: 'half-even',
  })
}

/** A float function of one dequantised tensor: kept as f until its QuantizeLinear makes it a table. */
function unaryStep(b: FixedBuild, step: FloatStep, op: FloatUnary): State {
  const v = view(b, op.inputs[0])
  const u = uniformIndexMap(v.a)
  if (!u || v.a.bases.length !== 1)
    throw new FixedScaleError({
      step: step.origin,
      problem: `${op.name} of a value that is not one per-tensor DequantizeLinear is not supported`,
    })
  let id = v.a.bases[0].id
  if (!inPlace(v.a))
    id = push(b, step.origin, `${step.origin}:move`, step.shape, {
      op: 'gather',
      inputs: [id],
      index: v.a.cols,
      fill: 0n,
    })
  const known = b.range.get(id)
  if (!known || known[1] - known[0] >= 1n << 16n)
    throw new FixedScaleError({
      step: step.origin,
      problem: `${op.name}: its input's integer range is ${known ? `[${known[0]}, ${known[1]}], too wide for a table` : 'not known'}`,
      details: ['Quantise the input of a float function to 8 or 16 bits.'],
    })
  const c = v.clamp
  // Float32 in and out, as onnxruntime computes: DequantizeLinear's (q - z)·s = s·q + b (exact) rounded,
  // and the function's result rounded (LeakyRelu's alpha·x is then onnxruntime's float32 product exactly).
  const f = (q: number) =>
    Math.fround(op.f(Math.fround(c ? Math.min(Math.max(u.s * q + u.b, c.lo), c.hi) : u.s * q + u.b)))
  return { kind: 'func', id, lo: known[0], hi: known[1], f, name: step.origin }
}

/**
 * Sqrt between a DequantizeLinear and a QuantizeLinear: a float function of one integer
 * tensor like any other (unaryStep), so one table, float32 as onnxruntime computes it. A
 * dequantised value below 0 has no square root (onnxruntime's NaN): refused by its range.
 */
function sqrtStep(b: FixedBuild, step: FloatStep, op: FloatSqrt): State {
  const s = unaryStep(b, step, { kind: 'unary', inputs: op.inputs, name: 'Sqrt', f: Math.sqrt })
  if (s.kind !== 'func') return s
  for (let q = s.lo; q <= s.hi; q++)
    if (Number.isNaN(s.f(Number(q))))
      throw new FixedScaleError({
        step: step.origin,
        problem: `Sqrt of a value whose integer range [${s.lo}, ${s.hi}] dequantises below 0 (at ${q})`,
        details: ['Quantise the Sqrt input to a non-negative range (uint8 with zero point 0, or after a Relu).'],
      })
  return s
}

function affineStep(b: FixedBuild, step: FloatStep, op: FloatAffine): State {
  const v = operands(b, step, 'a linear op')
  if (v.clamp) {
    throw new FixedScaleError({
      step: step.origin,
      problem: 'a Relu/Clip result feeds a linear op before being quantised',
      details: ["Put a QuantizeLinear/DequantizeLinear pair after the Relu/Clip, as onnxruntime's quantiser does."],
    })
  }
  const rowOf = (o: number) => ({
    idx: op.cols.subarray(op.rowPtr[o], op.rowPtr[o + 1]),
    w: op.vals.subarray(op.rowPtr[o], op.rowPtr[o + 1]),
    bias: op.bias[o],
  })
  return { kind: 'pending', a: compose(v.a, step.shape, rowOf), clamp: null }
}

function clampStep(b: FixedBuild, step: FloatStep, op: FloatClamp): State {
  const lo = op.lo ?? -Infinity,
    hi = op.hi ?? Infinity
  const s = b.state.get(op.inputs[0])!
  // Without bounds it is the identity (a softmax's input, made an activation on the calibrated path).
  if (lo === -Infinity && hi === Infinity) return s
  // On integers an integer clamp is exact; a fractional bound would leave the grid, so it waits for the next QuantizeLinear.
  if (s.kind === 'int' && onGrid(lo) && onGrid(hi))
    return { kind: 'int', id: push(b, step.origin, `${step.origin}:clamp`, step.shape, clampOp(s.id, lo, hi)) }
  const v = view(b, op.inputs[0])
  const c = v.clamp ?? { lo: -Infinity, hi: Infinity }
  const merged = { lo: Math.max(c.lo, lo), hi: Math.min(c.hi, hi) }
  if (merged.lo > merged.hi)
    throw new FixedScaleError({
      step: step.origin,
      problem: `clamps [${c.lo}, ${c.hi}] and [${lo}, ${hi}] do not overlap`,
    })
  return { kind: 'pending', a: v.a, clamp: merged }
}

/** The IR tensors of a step whose operands are all integer tensors, or null. */
function intInputs(b: FixedBuild, op: FloatOp): TensorId[] | null {
  const states = op.inputs.map((t) => b.state.get(t)!)
  return states.every((s) => s.kind === 'int') ? states.map((s) => (s as { id: TensorId }).id) : null
}

function maxStep(b: FixedBuild, step: FloatStep, op: FloatMax): State {
  const ints = intInputs(b, op)
  if (ints) {
    const max = { op: 'max', inputs: ints, rowPtr: op.rowPtr, cols: op.cols } as const
    return { kind: 'int', id: push(b, step.origin, `${step.origin}:max`, step.shape, max) }
  }
  // max(s·x + b) = s·max(x) + b for s > 0, and max commutes with a clamp: MaxPool on a dequantised tensor.
  const v = operands(b, step, 'a max')
  const u = uniformIndexMap(v.a)
  if (!u)
    throw new FixedScaleError({
      step: step.origin,
      problem: 'MaxPool of a value that is not one per-tensor DequantizeLinear is not supported',
      details: ['Quantise the MaxPool input per tensor.'],
    })
  const cols = Int32Array.from(op.cols, (c) => v.a.cols[c])
  const id = push(b, step.origin, `${step.origin}:max`, step.shape, {
    op: 'max',
    inputs: v.a.bases.map((base) => base.id),
    rowPtr: op.rowPtr,
    cols,
  })
  const n = sizeOf(step.shape)
  return {
    kind: 'pending',
    a: { ...identity(id, step.shape), vals: new Float64Array(n).fill(u.s), bias: new Float64Array(n).fill(u.b) },
    clamp: v.clamp,
  }
}

function gatherStep(b: FixedBuild, step: FloatStep, op: FloatGather): State {
  const ints = intInputs(b, op)
  if (ints && Number.isInteger(op.fill)) {
    const gather = { op: 'gather', inputs: ints, index: op.index, fill: BigInt(op.fill) } as const
    return { kind: 'int', id: push(b, step.origin, `${step.origin}:gather`, step.shape, gather) }
  }
  const v = operands(b, step, 'a movement op')
  if (v.clamp && (op.fill < v.clamp.lo || op.fill > v.clamp.hi))
    throw new FixedScaleError({
      step: step.origin,
      problem: `padding value ${op.fill} lies outside the clamp [${v.clamp.lo}, ${v.clamp.hi}] before it`,
    })
  const none = new Int32Array(0),
    empty = new Float64Array(0),
    one = Float64Array.of(1)
  return {
    kind: 'pending',
    clamp: v.clamp,
    a: compose(v.a, step.shape, (o) =>
      op.index[o] < 0 ? { idx: none, w: empty, bias: op.fill } : { idx: [op.index[o]], w: one, bias: 0 },
    ),
  }
}

// DQ(a)·DQ(b) = sa·sb·(qa - za)(qb - zb): the centred integers' product is exact; sa·sb stays a
// pending factor, folded by the next QuantizeLinear into its float32 multiplier fl32(sa·sb/sy).
function mulStep(b: FixedBuild, step: FloatStep, op: FloatMul): State {
  const centred = op.inputs.map((t) => centredOperand(b, step, t))
  const id = push(b, step.origin, `${step.origin}:mul`, step.shape, {
    op: 'mul',
    inputs: centred.map((c) => c.id),
    left: op.left,
    right: op.right,
  })
  const n = sizeOf(step.shape)
  return {
    kind: 'pending',
    a: {
      ...identity(id, step.shape),
      vals: new Float64Array(n).fill(centred[0].s * centred[centred.length - 1].s),
      bias: new Float64Array(n),
    },
    clamp: null,
  }
}

/** A Mul operand q - z as an IR tensor (moved or centred as needed) and its scale s. */
function centredOperand(b: FixedBuild, step: FloatStep, t: number): { id: TensorId; s: number } {
  const v = view(b, t)
  const u = uniformIndexMap(v.a)
  const z = u ? -u.b / u.s : NaN
  if (v.clamp || !u || v.a.bases.length !== 1 || !Number.isInteger(z) || u.b !== -z * u.s) {
    throw new FixedScaleError({
      step: step.origin,
      problem: 'Mul of a value that is not one per-tensor DequantizeLinear (moved at most) is not supported',
      details: ["Put a QuantizeLinear/DequantizeLinear pair on each Mul operand, as onnxruntime's quantiser does."],
    })
  }
  const n = v.a.bias.length,
    base = v.a.bases[0]
  if (z === 0 && inPlace(v.a)) return { id: base.id, s: u.s }
  const shape = b.shapes.get(t)!
  const id =
    z === 0
      ? push(b, step.origin, `${step.origin}:move`, shape, {
          op: 'gather',
          inputs: [base.id],
          index: v.a.cols,
          fill: 0n,
        })
      : push(b, step.origin, `${step.origin}:centre`, shape, {
          op: 'linear',
          inputs: [base.id],
          rowPtr: Int32Array.from({ length: n + 1 }, (_, j) => j),
          cols: v.a.cols,
          vals: Array(n).fill(1n),
          bias: Array(n).fill(BigInt(-z)),
        })
  return { id, s: u.s }
}
