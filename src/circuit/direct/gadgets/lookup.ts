/**
 * circuits/veriml.circom's `Lookup(N, A, B, M, C, T)` built directly, and the planned lookup of
 * one element (src/circuit/lookup.ts: constant and affine slices cost nothing).
 *
 * Signals in label order: y, (x: a copy of the caller's wire, no wire), hb[0..A−1),
 * lb[0..B−1), p[0..A−2); 2A + B constraints. O1 removes none of them, whatever the table
 * (measured): when row k + 1 equals row 0 up to a constant c, `p[k] <== hb[k]·(…)` becomes the
 * linear p[k] = c·hb[k], and circom keeps p[k] even for c = 1 (a copy) or c = 0 (`L: p[k] = 0`),
 * and y even when it equals hb[0] (a 0/1 step table with A = 2): O1 only removes signals
 * assigned a bare signal or constant (`a <== b`, `a <== 5`), not the result of a product.
 */
import type { LookupOp } from '../../../ir/types.js'
import { planLookup } from '../../lookup.js'
import type { Wire } from '../../r1cs/system.js'
import { GadgetParameterError, GadgetWitnessError } from './errors.js'
import { type AffineWire, type ConstraintSink, signed, wireValue, type WitnessStep } from './values.js'

/** A term's variable: a local signal (index in label order) or a caller's wire (0: the constant one). */
type Var = { local: number } | { wire: Wire }
type LocalLc = [Var, bigint][]
type LocalConstraint = { kind: 'quadratic'; a: LocalLc; b: LocalLc; c: LocalLc } | { kind: 'linear'; lc: LocalLc }

export interface LookupGadget {
  /** T[M·x + C]: a wire (`<path>.y`, or whichever signal O1 kept for it), or a constant. */
  y: AffineWire
  witness: WitnessStep
}

export interface LookupParams {
  N: number
  A: number
  B: number
  M: bigint
  C: bigint
  /** T[0..N); entries past N read as 0, as in the template. */
  table: readonly bigint[]
}

/** `Lookup(N, A, B, M, C, T)` at `path` over the caller's wire x. */
export function lookup(
  cs: ConstraintSink,
  path: string,
  x: Wire,
  { N, A, B, M, C, table }: LookupParams,
): LookupGadget {
  if (A < 2 || B < 2 || N > A * B || table.length < N)
    throw new GadgetParameterError({
      gadget: `Lookup ${path}`,
      problem: `needs A, B ≥ 2, N ≤ A·B and N entries (A = ${A}, B = ${B}, N = ${N}, ${table.length} entries)`,
    })
  const Y = 0
  const hb = (k: number) => 1 + k
  const lb = (k: number) => A + k
  const p = (k: number) => A + B - 1 + k
  /** Locals: y, hb, lb, p (2A + B − 3). */
  const count = A + B - 1 + (A - 2)
  const arrays = [
    { name: `${path}.hb`, count: A - 1 },
    { name: `${path}.lb`, count: B - 1 },
    ...(A > 2 ? [{ name: `${path}.p`, count: A - 2 }] : []),
  ]
  const L = (i: number): Var => ({ local: i })
  const ONE: Var = { wire: 0 }
  const T = (i: number) => (i < N ? table[i]! : 0n)
  const cs0: LocalConstraint[] = []
  const boolean = (v: Var) =>
    cs0.push({
      kind: 'quadratic',
      a: [[v, 1n]],
      b: [
        [v, 1n],
        [ONE, -1n],
      ],
      c: [],
    })
  const oneHot = (vars: Var[]) =>
    cs0.push({
      kind: 'quadratic',
      a: vars.map((v) => [v, 1n]),
      b: [[ONE, 1n], ...vars.map((v): [Var, bigint] => [v, -1n])],
      c: [],
    })
  const hbs = Array.from({ length: A - 1 }, (_, k) => L(hb(k)))
  const lbs = Array.from({ length: B - 1 }, (_, k) => L(lb(k)))
  for (const v of hbs) boolean(v)
  oneHot(hbs)
  for (const v of lbs) boolean(v)
  oneHot(lbs)
  cs0.push({
    kind: 'linear',
    lc: [
      ...hbs.map((v, k): [Var, bigint] => [v, BigInt(B * (k + 1))]),
      ...lbs.map((v, k): [Var, bigint] => [v, BigInt(k + 1)]),
      [{ wire: x }, -M],
      [ONE, -C],
    ],
  })
  // row[h] = T[hB] + Σ_k (T[hB + k + 1] − T[hB])·lb[k]; diff[h] = row[h] − row[0] (constants folded).
  const row = (h: number): LocalLc => [
    [ONE, T(h * B)],
    ...lbs.map((v, k): [Var, bigint] => [v, T(h * B + k + 1) - T(h * B)]),
  ]
  const diff = (h: number): { lc: LocalLc; constant: bigint | null } => {
    const lc: LocalLc = [...row(h), ...row(0).map(([v, c]): [Var, bigint] => [v, -c])]
    const k = lbs.map((_, j) => T(h * B + j + 1) - T(h * B) - (T(j + 1) - T(0)))
    return { lc, constant: k.every((c) => c === 0n) ? T(h * B) - T(0) : null }
  }
  /** `s <== v * d` as circom generates it: linear when d is a compile-time constant. */
  const product = (s: Var, v: Var, d: { lc: LocalLc; constant: bigint | null }, extra: LocalLc) =>
    d.constant === null
      ? cs0.push({
          kind: 'quadratic',
          a: [[v, 1n]],
          b: d.lc,
          c: [[s, 1n], ...extra.map(([u, c]): [Var, bigint] => [u, -c])],
        })
      : cs0.push({ kind: 'linear', lc: [[s, 1n], ...extra.map(([u, c]): [Var, bigint] => [u, -c]), [v, -d.constant]] })
  for (let k = 0; k < A - 2; k++) product(L(p(k)), hbs[k]!, diff(k + 1), [])
  const acc: LocalLc = [...row(0), ...Array.from({ length: A - 2 }, (_, k): [Var, bigint] => [L(p(k)), 1n])]
  const last = diff(A - 1)
  if (last.constant === null) product(L(Y), hbs[A - 2]!, last, acc)
  else
    cs0.push({
      kind: 'linear',
      lc: [[L(Y), 1n], ...acc.map(([u, c]): [Var, bigint] => [u, -c]), [hbs[A - 2]!, -last.constant]],
    })

  const wires = declare(cs, count, arrays, `${path}.y`)
  const toWires = (lc: LocalLc): [Wire, bigint][] =>
    lc.map(([v, c]): [Wire, bigint] => ['local' in v ? wires[v.local]! : v.wire, c])
  for (const c of cs0)
    if (c.kind === 'linear') cs.linear(toWires(c.lc))
    else cs.constrain(toWires(c.a), toWires(c.b), toWires(c.c))
  const y: AffineWire = { wire: wires[Y]!, mul: 1n, add: 0n }

  const witness: WitnessStep = (values) => {
    const v = M * signed(wireValue(values, x, `Lookup ${path}`)) + C
    // INVARIANT: the caller's bounds put v in [0, N); past it the one-hot split has no row or column.
    if (v < 0n || v >= BigInt(N))
      throw new GadgetWitnessError({ gadget: `Lookup ${path}`, problem: `index ${v} is outside [0, ${N})` })
    const h = Number(v / BigInt(B))
    const l = Number(v % BigInt(B))
    const local = new Array<bigint>(count).fill(0n)
    local[Y] = T(Number(v))
    for (let k = 0; k < A - 1; k++) local[hb(k)] = h === k + 1 ? 1n : 0n
    for (let k = 0; k < B - 1; k++) local[lb(k)] = l === k + 1 ? 1n : 0n
    for (let k = 0; k < A - 2; k++) local[p(k)] = h === k + 1 ? T((k + 1) * B + l) - T(l) : 0n
    wires.forEach((w, i) => {
      values.set(w, local[i]!)
    })
  }
  return { y, witness }
}

/** y, then each array in order (locals in label order), as consecutive wires. */
function declare(
  cs: ConstraintSink,
  count: number,
  arrays: readonly { name: string; count: number }[],
  yName: string,
): Wire[] {
  const wires = [cs.signal('internal', yName)]
  for (const a of arrays) for (const w of cs.signals('internal', a.name, a.count)) wires.push(w)
  if (wires.length !== count) throw new GadgetParameterError({ gadget: yName, problem: 'signal count mismatch' })
  return wires
}

/**
 * The lookup of one element as src/circuit/lookup.ts plans it from the bounds [lo, hi] of
 * x = mul·wire + add: a constant or affine slice of the table costs nothing (gadget null),
 * else Lookup over the reachable slice with M = x.mul, C = x.add − lo.
 */
export function lookupElement(
  cs: ConstraintSink,
  path: string,
  op: Omit<LookupOp, 'op' | 'inputs'>,
  x: AffineWire,
  lo: bigint,
  hi: bigint,
  element = 0,
): { y: AffineWire; gadget: LookupGadget | null } {
  const plan = planLookup(op, lo, hi, element)
  if (plan.kind === 'constant' || x.wire === null || x.mul === 0n)
    return {
      y: { wire: null, mul: 0n, add: plan.kind === 'constant' ? plan.value : lookupAt(op, x.add) },
      gadget: null,
    }
  if (plan.kind === 'linear')
    return { y: { wire: x.wire, mul: plan.step * x.mul, add: plan.first + plan.step * (x.add - lo) }, gadget: null }
  const gadget = lookup(cs, path, x.wire, {
    N: plan.N,
    A: plan.A,
    B: plan.B,
    M: x.mul,
    C: x.add - lo,
    table: plan.entries,
  })
  return { y: gadget.y, gadget }
}

function lookupAt(op: Omit<LookupOp, 'op' | 'inputs'>, v: bigint): bigint {
  return op.table[Number(v - op.offset)]!
}
