/**
 * The fused softmax chain (src/circuit/softmax-fused.ts) built directly: the step template
 * s<id> at the chain's lookup step, its signals declared with the labels circom gives the
 * template's arrays (fusedArrays, in declaration order), its constraints as the template's
 * lines generate them. The soundness argument is at the plan (softmax-fused.ts).
 */
import { SCALAR_FIELD } from '../../util/field.js'
import { fusedArrays, type FusedPlan, type Mono, type MonoLc } from '../softmax-fused.js'
import { signed } from './gadgets/values.js'
import { type Component, INTERMEDIATE, inverse, OUTPUT, type PreCircuit, type Term } from './o1.js'
import type { DirectRef } from './refs.js'

const P = SCALAR_FIELD
const mod = (v: bigint) => ((v % P) + P) % P

/** The step s<id>: its inputs (the max's operands, as `declareInputs` makes them), the gadget, its outputs o[j] = y_j. */
export function fusedStep(
  pc: PreCircuit,
  main: Component,
  plan: FusedPlan,
  x: DirectRef[],
  id: number,
  declareInputs: (pc: PreCircuit, comp: Component, x: DirectRef[]) => { local: DirectRef[] },
): DirectRef[] {
  const step = pc.component(main, `s${id}`)
  const { local } = declareInputs(pc, step, x)
  return fusedGadget(pc, step, plan, local).map((y, m): DirectRef => {
    const o = pc.signal(step, OUTPUT, `o[${m}]`, () => pc.value(y), 'internal', m)
    pc.linear([
      [o, 1n],
      [y, -1n],
    ])
    return { sig: o, mul: 1n, add: 0n }
  })
}

/** The gadget's signals and constraints in `comp`; returns y_j's signal for every element. */
function fusedGadget(pc: PreCircuit, comp: Component, plan: FusedPlan, x: DirectRef[]): number[] {
  const { K, S, L, beta } = plan
  const base = new Map<string, { at: number; dims: number[] }>()
  let at = 0
  for (const a of fusedArrays(plan)) {
    base.set(a.name, { at, dims: a.dims })
    at += a.dims.reduce((p, d) => p * d, 1)
  }
  /** Declares `name[i][k]` at its label; `v` only read by witness builds. */
  const sig = (name: string, idx: number[], v: () => bigint): number => {
    const b = base.get(name)!
    const flat = idx.length === 1 ? idx[0]! : idx[0]! * b.dims[1]! + idx[1]!
    return pc.signal(comp, INTERMEDIATE, `${name}${idx.map((i) => `[${i}]`).join('')}`, v, 'internal', b.at + flat)
  }
  const operandValue = (r: DirectRef): bigint => (r.sig === null ? r.add : r.mul * signed(pc.value(r.sig)) + r.add)
  const aTerms = (col: number, k: bigint): Term[] => {
    const r = x[col]!
    return [
      [r.sig!, k * r.mul],
      [0, k * r.add],
    ]
  }
  // Rows: the max hint and the running product Π (m − a_k) = 0.
  const m: number[] = []
  let q = 0
  for (const [r, row] of plan.rows.entries()) {
    const mr = sig('fm', [r], () => row.map((c) => operandValue(x[c]!)).reduce((a, b) => (b > a ? b : a)))
    m.push(mr)
    const factor = (col: number): Term[] => [[mr, 1n], ...aTerms(col, -1n)]
    const fv = (col: number) => pc.value(mr) - operandValue(x[col]!)
    if (row.length === 2) {
      pc.quadratic(factor(row[0]!), factor(row[1]!), [])
      continue
    }
    let prev = sig('fq', [q], () => mod(fv(row[0]!) * fv(row[1]!)))
    pc.quadratic(factor(row[0]!), factor(row[1]!), [[prev, 1n]])
    for (let k = 2; k < row.length - 1; k++) {
      const p0 = prev
      const next = sig('fq', [q + 1], () => mod(pc.value(p0) * fv(row[k]!)))
      pc.quadratic([[p0, 1n]], factor(row[k]!), [[next, 1n]])
      prev = next
      q++
    }
    pc.quadratic([[prev, 1n]], factor(row[row.length - 1]!), [])
    q++
  }
  // Elements: e = m − a + β in K bits.
  const bits: number[][] = []
  for (const [j, { row, col }] of plan.elements.entries()) {
    const ev = () => pc.value(m[row]!) - operandValue(x[col]!) + beta
    const e: number[] = []
    for (let k = 0; k < K; k++) {
      const b = sig('fe', [j, k], () => (ev() >> BigInt(k)) & 1n)
      e.push(b)
      pc.quadratic(
        [[b, 1n]],
        [
          [b, 1n],
          [0, -1n],
        ],
        [],
      )
    }
    pc.linear([...e.map((b, k): Term => [b, 1n << BigInt(k)]), [m[row]!, -1n], ...aTerms(col, 1n), [0, -beta]])
    bits.push(e)
  }
  const ys: number[] = []
  for (let j = 0; j < plan.elements.length; j++) {
    const e = bits[j]!
    const sum = (from: number, to: number): Term[] => e.slice(from, to).map((b): Term => [b, 1n])
    const value = (t: Term[]) => t.reduce((s, [w, c]) => s + c * (w === 0 ? 1n : pc.value(w)), 0n)
    const sh = sum(S - 1, K)
    const sl: Term[] = [[0, BigInt(S - 1)], ...e.slice(0, S - 1).map((b): Term => [b, -1n])]
    const w = sig('fzi', [j], () => (value(sh) === 0n ? 0n : mod(value(sl) * inverse(value(sh)))))
    pc.quadratic(sh, [[w, 1n]], sl)
    const so = sum(S + L, K)
    const oi = sig('foi', [j], () => (value(so) === 0n ? 0n : inverse(value(so))))
    const o = sig('fo', [j], () => (value(so) === 0n ? 1n : 0n))
    pc.quadratic(
      so,
      [[oi, 1n]],
      [
        [0, 1n],
        [o, -1n],
      ],
    )
    pc.quadratic(so, [[o, 1n]], [])
    const low: number[] = []
    const high: number[] = []
    const mono = (mn: Mono): number => (mn.kind === 'bit' ? e[mn.pos]! : mn.kind === 'low' ? low[mn.i]! : high[mn.i]!)
    const lcTerms = (lc: MonoLc): Term[] => [[0, lc.c0], ...lc.terms.map(({ mono: mn, c }): Term => [mono(mn), c])]
    for (const [name, list, into] of [
      ['fl', plan.low, low],
      ['fh', plan.high, high],
    ] as const)
      for (const [i, p] of list.entries()) {
        const [l, r] = [mono(p.left), mono(p.right)]
        const s = sig(name, [j, i], () => pc.value(l) * pc.value(r))
        pc.quadratic([[l, 1n]], [[r, 1n]], [[s, 1n]])
        into.push(s)
      }
    const prods: number[] = []
    for (const [i, p] of plan.products.entries()) {
      const mn = mono(p.mono)
      const lc = lcTerms(p.lc)
      const s = sig('fp', [j, i], () => pc.value(mn) * value(lc))
      pc.quadratic([[mn, 1n]], lc, [[s, 1n]])
      prods.push(s)
    }
    const f: Term[] = [...lcTerms(plan.f), ...prods.map((s): Term => [s, 1n])]
    const y = sig('fy', [j], () => plan.tailValue + pc.value(o) * value(f))
    pc.quadratic([[o, 1n]], f, [
      [y, 1n],
      [0, -plan.tailValue],
    ])
    ys.push(y)
  }
  return ys
}
