import { BaseError } from '../errors.js'
import type { IrInput, IrModel, IrOutput, PrimitiveOp, Step, TensorId } from '../ir/types.js'
import { type Affine, compose, identity } from '../onnx/affine.js'
import { type FloatGraph, type FloatQuant, type FloatStep, roundHalfEven, sizeOf } from '../onnx/graph.js'
import { foldRows, rowFactor } from './dyadic.js'

/**
 * The fixed-scale path: a quantised ONNX model (QDQ or QOperator) already says how every
 * value is quantised, so its integer IR uses the model's own scales and zero points and
 * needs no calibration.
 *
 * The float graph is integer-valued at every 'quant' step (and at int8/uint8 graph inputs);
 * between them sit affine maps (DequantizeLinear fused with the linear ops that follow it),
 * clamps (Relu, Clip), max windows (MaxPool) and index maps. Each quant step becomes one
 * linear step plus one half-even requant, per output row j:
 *   y_j = clamp(roundHalfEven(Σ_k c_jk x_k + b_j) / s_y) + z_y, lo, hi)
 * with c_jk = g_j · A_jk (A_jk integers, src/quantize/dyadic.ts) and 1/s_y applied as
 * onnxruntime does, through the float32 multiplier M_j = float32(g_j / s_y).
 */

export class FixedScaleError extends BaseError {
  override name = 'FixedScaleError'
  readonly step: string
  readonly problem: string
  constructor(step: string, problem: string, details: string[] = [], cause?: unknown) {
    super(`step "${step}": ${problem}`, { details, cause })
    this.step = step
    this.problem = problem
  }
}

/** True when the graph carries its own quantisation (a QuantizeLinear on an activation, or an int8/uint8 input). */
export function hasFixedScales(graph: FloatGraph): boolean {
  return graph.steps.some((s) => s.op.kind === 'quant') || graph.inputs.some((i) => i.integer !== undefined)
}

type Clamp = { lo: number; hi: number } | null
/** A float tensor during quantisation: an IR tensor holding exactly its (integer) values, or an affine map of IR tensors, then a clamp. */
/** `func`: f(q) of an IR tensor q whose integer range [lo, hi] is known, waiting for its QuantizeLinear (a table lookup). */
type State =
  | { kind: 'int'; id: TensorId }
  | { kind: 'pending'; a: Affine; clamp: Clamp }
  | { kind: 'func'; id: TensorId; lo: bigint; hi: bigint; f: (q: number) => number; name: string }

/** Stacks several maps (their rows one after the other) over the union of their bases. */
function stack(parts: Affine[]): Affine {
  const bases: Affine['bases'] = []
  const offset = new Map<number, number>()
  let width = 0
  for (const p of parts)
    for (const b of p.bases)
      if (!offset.has(b.id)) {
        offset.set(b.id, width)
        bases.push(b)
        width += b.size
      }
  const rowPtr = [0],
    cols: number[] = [],
    vals: number[] = [],
    bias: number[] = []
  for (const p of parts) {
    const starts: number[] = []
    let at = 0
    for (const b of p.bases) {
      starts.push(at)
      at += b.size
    }
    for (let j = 0; j < p.bias.length; j++) {
      for (let k = p.rowPtr[j]; k < p.rowPtr[j + 1]; k++) {
        let bi = starts.length - 1
        while (starts[bi] > p.cols[k]) bi--
        cols.push(offset.get(p.bases[bi].id)! + p.cols[k] - starts[bi])
        vals.push(p.vals[k])
      }
      bias.push(p.bias[j])
      rowPtr.push(cols.length)
    }
  }
  return {
    shape: [bias.length],
    bases,
    rowPtr: Int32Array.from(rowPtr),
    cols: Int32Array.from(cols),
    vals: Float64Array.from(vals),
    bias: Float64Array.from(bias),
  }
}

/** The map is y_i = s·x[cols_i] + b for one s > 0 and one b: DequantizeLinear per tensor, moved. */
function uniformIndexMap(a: Affine): { s: number; b: number } | null {
  const n = a.bias.length
  if (n === 0 || a.cols.length !== n) return null
  const s = a.vals[0],
    b = a.bias[0]
  if (!(s > 0)) return null
  for (let j = 0; j < n; j++) if (a.rowPtr[j + 1] - a.rowPtr[j] !== 1 || a.vals[j] !== s || a.bias[j] !== b) return null
  return { s, b }
}

/** onnxruntime's QuantizeLinear of one float: clamp(roundHalfEven(float32(v / scale)) + zp, lo, hi); ±∞ saturate. */
function quantizeValue(v: number, q: FloatQuant): number {
  if (v === Infinity) return q.hi
  if (v === -Infinity) return q.lo
  return Math.min(Math.max(roundHalfEven(Math.fround(v / q.scale)) + q.zeroPoint, q.lo), q.hi)
}

/** Every float step kind has a branch in quantizeFixed: a new kind fails to type-check there. */
function unhandledKind(step: FloatStep, op: never): never {
  throw new FixedScaleError(step.origin, `float step kind "${(op as { kind: string }).kind}" has no fixed-scale rule`)
}

export function quantizeFixed(graph: FloatGraph): IrModel {
  const steps: Step[] = []
  let nextId = 0
  // Integer range of IR tensors known without bounds analysis (quantised ones and their maxima, moves): spares no-op requants.
  const range = new Map<TensorId, [bigint, bigint]>()
  const union = (ids: readonly TensorId[], extra: bigint[] = []): [bigint, bigint] | undefined => {
    const rs = ids.map((i) => range.get(i))
    if (rs.some((x) => !x)) return undefined
    const all = [...rs.flatMap((x) => x!), ...extra]
    return [all.reduce((a, b) => (b < a ? b : a)), all.reduce((a, b) => (b > a ? b : a))]
  }
  const push = (origin: string, name: string, shape: number[], op: PrimitiveOp): TensorId => {
    const id = nextId++
    steps.push({ origin, op, output: { id, name, shape } })
    const known =
      op.op === 'requant'
        ? op.lo !== null && op.hi !== null
          ? ([op.lo, op.hi] as [bigint, bigint])
          : undefined
        : op.op === 'max'
          ? union(op.inputs)
          : op.op === 'gather'
            ? union(op.inputs, [op.fill])
            : op.op === 'lookup'
              ? union([], op.table)
              : undefined
    if (known) range.set(id, known)
    return id
  }
  const state = new Map<number, State>()
  const shapes = new Map<number, number[]>(graph.inputs.map((i) => [i.id, i.shape]))
  for (const s of graph.steps) shapes.set(s.id, s.shape)

  // Inputs: an int8/uint8 input is its own integers; a float input must go straight into
  // QuantizeLinear (all its uses with the same parameters), and the IR input is that quantised tensor.
  const quantOf = new Map<number, FloatQuant>()
  const inputs: IrInput[] = graph.inputs.map((info) => {
    const id = nextId++
    state.set(info.id, { kind: 'int', id })
    if (info.integer) range.set(id, [BigInt(info.integer.lo), BigInt(info.integer.hi)])
    if (info.integer)
      return {
        id,
        name: info.name,
        shape: info.shape,
        quant: { scale: 1, zeroPoint: 0 },
        lo: BigInt(info.integer.lo),
        hi: BigInt(info.integer.hi),
      }
    const uses = graph.steps.filter((s) => s.op.inputs.includes(info.id))
    const quants = uses.map((s) => s.op).filter((op): op is FloatQuant => op.kind === 'quant')
    const q = quants[0]
    if (
      !q ||
      quants.length !== uses.length ||
      graph.outputs.some((o) => o.id === info.id) ||
      quants.some((o) => o.scale !== q.scale || o.zeroPoint !== q.zeroPoint || o.lo !== q.lo || o.hi !== q.hi)
    ) {
      throw new FixedScaleError(
        info.name,
        'a float input of a quantised model must go straight into QuantizeLinear (all its uses with the same scale and zero point)',
        [
          'The model carries its own scales, so veriml proves it from the quantised input; float arithmetic before the first QuantizeLinear has no fixed integer form.',
        ],
      )
    }
    for (const s of uses) quantOf.set(s.id, q)
    range.set(id, [BigInt(q.lo), BigInt(q.hi)])
    return {
      id,
      name: info.name,
      shape: info.shape,
      quant: { scale: q.scale, zeroPoint: q.zeroPoint },
      lo: BigInt(q.lo),
      hi: BigInt(q.hi),
    }
  })

  const view = (t: number): { a: Affine; clamp: Clamp } => {
    const s = state.get(t)!
    if (s.kind === 'func')
      throw new FixedScaleError(s.name, 'its result must go straight into a QuantizeLinear', [
        'Quantise the output of a float function (Sigmoid, Tanh…) before any other op.',
      ])
    return s.kind === 'int' ? { a: identity(s.id, shapes.get(t)!), clamp: null } : { a: s.a, clamp: s.clamp }
  }
  /** The operands of a step as one stacked map; their clamps must agree (`what` names the step for the error). */
  const operands = (step: FloatStep, what: string): { a: Affine; clamp: Clamp } => {
    const views = step.op.inputs.map(view)
    const clamp = views[0].clamp
    if (
      views.some(
        (v) =>
          (v.clamp === null) !== (clamp === null) ||
          (v.clamp && clamp && (v.clamp.lo !== clamp.lo || v.clamp.hi !== clamp.hi)),
      )
    ) {
      throw new FixedScaleError(step.origin, `${what} of values with different clamps is not supported`)
    }
    return { a: views.length === 1 ? views[0].a : stack(views.map((v) => v.a)), clamp }
  }

  /** One quant step over a pending map: a linear step of folded integer weights, then one half-even requant. */
  const requantize = (step: FloatStep, q: FloatQuant): TensorId => {
    const { a, clamp } = view(q.inputs[0])
    const rows = Array.from(a.bias, (b, j) => {
      const f = rowFactor(Array.from(a.vals.subarray(a.rowPtr[j], a.rowPtr[j + 1])))
      return { ints: f.ints, g: f.g, bias: b }
    })
    let folded: ReturnType<typeof foldRows>
    try {
      folded = foldRows(rows, q.scale)
    } catch (cause) {
      throw new FixedScaleError(
        step.origin,
        `the requantisation multiplier of scale ${q.scale} is not a positive float32`,
        ["Check the model's scales: one is out of the float32 range."],
        cause,
      )
    }
    // Q(clamp(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi)) because Q is non-decreasing: Relu/Clip fuse into the requant.
    const lo = BigInt(clamp ? quantizeValue(clamp.lo, q) : q.lo),
      hi = BigInt(clamp ? quantizeValue(clamp.hi, q) : q.hi)
    const inputs = a.bases.map((b) => b.id)
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
      folded.bias.every((b) => b === folded.bias[0])
    const src = plain
      ? inputs[0]
      : push(step.origin, `${step.origin}:acc`, step.shape, {
          op: 'linear',
          inputs,
          rowPtr: a.rowPtr,
          cols: a.cols,
          vals: W,
          bias: folded.bias,
        })
    const zeroPoint = BigInt(q.zeroPoint) + (plain ? folded.bias[0] : 0n)
    // Requantising to the same scale and zero point (DQ → MaxPool → Q) changes nothing when the values already fit.
    const known = plain ? range.get(src) : undefined
    if (known && zeroPoint === 0n && known[0] >= lo && known[1] <= hi) return src
    return push(step.origin, `${step.origin}:q`, step.shape, {
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

  for (const step of graph.steps) {
    const op = step.op
    const allInt = op.inputs.every((t) => state.get(t)!.kind === 'int')
    const ids = () => op.inputs.map((t) => (state.get(t) as { id: TensorId }).id)
    const src = state.get(op.inputs[0])!
    if (op.kind === 'quant' && src.kind === 'func') {
      // Q(f(DQ(q))) over q's whole integer range is a table: one lookup, exact for every input.
      const table: bigint[] = []
      for (let q = src.lo; q <= src.hi; q++) table.push(BigInt(quantizeValue(src.f(Number(q)), op)))
      state.set(step.id, {
        kind: 'int',
        id: push(step.origin, `${step.origin}:lookup`, step.shape, {
          op: 'lookup',
          inputs: [src.id],
          offset: src.lo,
          table,
        }),
      })
    } else if (op.kind === 'quant') {
      const fromInput = quantOf.get(step.id)
      // A QuantizeLinear of a model input is the IR input itself.
      state.set(step.id, fromInput ? src : { kind: 'int', id: requantize(step, op) })
    } else if (op.kind === 'unary') {
      const v = view(op.inputs[0])
      const u = uniformIndexMap(v.a)
      if (!u || v.a.bases.length !== 1)
        throw new FixedScaleError(
          step.origin,
          `${op.name} of a value that is not one per-tensor DequantizeLinear is not supported`,
        )
      let id = v.a.bases[0].id
      const n = v.a.bias.length
      if (!(v.a.bases[0].size === n && v.a.cols.every((c, j) => c === j)))
        id = push(step.origin, `${step.origin}:move`, step.shape, {
          op: 'gather',
          inputs: [id],
          index: v.a.cols,
          fill: 0n,
        })
      const known = range.get(id)
      if (!known || known[1] - known[0] >= 1n << 16n)
        throw new FixedScaleError(
          step.origin,
          `${op.name}: its input's integer range is ${known ? `[${known[0]}, ${known[1]}], too wide for a table` : 'not known'}`,
          ['Quantise the input of a float function to 8 or 16 bits.'],
        )
      const c = v.clamp
      // Float32 in and out, as onnxruntime computes: DequantizeLinear's (q - z)·s = s·q + b (exact) rounded,
      // and the function's result rounded (LeakyRelu's alpha·x is then onnxruntime's float32 product exactly).
      const f = (q: number) =>
        Math.fround(op.f(Math.fround(c ? Math.min(Math.max(u.s * q + u.b, c.lo), c.hi) : u.s * q + u.b)))
      state.set(step.id, { kind: 'func', id, lo: known[0], hi: known[1], f, name: step.origin })
    } else if (op.kind === 'affine') {
      const v = operands(step, 'a linear op')
      if (v.clamp) {
        throw new FixedScaleError(step.origin, 'a Relu/Clip result feeds a linear op before being quantised', [
          "Put a QuantizeLinear/DequantizeLinear pair after the Relu/Clip, as onnxruntime's quantiser does.",
        ])
      }
      const rowOf = (o: number) => ({
        idx: op.cols.subarray(op.rowPtr[o], op.rowPtr[o + 1]),
        w: op.vals.subarray(op.rowPtr[o], op.rowPtr[o + 1]),
        bias: op.bias[o],
      })
      state.set(step.id, { kind: 'pending', a: compose(v.a, step.shape, rowOf), clamp: null })
    } else if (op.kind === 'clamp') {
      const lo = op.lo ?? -Infinity,
        hi = op.hi ?? Infinity
      const s = state.get(op.inputs[0])!
      const onGrid = (v: number) => Number.isInteger(v) || !Number.isFinite(v)
      // On integers an integer clamp is exact; a fractional bound would leave the grid, so it waits for the next QuantizeLinear.
      if (s.kind === 'int' && onGrid(lo) && onGrid(hi)) {
        const id = push(step.origin, `${step.origin}:clamp`, step.shape, {
          op: 'requant',
          inputs: [s.id],
          mul: 1n,
          shift: 0,
          zeroPoint: 0n,
          lo: lo === -Infinity ? null : BigInt(lo),
          hi: hi === Infinity ? null : BigInt(hi),
        })
        state.set(step.id, { kind: 'int', id })
      } else {
        const v = view(op.inputs[0])
        const c = v.clamp ?? { lo: -Infinity, hi: Infinity }
        const merged = { lo: Math.max(c.lo, lo), hi: Math.min(c.hi, hi) }
        if (merged.lo > merged.hi)
          throw new FixedScaleError(step.origin, `clamps [${c.lo}, ${c.hi}] and [${lo}, ${hi}] do not overlap`)
        state.set(step.id, { kind: 'pending', a: v.a, clamp: merged })
      }
    } else if (op.kind === 'max') {
      if (allInt) {
        state.set(step.id, {
          kind: 'int',
          id: push(step.origin, `${step.origin}:max`, step.shape, {
            op: 'max',
            inputs: ids(),
            rowPtr: op.rowPtr,
            cols: op.cols,
          }),
        })
      } else {
        // max(s·x + b) = s·max(x) + b for s > 0, and max commutes with a clamp: MaxPool on a dequantised tensor.
        const v = operands(step, 'a max')
        const u = uniformIndexMap(v.a)
        if (!u)
          throw new FixedScaleError(
            step.origin,
            'MaxPool of a value that is not one per-tensor DequantizeLinear is not supported',
            ['Quantise the MaxPool input per tensor.'],
          )
        const cols = Int32Array.from(op.cols, (c) => v.a.cols[c])
        const id = push(step.origin, `${step.origin}:max`, step.shape, {
          op: 'max',
          inputs: v.a.bases.map((b) => b.id),
          rowPtr: op.rowPtr,
          cols,
        })
        const n = sizeOf(step.shape)
        state.set(step.id, {
          kind: 'pending',
          a: { ...identity(id, step.shape), vals: new Float64Array(n).fill(u.s), bias: new Float64Array(n).fill(u.b) },
          clamp: v.clamp,
        })
      }
    } else if (op.kind === 'gather') {
      if (allInt && Number.isInteger(op.fill)) {
        state.set(step.id, {
          kind: 'int',
          id: push(step.origin, `${step.origin}:gather`, step.shape, {
            op: 'gather',
            inputs: ids(),
            index: op.index,
            fill: BigInt(op.fill),
          }),
        })
      } else {
        const v = operands(step, 'a movement op')
        if (v.clamp && (op.fill < v.clamp.lo || op.fill > v.clamp.hi))
          throw new FixedScaleError(
            step.origin,
            `padding value ${op.fill} lies outside the clamp [${v.clamp.lo}, ${v.clamp.hi}] before it`,
          )
        const none = new Int32Array(0),
          empty = new Float64Array(0),
          one = Float64Array.of(1)
        state.set(step.id, {
          kind: 'pending',
          clamp: v.clamp,
          a: compose(v.a, step.shape, (o) =>
            op.index[o] < 0 ? { idx: none, w: empty, bias: op.fill } : { idx: [op.index[o]], w: one, bias: 0 },
          ),
        })
      }
    } else if (op.kind === 'mul') {
      // DQ(a)·DQ(b) = sa·sb·(qa - za)(qb - zb): the centred integers' product is exact; sa·sb stays a
      // pending factor, folded by the next QuantizeLinear into its float32 multiplier fl32(sa·sb/sy).
      const centred = op.inputs.map((t) => {
        const v = view(t)
        const u = uniformIndexMap(v.a)
        const z = u ? -u.b / u.s : NaN
        if (v.clamp || !u || v.a.bases.length !== 1 || !Number.isInteger(z) || u.b !== -z * u.s) {
          throw new FixedScaleError(
            step.origin,
            'Mul of a value that is not one per-tensor DequantizeLinear (moved at most) is not supported',
            ["Put a QuantizeLinear/DequantizeLinear pair on each Mul operand, as onnxruntime's quantiser does."],
          )
        }
        const n = v.a.bias.length,
          base = v.a.bases[0]
        if (z === 0 && base.size === n && v.a.cols.every((c, j) => c === j)) return { id: base.id, s: u.s }
        const id =
          z === 0
            ? push(step.origin, `${step.origin}:move`, shapes.get(t)!, {
                op: 'gather',
                inputs: [base.id],
                index: v.a.cols,
                fill: 0n,
              })
            : push(step.origin, `${step.origin}:centre`, shapes.get(t)!, {
                op: 'linear',
                inputs: [base.id],
                rowPtr: Int32Array.from({ length: n + 1 }, (_, j) => j),
                cols: v.a.cols,
                vals: Array(n).fill(1n),
                bias: Array(n).fill(BigInt(-z)),
              })
        return { id, s: u.s }
      })
      const id = push(step.origin, `${step.origin}:mul`, step.shape, {
        op: 'mul',
        inputs: centred.map((c) => c.id),
        left: op.left,
        right: op.right,
      })
      const n = sizeOf(step.shape)
      state.set(step.id, {
        kind: 'pending',
        a: {
          ...identity(id, step.shape),
          vals: new Float64Array(n).fill(centred[0].s * centred[centred.length - 1].s),
          bias: new Float64Array(n),
        },
        clamp: null,
      })
    } else {
      unhandledKind(step, op)
    }
  }

  const outputs: IrOutput[] = graph.outputs.map((o) => ({
    ...output(o.id, o.name),
    ...(o.postprocess ? { postprocess: o.postprocess } : {}),
  }))

  /** A graph output: an integer tensor as it is, a dequantised one as its integers with that scale and zero point. */
  function output(t: number, name: string): IrOutput {
    const s = state.get(t)!
    if (s.kind === 'int') return { tensor: s.id, name, quant: { scale: 1, zeroPoint: 0 } }
    if (s.kind === 'func')
      throw new FixedScaleError(s.name, "a float function's result is a graph output without a QuantizeLinear", [
        'Quantise the output, or end the model before the function (its float result has no integer form).',
      ])
    const origin = graph.steps.find((x) => x.id === t)?.origin ?? name
    const u = uniformIndexMap(s.a)
    const z = u ? -u.b / u.s : NaN
    if (u && s.a.bases.length === 1 && Number.isInteger(z) && u.b === -z * u.s) {
      // (q - z)·s: the output is q itself, moved, with real = (q - z)·s; a clamp becomes integer bounds when it lands on the grid.
      const n = s.a.bias.length
      let id = s.a.bases[0].id
      const moved = !(s.a.bases[0].size === n && s.a.cols.every((c, j) => c === j))
      if (moved)
        id = push(origin, `${origin}:out`, shapes.get(t)!, { op: 'gather', inputs: [id], index: s.a.cols, fill: 0n })
      if (s.clamp) {
        const qlo = s.clamp.lo / u.s + z,
          qhi = s.clamp.hi / u.s + z
        const onGrid = (v: number) => Number.isInteger(v) || !Number.isFinite(v)
        if (!onGrid(qlo) || !onGrid(qhi))
          throw new FixedScaleError(
            origin,
            `output clamp [${s.clamp.lo}, ${s.clamp.hi}] does not fall on the output's quantisation grid`,
          )
        id = push(origin, `${origin}:clamp`, shapes.get(t)!, {
          op: 'requant',
          inputs: [id],
          mul: 1n,
          shift: 0,
          zeroPoint: 0n,
          lo: qlo === -Infinity ? null : BigInt(qlo),
          hi: qhi === Infinity ? null : BigInt(qhi),
        })
      }
      return { tensor: id, name, quant: { scale: u.s, zeroPoint: z } }
    }
    if (s.clamp)
      throw new FixedScaleError(origin, 'a clamped float output must be one DequantizeLinear of an integer tensor', [
        'Quantise the output (QuantizeLinear) or drop the Relu/Clip.',
      ])
    // A float output of integer tensors (MatMulInteger, a dequantised Gemm…): one factor for the whole tensor.
    const f = rowFactor([...s.a.vals, ...s.a.bias])
    const nv = s.a.vals.length
    const id = push(origin, `${origin}:out`, shapes.get(t)!, {
      op: 'linear',
      inputs: s.a.bases.map((b) => b.id),
      rowPtr: s.a.rowPtr,
      cols: s.a.cols,
      vals: f.ints.slice(0, nv),
      bias: f.ints.slice(nv),
    })
    return { tensor: id, name, quant: { scale: f.g, zeroPoint: 0 } }
  }

  return { name: graph.name, inputs, steps, outputs }
}

/**
 * Seeded inputs spread over each IR input's integer domain, as real values (q - zp)·scale:
 * the yardstick samples of a quantised model compiled or inspected without a samples file.
 */
export function domainSamples(ir: IrModel, count: number): Float64Array[][] {
  let s = 0x2545f491
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
  return Array.from({ length: count }, () =>
    ir.inputs.map((info) =>
      Float64Array.from({ length: sizeOf(info.shape) }, () => {
        const q = Number(info.lo) + Math.floor(rand() * (Number(info.hi - info.lo) + 1))
        return (q - info.quant.zeroPoint) * info.quant.scale
      }),
    ),
  )
}
