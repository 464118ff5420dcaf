/**
 * The div and isqrt ops of a step built directly: circuits/veriml.circom's Div and Isqrt
 * transcribed into the pre-O1 circuit (o1.ts) as src/circuit/div.ts and isqrt.ts emit them —
 * one component dv<id>_<i> / sq<id>_<j> per element, the same signals, names, declaration
 * order and constraints, sized by the same plans (planDiv, planIsqrt), so O1 leaves what
 * circom leaves. Like requant.ts (and unlike the gadgets/ sinks) every template signal is
 * declared, the inputs as copies of the caller's signals (a constant operand: `c.a <== 0`,
 * folded by O1), and each hint's value is computed when it is declared, from the operands'.
 */
import { divValue, floorDiv, isqrtValue } from '../../ir/ops.js'
import type { DivOp, IsqrtOp, TensorBounds, TensorId } from '../../ir/types.js'
import { planDiv } from '../div.js'
import { planIsqrt } from '../isqrt.js'
import { GadgetWitnessError } from './gadgets/errors.js'
import { signed } from './gadgets/values.js'
import { type Component, INPUT, INTERMEDIATE, OUTPUT, type PreCircuit, type Term } from './o1.js'
import { constRef, type DirectRef } from './refs.js'

const pow2 = (n: number) => 1n << BigInt(n)
const bit = (v: bigint, i: number) => (v >> BigInt(i)) & 1n
const isConstant = (r: DirectRef) => r.sig === null || r.mul === 0n

/** An operand as the template sees it: its input port (a copy of the caller's signal) and MA·port + CA. */
interface Port {
  terms: Term[]
  value: () => bigint
}

/** Input `name` (declaration index `index`) of `comp`, `comp.name <== sig` (a constant: `<== 0`, MA = 0). */
function port(pc: PreCircuit, comp: Component, name: string, index: number, r: DirectRef): Port {
  const constant = isConstant(r)
  const src = r.sig
  const sig = pc.signal(comp, INPUT, name, () => (constant ? 0n : pc.value(src!)), 'internal', index)
  pc.linear(
    constant
      ? [[sig, 1n]]
      : [
          [sig, 1n],
          [src!, -1n],
        ],
  )
  const terms: Term[] = []
  if (!constant) terms.push([sig, r.mul])
  if (r.add !== 0n) terms.push([0, r.add])
  return { terms, value: () => (constant ? r.add : r.mul * signed(pc.value(src!)) + r.add) }
}

const scaled = (t: Term[], k: bigint): Term[] => t.map(([s, v]): Term => [s, v * k])

/** `n` hints `name[i]` of `comp`, bit i of `value()` (`booleans` constrains them). */
function bits(pc: PreCircuit, comp: Component, name: string, n: number, value: () => bigint): number[] {
  return Array.from({ length: n }, (_, i) => pc.signal(comp, INTERMEDIATE, `${name}[${i}]`, () => bit(value(), i)))
}

function booleans(pc: PreCircuit, bs: number[]): void {
  for (const b of bs)
    pc.quadratic(
      [[b, 1n]],
      [
        [b, 1n],
        [0, -1n],
      ],
      [],
    )
}

const weighted = (bs: number[]): Term[] => bs.map((b, i): Term => [b, pow2(i)])

/** y <== YLO + Σ yb[i]·2^i. */
function recompose(pc: PreCircuit, y: number, ylo: bigint, yb: number[]): void {
  pc.linear([[y, 1n], [0, -ylo], ...scaled(weighted(yb), -1n)])
}

/** One Div component per element whose bounds leave more than one quotient (emitDiv). */
export function divOp(
  pc: PreCircuit,
  comp: Component,
  op: DivOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
): DirectRef[] {
  return Array.from(op.num, (n, i): DirectRef => {
    const a = n < 0 ? constRef(1n) : x[n]!
    const d = x[op.den[i]!]!
    const [alo, ahi] = n < 0 ? [1n, 1n] : [xb.lo[n]!, xb.hi[n]!]
    if (isConstant(a) && isConstant(d)) return constRef(divValue(a.add, d.add, op.shift))
    const plan = planDiv(op.shift, alo, ahi, xb.lo[op.den[i]!]!, xb.hi[op.den[i]!]!, i)
    if (plan.kind === 'constant') return constRef(plan.value)
    const { S, RB, YB, YLO } = plan
    const dv = pc.component(comp, `dv${id}_${i}`)
    const name = `Div ${dv.path}`
    let hints: { q: bigint; r: bigint; d: bigint } | null = null
    const h = () => (hints ??= divHints(name, S, YB, YLO, an.value(), dn.value()))
    // Ports first (their values feed the hints); labels come from rank and index, not call order.
    const an = port(pc, dv, 'a', 0, a)
    const dn = port(pc, dv, 'd', 1, d)
    const y = pc.signal(dv, OUTPUT, 'y', () => YLO + h().q)
    const rb = bits(pc, dv, 'rb', RB, () => h().r)
    const sb = bits(pc, dv, 'sb', RB, () => 2n * h().d - 1n - h().r)
    const yb = bits(pc, dv, 'yb', YB, () => h().q)
    booleans(pc, yb)
    recompose(pc, y, YLO, yb)
    booleans(pc, rb)
    booleans(pc, sb)
    const rsum = weighted(rb)
    // ssum === 2d' − 1 − rsum
    pc.linear([...weighted(sb), ...scaled(dn.terms, -2n), [0, 1n], ...rsum])
    // y·(2d') === 2^(S+1)·a' + d' − rsum
    pc.quadratic([[y, 1n]], scaled(dn.terms, 2n), [...scaled(an.terms, pow2(S + 1)), ...dn.terms, ...scaled(rsum, -1n)])
    return { sig: y, mul: 1n, add: 0n }
  })
}

/** The Div hints: q = y − YLO and r with 2d·q + r = 2^(S+1)·a + d − 2d·YLO, 0 ≤ r < 2d. */
function divHints(
  gadget: string,
  S: number,
  YB: number,
  YLO: bigint,
  a: bigint,
  d: bigint,
): { q: bigint; r: bigint; d: bigint } {
  const num = (a << BigInt(S + 1)) + d - 2n * d * YLO
  const q = d >= 1n ? floorDiv(num, 2n * d) : -1n
  // INVARIANT: the bounds that sized the gadget hold (d ≥ 1, y − YLO ∈ [0, 2^YB)); else no hint satisfies it.
  if (q < 0n || q >= pow2(YB))
    throw new GadgetWitnessError({
      gadget,
      problem: `a = ${a}, d = ${d} give a quotient outside [${YLO}, ${YLO + pow2(YB)}): the bounds that sized it are wrong`,
    })
  return { q, r: num - 2n * d * q, d }
}

/** One Isqrt component per element whose bounds leave more than one root (emitIsqrt). */
export function isqrtOp(
  pc: PreCircuit,
  comp: Component,
  _op: IsqrtOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
): DirectRef[] {
  return x.map((r, j): DirectRef => {
    if (isConstant(r)) return constRef(isqrtValue(r.add))
    const plan = planIsqrt(xb.lo[j]!, xb.hi[j]!)
    if (plan.kind === 'constant') return constRef(plan.value)
    const { YB, W, YLO } = plan
    const sq = pc.component(comp, `sq${id}_${j}`)
    let hints: { root: bigint; rem: bigint } | null = null
    const h = () => (hints ??= isqrtHints(`Isqrt ${sq.path}`, YB, YLO, xv.value()))
    const xv = port(pc, sq, 'x', 0, r)
    const y = pc.signal(sq, OUTPUT, 'y', () => h().root)
    const rb = bits(pc, sq, 'rb', W, () => h().rem)
    const sb = bits(pc, sq, 'sb', W, () => 2n * h().root - h().rem)
    const yb = bits(pc, sq, 'yb', YB, () => h().root - YLO)
    booleans(pc, yb)
    recompose(pc, y, YLO, yb)
    booleans(pc, rb)
    booleans(pc, sb)
    const rsum = weighted(rb)
    // ssum === 2y − rsum
    pc.linear([...weighted(sb), [y, -2n], ...rsum])
    // y·y === x' − rsum
    pc.quadratic([[y, 1n]], [[y, 1n]], [...xv.terms, ...scaled(rsum, -1n)])
    return { sig: y, mul: 1n, add: 0n }
  })
}

/** The Isqrt hints: root = floor(√x) and rem = x − root². */
function isqrtHints(gadget: string, YB: number, YLO: bigint, x: bigint): { root: bigint; rem: bigint } {
  const root = x >= 0n ? isqrtValue(x) : -1n
  // INVARIANT: the bounds that sized the gadget hold (x ≥ 0, root − YLO ∈ [0, 2^YB)).
  if (root < YLO || root - YLO >= pow2(YB))
    throw new GadgetWitnessError({
      gadget,
      problem: `x = ${x} has a root outside [${YLO}, ${YLO + pow2(YB)}): the bounds that sized it are wrong`,
    })
  return { root, rem: x - root * root }
}
