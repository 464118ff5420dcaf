/**
 * Steps as templates of their own, wired from main, split into chunks of their outputs when
 * one template's text would be too long for circom's wasm witness generator.
 */
import type { OpKind, PrimitiveOp, TensorBounds, TensorId } from '../ir/types.js'
import type { Emitted, EmitOp } from './gadgets.js'
import { addCost, append, type Ref, zeroCost } from './lc.js'

/**
 * Circom text allowed in one template. circom's wasm witness generator compiles each template
 * to one function and V8 refuses a function over 7,654,321 bytes; a step whose text is longer
 * is split into chunks of its outputs, one template each.
 */
export const TEMPLATE_TEXT_LIMIT = 1_000_000

/** The outputs [a, b) of an op, over the same operands (elementwise ops: their slice of them); the direct backend chunks with it too. */
export const SLICE: {
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
  div: (op, x, xb, a, b) => ({ op: { ...op, num: op.num.slice(a, b), den: op.den.slice(a, b) }, x, xb }),
  isqrt: (op, x, xb, a, b) => ({ op, x: x.slice(a, b), xb: { lo: xb.lo.slice(a, b), hi: xb.hi.slice(a, b) } }),
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
export function emitStepTemplates(
  op: PrimitiveOp,
  x: Ref[],
  xb: TensorBounds,
  id: TensorId,
  emitOp: EmitOp,
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
