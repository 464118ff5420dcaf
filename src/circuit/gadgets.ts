/**
 * One gadget per primitive op kind: each turns the op's operand refs into output refs and
 * the circom lines that constrain them. Linear ops over private weights are the weights
 * emitter's (weights.ts); max, lookup, div and isqrt have their own files.
 */
import { requantValue } from '../ir/ops.js'
import type { OpKind, PrimitiveOp, TensorBounds, TensorId } from '../ir/types.js'
import { type Cost, append, combination, constRef, type Ref, scaleRef, zeroCost } from './lc.js'
import { emitDiv } from './div.js'
import { emitIsqrt } from './isqrt.js'
import { emitLookup } from './lookup.js'
import { emitMax } from './max.js'
import { planRequant } from './requant.js'
import type { PrivateWeightsEmitter } from './weights.js'

/** What emitting one op (or a chunk of its outputs) gives: its lines, their cost, its output refs. */
export type Emitted = { lines: string[]; cost: Cost; out: Ref[] }

/** Emits one op over operand refs `x` (bounds `xb`) as output tensor `id`. */
export type EmitOp = (op: PrimitiveOp, x: Ref[], xb: TensorBounds, id: TensorId) => Emitted

type Gadget<K extends OpKind> = (
  op: Extract<PrimitiveOp, { op: K }>,
  x: Ref[],
  xb: TensorBounds,
  id: TensorId,
  body: string[],
  cost: Cost,
) => Ref[]

/** Weights as constants: one linear constraint per output element that is not constant, no multiplication. */
const linear: Gadget<'linear'> = (op, x, _xb, id, body, cost) => {
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
}

/** One Requant gadget per element whose bounds need one; constant and affine pieces cost nothing. */
const requant: Gadget<'requant'> = (op, x, xb, id, body, cost) =>
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
  })

/** Products of two input-dependent elements: one constraint each (a constant factor keeps it linear). */
const mul: Gadget<'mul'> = (op, x, _xb, id, body, cost) => {
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
}

/**
 * The gadget emitter: with private weights (`--weights hashed`) linear ops go to the weights
 * emitter, whose witness inputs are signals of main.
 */
export function opEmitter(privateWeights: PrivateWeightsEmitter | null): EmitOp {
  const EMIT: { [K in OpKind]: Gadget<K> } = {
    linear: (op, x, xb, id, body, cost) =>
      privateWeights ? privateWeights.linear(op, x, id) : linear(op, x, xb, id, body, cost),
    requant,
    gather: (op, x) => Array.from(op.index, (i) => (i < 0 ? constRef(op.fill) : x[i])),
    max: emitMax,
    lookup: emitLookup,
    mul,
    div: emitDiv,
    isqrt: emitIsqrt,
  }
  return (op, x, xb, id) => {
    const lines: string[] = []
    const cost = zeroCost()
    const out = (EMIT[op.op] as Gadget<OpKind>)(op as never, x, xb, id, lines, cost)
    return { lines, cost, out }
  }
}
