import { LookupDomainError } from '../ir/errors.js'
import { operands } from '../ir/execute.js'
import { requantValue } from '../ir/ops.js'
import type { IrModel, OpKind, PrimitiveOp, TensorBounds, TensorId } from '../ir/types.js'
import { type PackLayout, packLayout, packedElementCount, publicSignalCount } from './packing.js'
import { planRequant } from './requant.js'
import { emitLookup } from './lookup.js'
import { emitMax } from './max.js'
import { sizeOf } from '../util/shape.js'
import { type WeightsLayout, type WeightVisibility, privateWeightsEmitter } from './weights.js'

export type InputVisibility = 'public' | 'hashed' | 'private'
export type OutputVisibility = 'public' | 'hashed'

export interface Visibility {
  input: InputVisibility
  output: OutputVisibility
}

/** What the public signals are, in order: the input part, then the output part. */
export interface PublicLayout {
  visibility: Visibility
  /** One pack layout per model input / output; also used to hash (hash of the packed elements). */
  inputs: PackLayout[]
  outputs: PackLayout[]
  /** Number of public signals. */
  count: number
  /** Hashed weights only: the weight commitment, the last public signal (see weights.ts). */
  weights?: WeightsLayout
}

export interface EmitCircuitReturnType {
  source: string
  layout: PublicLayout
  /**
   * Constraints by kind, from the emitter's own plan (the compiler's count is authoritative);
   * `max` and `lookup` are the constraints of the pairwise-max and lookup gadgets, and
   * `activations` counts the non-linear gadgets (requant, lookup and pairwise max); `mul` the
   * products of two input-dependent elements (one constraint each, not an activation).
   */
  cost: Cost
}

type Cost = {
  inputRangeChecks: number
  requant: number
  linear: number
  hashing: number
  activations: number
  weights: number
  max: number
  lookup: number
  mul: number
}
const zeroCost = (): Cost => ({
  inputRangeChecks: 0,
  requant: 0,
  linear: 0,
  hashing: 0,
  activations: 0,
  weights: 0,
  max: 0,
  lookup: 0,
  mul: 0,
})
function addCost(to: Cost, from: Cost): void {
  for (const k of Object.keys(to) as (keyof Cost)[]) to[k] += from[k]
}

/** Appends `items` to `target` in place; `push(...items)` overflows the call stack past ~100k items. */
export function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item)
}

/** An element as an affine expression of one signal: mul·sig + add (sig null: a constant). */
export interface Ref {
  sig: string | null
  mul: bigint
  add: bigint
}

const constRef = (v: bigint): Ref => ({ sig: null, mul: 0n, add: v })

/** c · r, still one signal's affine expression. */
const scaleRef = (r: Ref, c: bigint): Ref =>
  r.sig === null || c === 0n ? constRef(r.add * c) : { sig: r.sig, mul: r.mul * c, add: r.add * c }

/** Sum of terms as a balanced tree: circom2 overflows its stack on long flat sums. */
export function balancedSum(terms: string[]): string {
  if (terms.length === 0) return '0'
  let level = terms
  while (level.length > 1) {
    const next: string[] = []
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? `(${level[i]} + ${level[i + 1]})` : level[i])
    level = next
  }
  return level[0]
}

/** Linear combination Σ w_i·ref_i + c as circom text (constants folded). */
function combination(parts: { w: bigint; ref: Ref }[], c: bigint): { text: string; constant: boolean } {
  let k = c
  const terms: string[] = []
  for (const { w, ref } of parts) {
    k += w * ref.add
    const coef = w * ref.mul
    if (ref.sig !== null && coef !== 0n) terms.push(coef === 1n ? ref.sig : `${coef}*${ref.sig}`)
  }
  if (terms.length === 0) return { text: k.toString(), constant: true }
  const sum = balancedSum(terms)
  return { text: k === 0n ? sum : k > 0n ? `${sum} + ${k}` : `${sum} - ${-k}`, constant: false }
}

const bitLength = (v: bigint) => (v === 0n ? 0 : v.toString(2).length)

function tensorRange(b: TensorBounds): [bigint, bigint] {
  let lo = b.lo[0],
    hi = b.hi[0]
  for (const v of b.lo) if (v < lo) lo = v
  for (const v of b.hi) if (v > hi) hi = v
  return [lo, hi]
}

/**
 * Emits the circom circuit of an integer model: weights as constants (linear ops cost one
 * linear constraint per output element, no multiplication), one requant gadget per
 * activation, a tree of pairwise maxes per max row (max.ts) and a one-hot table gadget per
 * lookup (lookup.ts), each sized from the proven bounds, inputs range-checked to their
 * domain, and inputs and outputs packed (or Poseidon-hashed) into few public signals.
 */
export function emitCircuit(
  model: IrModel,
  bounds: Map<TensorId, TensorBounds>,
  visibility: Visibility,
  header: string[],
  weights: WeightVisibility = 'constant',
  templateTextLimit = TEMPLATE_TEXT_LIMIT,
): EmitCircuitReturnType {
  const body: string[] = []
  const cost = zeroCost()
  const privateWeights = weights === 'hashed' ? privateWeightsEmitter(body, cost) : null
  const refs = new Map<TensorId, Ref[]>()
  const hashes: { name: string; size: number }[] = []

  for (const [k, input] of model.inputs.entries()) {
    const n = sizeOf(input.shape)
    const bits = Math.max(1, bitLength(input.hi - input.lo))
    body.push(`    signal input in${k}[${n}];`, `    component rc${k}[${n}];`)
    body.push(
      `    for (var i = 0; i < ${n}; i++) {`,
      `        rc${k}[i] = Num2Bits(${bits});`,
      `        rc${k}[i].in <== in${k}[i] - (${input.lo});`,
      '    }',
    )
    cost.inputRangeChecks += n * (bits + 1)
    refs.set(
      input.id,
      Array.from({ length: n }, (_, i) => ({ sig: `in${k}[${i}]`, mul: 1n, add: 0n })),
    )
  }

  const EMIT: {
    [K in OpKind]: (
      op: Extract<PrimitiveOp, { op: K }>,
      x: Ref[],
      xb: TensorBounds,
      id: TensorId,
      body: string[],
      cost: Cost,
    ) => Ref[]
  } = {
    linear: (op, x, _xb, id, body, cost) => {
      if (privateWeights) return privateWeights.linear(op, x, id)
      const out: Ref[] = []
      const lines: string[] = []
      for (let j = 0; j < op.bias.length; j++) {
        const parts: { w: bigint; ref: Ref }[] = []
        for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++) parts.push({ w: op.vals[k], ref: x[op.cols[k]] })
        const c = combination(parts, op.bias[j])
        if (c.constant) {
          out.push(constRef(BigInt(c.text)))
          continue
        }
        lines.push(`    l${id}[${j}] <== ${c.text};`)
        out.push({ sig: `l${id}[${j}]`, mul: 1n, add: 0n })
      }
      if (lines.length > 0) {
        body.push(`    signal l${id}[${op.bias.length}];`)
        append(body, lines)
      }
      cost.linear += lines.length
      return out
    },
    requant: (op, x, xb, id, body, cost) =>
      x.map((r, j) => {
        if (r.sig === null) return constRef(requantValue(r.add, op))
        const plan = planRequant(op, xb.lo[j], xb.hi[j])
        if (plan.kind === 'constant') return constRef(plan.value)
        if (plan.kind === 'linear') return { sig: r.sig, mul: r.mul * op.mul, add: r.add * op.mul + op.zeroPoint }
        const name = `rq${id}_${j}`
        const u = combination([{ w: op.mul, ref: r }], plan.offset)
        body.push(
          `    component ${name} = Requant(${plan.S}, ${plan.KD}, ${plan.SIGNED}, ${plan.HIMODE}, ${plan.J}, ${plan.W}, ${plan.EVEN}, ${plan.PAR});`,
          `    ${name}.u <== ${u.text};`,
        )
        cost.requant += plan.constraints
        cost.activations++
        return { sig: `${name}.y`, mul: 1n, add: plan.BASE }
      }),
    gather: (op, x) => Array.from(op.index, (i) => (i < 0 ? constRef(op.fill) : x[i])),
    max: emitMax,
    lookup: emitLookup,
    mul: (op, x, _xb, id, body, cost) => {
      const lines: string[] = []
      const out = Array.from(op.left, (l, i) => {
        const a = x[l],
          b = x[op.right[i]]
        // A constant factor keeps the product linear in the other: no constraint.
        if (a.sig === null || a.mul === 0n) return scaleRef(b, a.add)
        if (b.sig === null || b.mul === 0n) return scaleRef(a, b.add)
        const ta = combination([{ w: 1n, ref: a }], 0n).text,
          tb = combination([{ w: 1n, ref: b }], 0n).text
        lines.push(`    m${id}[${i}] <== (${ta}) * (${tb});`)
        return { sig: `m${id}[${i}]`, mul: 1n, add: 0n }
      })
      if (lines.length > 0) {
        body.push(`    signal m${id}[${op.left.length}];`)
        append(body, lines)
      }
      cost.mul += lines.length
      return out
    },
  }

  const emitOp = (op: PrimitiveOp, x: Ref[], xb: TensorBounds, id: TensorId) => {
    const lines: string[] = []
    const c = zeroCost()
    const out = (
      EMIT[op.op] as (op: PrimitiveOp, x: Ref[], xb: TensorBounds, id: TensorId, body: string[], cost: Cost) => Ref[]
    )(op, x, xb, id, lines, c)
    return { lines, cost: c, out }
  }
  const templates: string[] = []
  for (const step of model.steps) {
    const x = operands(refs, step.op.inputs)
    const xb = {
      lo: step.op.inputs.flatMap((i) => bounds.get(i)!.lo),
      hi: step.op.inputs.flatMap((i) => bounds.get(i)!.hi),
    }
    const id = step.output.id
    try {
      // Private weights are signals of main: those steps stay in main.
      let r: Omit<Emitted, 'lines'>
      if (privateWeights) {
        const e = emitOp(step.op, x, xb, id)
        append(body, e.lines)
        r = e
      } else r = emitStepTemplates(step.op, x, xb, id, emitOp, templates, body, templateTextLimit)
      addCost(cost, r.cost)
      refs.set(id, r.out)
    } catch (e) {
      // Bounds not from analyzeBounds may leave a table's domain: name the step.
      if (e instanceof LookupDomainError && e.params.step === undefined)
        throw new LookupDomainError({ ...e.params, step: step.origin })
      throw e
    }
  }

  // Public part: packed elements (or a hash of them) of the inputs, then of the outputs.
  const packPart = (
    prefix: string,
    tensors: { refs: Ref[]; layout: PackLayout }[],
    mode: 'public' | 'hashed' | 'private',
  ): void => {
    if (mode === 'private') return
    const total = tensors.reduce((s, t) => s + packedElementCount(t.layout), 0)
    const target = mode === 'public' ? `${prefix}_packed` : `${prefix}_pk`
    body.push(mode === 'public' ? `    signal output ${target}[${total}];` : `    signal ${target}[${total}];`)
    let e = 0
    for (const { refs: r, layout } of tensors) {
      for (let el = 0; el < packedElementCount(layout); el++, e++) {
        const parts: { w: bigint; ref: Ref }[] = []
        let c = 0n
        for (let j = 0; j < layout.lanesPerElement && el * layout.lanesPerElement + j < layout.count; j++) {
          const w = 1n << BigInt(layout.laneBits * j)
          parts.push({ w, ref: r[el * layout.lanesPerElement + j] })
          c -= w * layout.lo
        }
        body.push(`    ${target}[${e}] <== ${combination(parts, c).text};`)
      }
    }
    if (mode === 'hashed') hashes.push({ name: prefix, size: total })
  }
  const inTensors = model.inputs.map((i) => ({
    refs: refs.get(i.id)!,
    layout: packLayout(refs.get(i.id)!.length, i.lo, i.hi),
  }))
  const outTensors = model.outputs.map((o) => {
    const [lo, hi] = tensorRange(bounds.get(o.tensor)!)
    return { refs: refs.get(o.tensor)!, layout: packLayout(refs.get(o.tensor)!.length, lo, hi) }
  })
  packPart('in', inTensors, visibility.input)
  emitHashes(
    body,
    hashes.filter((h) => h.name === 'in'),
    cost,
  )
  packPart('out', outTensors, visibility.output)
  emitHashes(
    body,
    hashes.filter((h) => h.name === 'out'),
    cost,
  )
  // Declared last, so the weight commitment is the last public signal.
  const weightsLayout = privateWeights?.commit(model.name)
  if (weightsLayout) emitHashes(body, [{ name: 'wt', size: weightsLayout.elements }], cost)

  const count = publicSignalCount({
    input: visibility.input,
    inputLayouts: inTensors.map((t) => t.layout),
    output: visibility.output,
    outputLayouts: outTensors.map((t) => t.layout),
    weightCommitment: weightsLayout !== undefined,
  })
  const source = [
    ...header.map((h) => `// ${h}`),
    'pragma circom 2.1.0;',
    '',
    'include "veriml.circom";',
    ...(hashes.length > 0 || weightsLayout ? ['include "circomlib/circuits/poseidon.circom";'] : []),
    '',
    ...templates,
    'template Model() {',
    ...body,
    '}',
    '',
    'component main = Model();',
    '',
  ].join('\n')
  return {
    source,
    layout: {
      visibility,
      inputs: inTensors.map((t) => t.layout),
      outputs: outTensors.map((t) => t.layout),
      count,
      ...(weightsLayout ? { weights: weightsLayout } : {}),
    },
    cost,
  }
}

/**
 * Circom text allowed in one template. circom's wasm witness generator compiles each template
 * to one function and V8 refuses a function over 7,654,321 bytes; a step whose text is longer
 * is split into chunks of its outputs, one template each.
 */
export const TEMPLATE_TEXT_LIMIT = 1_000_000

type Emitted = { lines: string[]; cost: Cost; out: Ref[] }

/** The outputs [a, b) of an op, over the same operands (elementwise ops: their slice of them). */
const SLICE: {
  [K in OpKind]: (
    op: Extract<PrimitiveOp, { op: K }>,
    x: Ref[],
    xb: TensorBounds,
    a: number,
    b: number,
  ) => { op: PrimitiveOp; x: Ref[]; xb: TensorBounds }
} = {
  linear: (op, x, xb, a, b) => ({
    op: {
      ...op,
      ...sliceRows(op.rowPtr, op.cols, a, b),
      vals: op.vals.slice(op.rowPtr[a], op.rowPtr[b]),
      bias: op.bias.slice(a, b),
    },
    x,
    xb,
  }),
  max: (op, x, xb, a, b) => ({ op: { ...op, ...sliceRows(op.rowPtr, op.cols, a, b) }, x, xb }),
  requant: (op, x, xb, a, b) => ({ op, x: x.slice(a, b), xb: { lo: xb.lo.slice(a, b), hi: xb.hi.slice(a, b) } }),
  lookup: (op, x, xb, a, b) => ({ op, x: x.slice(a, b), xb: { lo: xb.lo.slice(a, b), hi: xb.hi.slice(a, b) } }),
  mul: (op, x, xb, a, b) => ({ op: { ...op, left: op.left.slice(a, b), right: op.right.slice(a, b) }, x, xb }),
  gather: (op, x, xb, a, b) => ({ op: { ...op, index: op.index.slice(a, b) }, x, xb }),
}

function sliceRows(
  rowPtr: Int32Array,
  cols: Int32Array,
  a: number,
  b: number,
): { rowPtr: Int32Array; cols: Int32Array } {
  return { rowPtr: rowPtr.slice(a, b + 1).map((v) => v - rowPtr[a]), cols: cols.slice(rowPtr[a], rowPtr[b]) }
}

/**
 * Emits one step as its own template(s), wired from main: circom compiles every template to
 * its own wasm function, so no function grows with the model (see TEMPLATE_TEXT_LIMIT). The
 * template's inputs are the distinct operand signals (x[k]), its outputs the signals it makes
 * (o[m]); the wiring is signal-to-signal equalities, which circom's O1 simplification removes,
 * so the constraints are those of the step emitted inline. A step with no constraints (a
 * gather, a folded constant) emits nothing.
 */
function emitStepTemplates(
  op: PrimitiveOp,
  x: Ref[],
  xb: TensorBounds,
  id: TensorId,
  emitOp: (op: PrimitiveOp, x: Ref[], xb: TensorBounds, id: TensorId) => Emitted,
  templates: string[],
  main: string[],
  limit: number,
): Omit<Emitted, 'lines'> {
  const inputs: string[] = []
  const slot = new Map<string, number>()
  const local = x.map((r) => {
    if (r.sig === null) return r
    let k = slot.get(r.sig)
    if (k === undefined) slot.set(r.sig, (k = inputs.push(r.sig) - 1))
    return { ...r, sig: `x[${k}]` }
  })
  const whole = emitOp(op, local, xb, id)
  const outside = (r: Ref): Ref => (r.sig === null ? r : { ...r, sig: inputs[Number(r.sig.slice(2, -1))] })
  if (whole.lines.length === 0) return { cost: whole.cost, out: whole.out.map(outside) }
  const size = whole.lines.reduce((s, l) => s + l.length + 1, 0)
  const n = whole.out.length
  const nChunks = Math.min(n, Math.ceil(size / limit))
  const chunks =
    nChunks === 1
      ? [whole]
      : Array.from({ length: nChunks }, (_, c) => {
          const a = Math.floor((c * n) / nChunks),
            b = Math.floor(((c + 1) * n) / nChunks)
          const s = (
            SLICE[op.op] as (
              op: PrimitiveOp,
              x: Ref[],
              xb: TensorBounds,
              a: number,
              b: number,
            ) => { op: PrimitiveOp; x: Ref[]; xb: TensorBounds }
          )(op, local, xb, a, b)
          return emitOp(s.op, s.x, s.xb, id)
        })
  const component = `s${id}`
  const cost = zeroCost()
  const out: Ref[] = []
  const wrapper: string[] = []
  let base = 0 // the step's o[base + m] is chunk c's o[m]
  chunks.forEach((chunk, c) => {
    addCost(cost, chunk.cost)
    const own = new Map<string, number>()
    for (const r of chunk.out) {
      if (r.sig === null) out.push(r)
      else if (r.sig.startsWith('x[')) out.push(outside(r))
      else {
        let m = own.get(r.sig)
        if (m === undefined) own.set(r.sig, (m = own.size))
        out.push({ ...r, sig: `${component}.o[${base + m}]` })
      }
    }
    templates.push(`template Step${id}${nChunks === 1 ? '' : `_${c}`}() {`, `    signal input x[${inputs.length}];`)
    if (own.size > 0) templates.push(`    signal output o[${own.size}];`)
    append(templates, chunk.lines)
    for (const [sig, m] of own) templates.push(`    o[${m}] <== ${sig};`)
    templates.push('}', '')
    wrapper.push(
      `    component c${c} = Step${id}_${c}();`,
      `    for (var i = 0; i < ${inputs.length}; i++) c${c}.x[i] <== x[i];`,
      ...(own.size > 0 ? [`    for (var i = 0; i < ${own.size}; i++) o[${base} + i] <== c${c}.o[i];`] : []),
    )
    base += own.size
  })
  if (nChunks > 1) {
    templates.push(
      `template Step${id}() {`,
      `    signal input x[${inputs.length}];`,
      ...(base > 0 ? [`    signal output o[${base}];`] : []),
      ...wrapper,
      '}',
      '',
    )
  }
  main.push(`    component ${component} = Step${id}();`)
  append(
    main,
    inputs.map((sig, k) => `    ${component}.x[${k}] <== ${sig};`),
  )
  return { cost, out }
}

/** Poseidon over the packed elements: 16 at first, then 15 more per link with the previous hash first. */
function emitHashes(
  body: string[],
  hashes: { name: string; size: number }[],
  cost: EmitCircuitReturnType['cost'],
): void {
  for (const { name, size } of hashes) {
    let done = 0
    let link = 0
    let prev: string | null = null
    while (done < size || link === 0) {
      const take = Math.min(size - done, prev === null ? 16 : 15)
      const width = take + (prev === null ? 0 : 1)
      const c = `h${name}${link}`
      body.push(`    component ${c} = Poseidon(${width});`)
      let slot = 0
      if (prev !== null) body.push(`    ${c}.inputs[${slot++}] <== ${prev};`)
      for (let i = 0; i < take; i++) body.push(`    ${c}.inputs[${slot++}] <== ${name}_pk[${done + i}];`)
      cost.hashing += 250 + 30 * width
      prev = `${c}.out`
      done += take
      link++
    }
    body.push(`    signal output ${name}_hash;`, `    ${name}_hash <== ${prev};`)
  }
}
