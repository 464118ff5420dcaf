import { affineParts, inputOf, offsetsOf, proportional } from './fuse-affine.js'
import {
  type FloatAffine,
  type FloatDiv,
  type FloatGraph,
  type FloatMul,
  type FloatOp,
  type FloatStep,
  type FloatUnary,
  sizeOf,
} from './graph.js'

/**
 * Elementwise closures fused into one table (issue 16). An exported GELU is five ONNX nodes —
 * Div by √2, Erf, Add 1, Mul by x, Mul 0.5 — and unfused it costs two requantisations of two
 * affine copies of its input, the erf table, a requantisation of 1 + erf, a product and its
 * requantisation: about 127 constraints per element. Every one of its outputs is a function of
 * ONE element of one tensor, so it is one FloatUnary of that tensor: one requantisation and one
 * table, whatever the function. Same for SiLU (x·sigmoid(x)), Mish, x·HardSigmoid(x), and
 * chains of unaries (tanh(softplus(x))).
 *
 * A closure is fused only when it replaces more than one table or a table and a product (it
 * holds a unary and another unary, mul, div or sqrt): a closure of products, clamps and affine
 * maps alone (x·x, HardSwish written as x·clamp(x + 3, 0, 6)/6) is exact in R1CS and cheaper than
 * a table, and a clamp before a single table (softmax's exp of x − max ≤ 0) is what keeps that
 * table small.
 *
 * Every op in a closure must apply the same function to every element: FloatUnary has one f
 * per tensor. Per-channel constants (x·γ_c + β_c) differ per element, so such a step ends the
 * closure (it is a source, never an interior step).
 */

/** One tensor as a function of one element of a source tensor: value[i] = f(source[idx[i]]). */
interface Elementwise {
  src: number
  idx: Int32Array
  f: (x: number) => number
  /** The function for the step's name, given the text of its argument. */
  text: (arg: string) => string
  /** Interior steps (their ids), in graph order once sorted; the source is not one of them. */
  members: Set<number>
  /** Table lookups, products, divisions and roots inside: whether fusing saves anything. */
  tables: number
  others: number
}

/** Numbers in a fused step's name: six significant digits, as reports print scales. */
const fmt = (v: number) => String(Number(v.toPrecision(6)))
/** A sum, product or quotient in parentheses where it is a factor (an operator outside any parentheses). */
function group(t: string): string {
  let depth = 0
  for (const c of t) {
    depth += c === '(' ? 1 : c === ')' ? -1 : 0
    if (depth === 0 && (c === ' ' || c === '·' || c === '/')) return `(${t})`
  }
  return t
}

const identityOf = (n: number) => Int32Array.from({ length: n }, (_, i) => i)
const same = <T>(v: T) => v

/** The tensor `t` as itself: the leaf every closure grows from. */
function leaf(t: number, size: number): Elementwise {
  return { src: t, idx: identityOf(size), f: (x) => x, text: (a) => a, members: new Set(), tables: 0, others: 0 }
}

/** One step of a closure: the operand as a function of the source, then this step's function of it. */
function extend(
  r: Elementwise,
  id: number,
  at: (i: number) => number,
  n: number,
  g: (v: number) => number,
  text: (inner: string) => string,
  counts: { tables?: number; others?: number } = {},
): Elementwise {
  const f0 = r.f,
    t0 = r.text
  return {
    src: r.src,
    idx: Int32Array.from({ length: n }, (_, i) => r.idx[at(i)]),
    f: (x) => g(f0(x)),
    text: (arg) => text(t0(arg)),
    members: new Set([...r.members, id]),
    tables: r.tables + (counts.tables ?? 0),
    others: r.others + (counts.others ?? 0),
  }
}

interface Analysis {
  steps: ReadonlyMap<number, FloatStep>
  sizes: ReadonlyMap<number, number>
  /** Tensors that must stay sources in this attempt (an interior use outside the closure was found). */
  cut: ReadonlySet<number>
  memo: Map<number, Elementwise | null>
}

/** The tensor as a function of one source element, as far back as elementwise steps go; null when it is no such step. */
function elementwiseOf(an: Analysis, t: number): Elementwise | null {
  if (an.memo.has(t)) return an.memo.get(t)!
  const step = an.steps.get(t)
  const r = step && !an.cut.has(t) ? stepFunction(an, step) : null
  an.memo.set(t, r)
  return r
}

/** The operand as far back as it goes, or as itself. */
const leafOf = (an: Analysis, t: number): Elementwise => leaf(t, an.sizes.get(t)!)
const operand = (an: Analysis, t: number): Elementwise => elementwiseOf(an, t) ?? leafOf(an, t)

function stepFunction(an: Analysis, step: FloatStep): Elementwise | null {
  const op: FloatOp = step.op
  const n = sizeOf(step.shape)
  const id = step.id
  switch (op.kind) {
    case 'unary': {
      const name = (v: string) => `${op.name}(${v})`
      return extend(operand(an, op.inputs[0]), id, same, n, op.f, name, { tables: 1 })
    }
    case 'clamp': {
      const lo = op.lo ?? -Infinity,
        hi = op.hi ?? Infinity
      const g = (v: number) => Math.min(Math.max(v, lo), hi)
      const text = (v: string) =>
        `clamp(${v}, ${op.lo === null ? '-∞' : fmt(op.lo)}, ${op.hi === null ? '∞' : fmt(op.hi)})`
      return extend(operand(an, op.inputs[0]), id, same, n, g, text)
    }
    case 'sqrt':
      return extend(operand(an, op.inputs[0]), id, same, n, Math.sqrt, (v) => `√(${v})`, { others: 1 })
    case 'affine':
      return affineFunction(an, step, op)
    case 'gather': {
      const offsets = offsetsOf(op.inputs, an.sizes)
      const k = inputOf(op.index, offsets)
      if (k < 0) return null
      const at = (i: number) => op.index[i] - offsets[k]
      return extend(operand(an, op.inputs[k]), id, at, n, same, same)
    }
    case 'mul':
    case 'div':
      return binary(an, step, op)
    default:
      return null
  }
}

/**
 * A product or quotient of two functions of the SAME source element (x · Φ(x)): each operand as
 * far back as it goes, or as itself; failing a common source, two proportional affine maps of the
 * same tensor (x / √2 and x) are one source, the later one an interior step computed from the
 * earlier (or the other way round when the later one is cut).
 */
function binary(an: Analysis, step: FloatStep, op: FloatMul | FloatDiv): Elementwise | null {
  const offsets = offsetsOf(op.inputs, an.sizes)
  const [first, second] = op.kind === 'mul' ? [op.left, op.right] : [op.num, op.den]
  const reciprocal = op.kind === 'div' && first.every((v) => v < 0)
  const kR = inputOf(second, offsets)
  const kL = reciprocal ? kR : inputOf(first, offsets)
  if (kL < 0 || kR < 0) return null
  const [tL, tR] = [op.inputs[kL], op.inputs[kR]]
  const options = (t: number) => [elementwiseOf(an, t), leafOf(an, t)].filter((r) => r !== null)
  // 1/g(x): the numerator is the constant 1, so the divisor alone decides.
  const lefts = reciprocal ? [null] : options(tL)
  for (const L of lefts)
    for (const R of options(tR)) {
      const pair = L === null ? [R, R] : unify(an, [L, R])
      const joined = pair && join(step, op, pair[0], pair[1], first, second, offsets[kL], offsets[kR], reciprocal)
      if (joined) return joined
    }
  return null
}

/**
 * The operands over one source: as they are, or with every other source a proportional affine
 * step of the kept one, rewritten over it (and then interior). The earliest source is kept
 * when it can be: the later copies are the ones a closure absorbs, unless they are cut.
 */
function unify(an: Analysis, rs: readonly Elementwise[]): Elementwise[] | null {
  const srcs = [...new Set(rs.map((r) => r.src))].sort((a, b) => a - b)
  if (srcs.length === 1) return [...rs]
  for (const kept of srcs) {
    const K = an.steps.get(kept)
    if (K?.op.kind !== 'affine') continue
    const over = new Map<number, { alpha: number; beta: number }>()
    for (const other of srcs) {
      const A = an.steps.get(other)
      const p = other !== kept && A?.op.kind === 'affine' && !an.cut.has(other) && proportional(A.op, K.op, an.sizes)
      if (p) over.set(other, p)
    }
    if (over.size === srcs.length - 1) return rs.map((r) => rewritten(r, kept, over.get(r.src)))
  }
  return null
}

/** `r` over `kept` when its own source is α·kept + β (that source becoming interior). */
function rewritten(r: Elementwise, kept: number, p: { alpha: number; beta: number } | undefined): Elementwise {
  if (!p) return r
  const { alpha, beta } = p
  const f0 = r.f,
    t0 = r.text
  return {
    ...r,
    src: kept,
    f: (x) => f0(beta + alpha * x),
    text: (arg) => t0(beta === 0 ? `${fmt(alpha)}·${arg}` : `(${fmt(alpha)}·${arg} + ${fmt(beta)})`),
    members: new Set([...r.members, r.src]),
  }
}

/**
 * An affine step as one function of one source element: a sum of terms a_k·g_k(x) (each input
 * read once per row with one coefficient for every row, each g_k a function of the same source
 * element), plus a bias shared by every row — or, when some inputs are read as a matrix, those
 * inputs' part equal to α times the source itself (an exported tanh GELU's x + 0.044715·x³, the
 * x still the pending matrix product that was also emitted as the source). A step with no term
 * is a plain linear map: a source, never interior.
 */
function affineFunction(an: Analysis, step: FloatStep, op: FloatAffine): Elementwise | null {
  const offsets = offsetsOf(op.inputs, an.sizes)
  const parts = affineParts(op, offsets)
  if (parts.terms.length === 0 || (parts.wide.length === 0 && parts.bias === null)) return null
  const n = op.bias.length
  for (const full of [true, false]) {
    const ins = parts.terms.map((t) => (full ? operand : leafOf)(an, op.inputs[t.k]))
    const rs = unify(an, ins)
    if (!rs) continue
    const idx = new Int32Array(n)
    let same = true
    for (let i = 0; i < n && same; i++) {
      idx[i] = rs[0].idx[parts.terms[0].at[i]]
      same = rs.every((r, t) => r.idx[parts.terms[t].at[i]] === idx[i])
    }
    if (!same) continue
    const fs = rs.map((r) => r.f),
      as = parts.terms.map((t) => t.a)
    let head = { alpha: 0, beta: parts.bias ?? 0 }
    if (parts.wide.length > 0) {
      const S = an.steps.get(rs[0].src)
      const p = S?.op.kind === 'affine' && proportional(op, S.op, an.sizes, parts.wide)
      if (!p || n !== an.sizes.get(rs[0].src) || idx.some((v, i) => v !== i)) continue
      head = p
    }
    const { alpha, beta } = head
    // Bias first, then the terms in input order: the order executeFloat adds in, so without a
    // wide part the fused f rounds exactly as the steps it replaces.
    const f = (x: number) => {
      let y = alpha === 0 ? beta : beta + alpha * x
      for (let t = 0; t < fs.length; t++) y += as[t] * fs[t](x)
      return y
    }
    const scaled = (a: number, v: string) => (a === 1 ? v : `${fmt(a)}·${v}`)
    const text = (arg: string) =>
      [
        ...(beta === 0 ? [] : [fmt(beta)]),
        ...(alpha === 0 ? [] : [scaled(alpha, arg)]),
        ...rs.map((r, t) => scaled(as[t], r.text(arg))),
      ].join(' + ')
    return {
      src: rs[0].src,
      idx,
      f,
      text,
      members: new Set([...rs.flatMap((r) => [...r.members]), step.id]),
      tables: rs.reduce((c, r) => c + r.tables, 0),
      others: rs.reduce((c, r) => c + r.others, 0),
    }
  }
  return null
}

/** The product or quotient when both operands read the same source element at every position; else null. */
function join(
  step: FloatStep,
  op: FloatMul | FloatDiv,
  L: Elementwise,
  R: Elementwise,
  first: Int32Array,
  second: Int32Array,
  offL: number,
  offR: number,
  reciprocal: boolean,
): Elementwise | null {
  const n = first.length
  const idx = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const r = R.idx[second[i] - offR]
    if (!reciprocal && L.idx[first[i] - offL] !== r) return null
    idx[i] = r
  }
  const fL = L.f,
    fR = R.f
  const f =
    op.kind === 'mul'
      ? (x: number) => fL(x) * fR(x)
      : reciprocal
        ? (x: number) => 1 / fR(x)
        : (x: number) => fL(x) / fR(x)
  const tL = L.text,
    tR = R.text
  const text = (a: string) =>
    op.kind === 'mul' ? `${group(tL(a))}·${group(tR(a))}` : `${reciprocal ? '1' : group(tL(a))}/${group(tR(a))}`
  const members = new Set([...L.members, ...R.members, step.id])
  const tables = reciprocal ? R.tables : L.tables + R.tables
  const others = (reciprocal ? R.others : L.others + R.others) + 1
  return { src: R.src, idx, f, text, members, tables, others }
}

/** The fused closure rooted at `root`, shrunk until no interior value is read outside it; null when none pays off. */
function closureAt(
  steps: ReadonlyMap<number, FloatStep>,
  sizes: ReadonlyMap<number, number>,
  readers: ReadonlyMap<number, ReadonlySet<number>>,
  outputs: ReadonlySet<number>,
  root: FloatStep,
  uncut: Map<number, Elementwise | null>,
): Elementwise | null {
  const cut = new Set<number>()
  for (;;) {
    // With nothing cut, a tensor's function does not depend on the root: one memo for all roots.
    const r = elementwiseOf({ steps, sizes, cut, memo: cut.size === 0 ? uncut : new Map() }, root.id)
    if (!r || r.tables === 0 || r.tables + r.others < 2) return null
    // INVARIANT: an interior value is read only inside the closure and is no graph output, so
    // removing it changes nothing else. A value read elsewhere stays, as a source.
    const outside = [...r.members].filter(
      (m) => m !== root.id && (outputs.has(m) || [...(readers.get(m) ?? [])].some((c) => !r.members.has(c))),
    )
    if (outside.length === 0) return r
    for (const m of outside) cut.add(m)
  }
}

/** The ONNX nodes a closure implements, beyond those its source already names. */
function originOf(r: Elementwise, steps: ReadonlyMap<number, FloatStep>): string {
  const known = new Set(steps.get(r.src)?.origin.split('+') ?? [])
  const nodes = [...r.members]
    .sort((a, b) => a - b)
    .flatMap((m) => steps.get(m)!.origin.split('+'))
    .filter((n) => !known.has(n))
  return [...new Set(nodes)].join('+')
}

/**
 * Replaces every elementwise closure that pays off by one FloatUnary of its source (after a
 * gather when the closure reorders or repeats elements). Pure: returns a new graph, the steps
 * outside closures shared with the input.
 */
export function fuseElementwise(graph: FloatGraph): FloatGraph {
  const steps = new Map(graph.steps.map((s) => [s.id, s]))
  const sizes = new Map<number, number>([
    ...graph.inputs.map((i) => [i.id, sizeOf(i.shape)] as const),
    ...graph.steps.map((s) => [s.id, sizeOf(s.shape)] as const),
  ])
  const readers = new Map<number, Set<number>>()
  for (const s of graph.steps)
    for (const t of s.op.inputs) {
      if (!readers.has(t)) readers.set(t, new Set())
      readers.get(t)!.add(s.id)
    }
  const outputs = new Set(graph.outputs.map((o) => o.id))
  let nextId = Math.max(...sizes.keys()) + 1
  const removed = new Set<number>()
  const replaced = new Map<number, FloatStep[]>()
  const uncut = new Map<number, Elementwise | null>()
  // Last step first: a closure grows backwards from its root, so the largest one is found first.
  for (const root of [...graph.steps].reverse()) {
    if (removed.has(root.id)) continue
    const r = closureAt(steps, sizes, readers, outputs, root, uncut)
    if (!r) continue
    for (const m of r.members) if (m !== root.id) removed.add(m)
    const origin = originOf(r, steps) || root.origin
    const name = `fused ${[...r.members]
      .sort((a, b) => a - b)
      .map((m) => steps.get(m)!.op)
      .map((op) => (op.kind === 'unary' ? op.name : op.kind))
      .join(', ')}: ${r.text('x')}`
    const inPlace = r.idx.length === sizes.get(r.src) && r.idx.every((v, i) => v === i)
    const out: FloatStep[] = []
    let input = r.src
    if (!inPlace) {
      input = nextId++
      out.push({ origin, op: { kind: 'gather', inputs: [r.src], index: r.idx, fill: 0 }, id: input, shape: root.shape })
    }
    const unary: FloatUnary = { kind: 'unary', inputs: [input], name, f: r.f }
    out.push({ origin, op: unary, id: root.id, shape: root.shape })
    replaced.set(root.id, out)
  }
  if (replaced.size === 0) return graph
  const fused = graph.steps.flatMap((s) => (removed.has(s.id) ? [] : (replaced.get(s.id) ?? [s])))
  return { ...graph, steps: fused }
}
