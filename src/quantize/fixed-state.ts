import { BaseError, type BaseErrorParameters } from '../errors.js'
import type { PrimitiveOp, Step, TensorId } from '../ir/types.js'
import { type Affine, identity } from '../onnx/affine.js'
import { type FloatGraph, type FloatQuant, type FloatStep, roundHalfEven } from '../onnx/graph.js'

/**
 * The fixed-scale path's working state (src/quantize/fixed.ts): the IR being built, what each
 * float tensor is so far, and the helpers every step rule shares.
 */

export class FixedScaleError extends BaseError {
  override name = 'FixedScaleError'
  readonly step: string
  readonly problem: string
  constructor(p: BaseErrorParameters & { step: string; problem: string }) {
    super(`step "${p.step}": ${p.problem}`, { details: p.details, cause: p.cause })
    this.step = p.step
    this.problem = p.problem
  }
}

export type Clamp = { lo: number; hi: number } | null
/** A float tensor during quantisation: an IR tensor holding exactly its (integer) values, or an affine map of IR tensors, then a clamp. */
/** `func`: f(q) of an IR tensor q whose integer range [lo, hi] is known, waiting for its QuantizeLinear (a table lookup). */
export type State =
  | { kind: 'int'; id: TensorId }
  | { kind: 'pending'; a: Affine; clamp: Clamp }
  | { kind: 'func'; id: TensorId; lo: bigint; hi: bigint; f: (q: number) => number; name: string }

/** The IR under construction and the float graph it comes from. Plain data; the functions below take it first. */
export interface FixedBuild {
  graph: FloatGraph
  steps: Step[]
  nextId: number
  /** Integer range of IR tensors known without bounds analysis (quantised ones and their maxima, moves): spares no-op requants. */
  range: Map<TensorId, [bigint, bigint]>
  /** Float tensor id → what it is so far. */
  state: Map<number, State>
  /** Float tensor id → shape. */
  shapes: Map<number, number[]>
  /** QuantizeLinear steps that quantise a float model input: the IR input is their result (set by fixedInputs). */
  quantOf: Map<number, FloatQuant>
}

export function newBuild(graph: FloatGraph): FixedBuild {
  const shapes = new Map<number, number[]>(graph.inputs.map((i) => [i.id, i.shape]))
  for (const s of graph.steps) shapes.set(s.id, s.shape)
  return { graph, steps: [], nextId: 0, range: new Map(), state: new Map(), shapes, quantOf: new Map() }
}

/** The hull of the known ranges of `ids` (and `extra`), or undefined when one is not known. */
function union(b: FixedBuild, ids: readonly TensorId[], extra: bigint[] = []): [bigint, bigint] | undefined {
  const rs = ids.map((i) => b.range.get(i))
  if (rs.some((x) => !x)) return undefined
  const all = [...rs.flatMap((x) => x!), ...extra]
  return [all.reduce((x, y) => (y < x ? y : x)), all.reduce((x, y) => (y > x ? y : x))]
}

/** Appends one IR step and records its output's range when the op alone fixes it. */
export function push(b: FixedBuild, origin: string, name: string, shape: number[], op: PrimitiveOp): TensorId {
  const id = b.nextId++
  b.steps.push({ origin, op, output: { id, name, shape } })
  const known =
    op.op === 'requant'
      ? op.lo !== null && op.hi !== null
        ? ([op.lo, op.hi] as [bigint, bigint])
        : undefined
      : op.op === 'max'
        ? union(b, op.inputs)
        : op.op === 'gather'
          ? union(b, op.inputs, [op.fill])
          : op.op === 'lookup'
            ? union(b, [], op.table)
            : undefined
  if (known) b.range.set(id, known)
  return id
}

/** A float tensor as an affine map of IR tensors (an integer tensor is the identity map of itself) and its clamp. */
export function view(b: FixedBuild, t: number): { a: Affine; clamp: Clamp } {
  const s = b.state.get(t)!
  if (s.kind === 'func')
    throw new FixedScaleError({
      step: s.name,
      problem: 'its result must go straight into a QuantizeLinear',
      details: ['Quantise the output of a float function (Sigmoid, Tanh…) before any other op.'],
    })
  return s.kind === 'int' ? { a: identity(s.id, b.shapes.get(t)!), clamp: null } : { a: s.a, clamp: s.clamp }
}

/** The operands of a step as one stacked map; their clamps must agree (`what` names the step for the error). */
export function operands(b: FixedBuild, step: FloatStep, what: string): { a: Affine; clamp: Clamp } {
  const views = step.op.inputs.map((t) => view(b, t))
  const clamp = views[0].clamp
  if (
    views.some(
      (v) =>
        (v.clamp === null) !== (clamp === null) ||
        (v.clamp && clamp && (v.clamp.lo !== clamp.lo || v.clamp.hi !== clamp.hi)),
    )
  ) {
    throw new FixedScaleError({
      step: step.origin,
      problem: `${what} of values with different clamps is not supported`,
    })
  }
  return { a: views.length === 1 ? views[0].a : stack(views.map((v) => v.a)), clamp }
}

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
export function uniformIndexMap(a: Affine): { s: number; b: number } | null {
  const n = a.bias.length
  if (n === 0 || a.cols.length !== n) return null
  const s = a.vals[0],
    b = a.bias[0]
  if (!(s > 0)) return null
  for (let j = 0; j < n; j++) if (a.rowPtr[j + 1] - a.rowPtr[j] !== 1 || a.vals[j] !== s || a.bias[j] !== b) return null
  return { s, b }
}

/** The map reads its one base in order, element j from column j: no gather is needed to move it. */
export function inPlace(a: Affine): boolean {
  return a.bases[0].size === a.bias.length && a.cols.every((c, j) => c === j)
}

/** onnxruntime's QuantizeLinear of one float: clamp(roundHalfEven(float32(v / scale)) + zp, lo, hi); ±∞ saturate. */
export function quantizeValue(v: number, q: FloatQuant): number {
  if (v === Infinity) return q.hi
  if (v === -Infinity) return q.lo
  return Math.min(Math.max(roundHalfEven(Math.fround(v / q.scale)) + q.zeroPoint, q.lo), q.hi)
}

/** A clamp bound that keeps values on the integer grid (±∞ is no bound). */
export function onGrid(v: number): boolean {
  return Number.isInteger(v) || !Number.isFinite(v)
}

/** An integer clamp as a requant with unit multiplier (±∞ bound → none). */
export function clampOp(input: TensorId, lo: number, hi: number): PrimitiveOp {
  return {
    op: 'requant',
    inputs: [input],
    mul: 1n,
    shift: 0,
    zeroPoint: 0n,
    lo: lo === -Infinity ? null : BigInt(lo),
    hi: hi === Infinity ? null : BigInt(hi),
  }
}
