/**
 * Softmax's row chain max → x − max → requant (exp's table index) → exp lookup as ONE circuit
 * gadget (issue 16: an attention score ≤ 40 constraints beyond its products). The IR keeps its
 * four steps (executor, bounds, Solidity one-step and optimistic path untouched); the circuit
 * backends recognise the chain (`softmaxChains`) and emit it at the lookup's step, the three
 * steps before it emitting nothing. Both backends plan it here: this file writes the circom
 * text, direct/softmax-fused.ts the same signals and constraints.
 *
 * Pattern (anything else keeps today's per-step gadgets): a max op whose output only the
 * centring linear reads; that linear's row j is exactly x[cols[j]] − max[row of entry j] (bias
 * 0: one row per max entry, in the max's entry order, so every operand of every row is
 * covered); a requant of it, and only it, with mul 1, zero point 0, half up, shift S ≥ 2, a
 * lower clamp −J and no upper clamp below 0; a lookup of that requant, and only it; none of
 * the three intermediate tensors a model output; every row operand a signal; constant weights.
 *
 * Per row: the max m is a hint. Per element a (of row r): e = m − a + β with β = 2^(S−1) − 1
 * is decomposed ONCE into K bits. Then, with q the requant's unclamped value,
 *   q = ⌊(a − m + 2^(S−1)) / 2^S⌋ = −⌈(d − 2^(S−1)) / 2^S⌉ = −⌊(d + β) / 2^S⌋ = −(e >> S),
 * so the index j = −q is e's bits from S up, and the clamp min(j, J) is read from them.
 *
 * Soundness (every hint constrained):
 * - m is one of its row's values: the running product Π_k (m − a_k) is constrained to 0, and
 *   the field has no zero divisors, so some factor is 0.
 * - e ∈ [0, 2^K) exactly: K booleans recompose to m − a + β. K comes from PROVEN bounds
 *   (2^K > max_row hi − lo(a) + β, so the honest e fits), and 2^K ≪ p: since m is a row value,
 *   m − a + β is an integer far inside (−p/2, p/2), so the field equation is the integer one.
 * - m ≥ a, i.e. e ≥ β = 2^(S−1) − 1: with sh = Σ bits S−1.. and sl = Σ_{k<S−1} (1 − bit k),
 *   e ≥ β iff sh ≠ 0 or sl = 0, which is one constraint sl = sh·w with a hint w: sh = 0 forces
 *   sl = 0 (e = β, d = 0), and sh ≠ 0 always has w = sl/sh. (w is free when sh = sl = 0, as
 *   IsZero's inverse is when its input is 0: nothing reads it.) So m ≥ every row value and is
 *   one of them: m is the row max, and d = m − a.
 * - The index bits are e's bits S..S+L−1 (2^L > J); over = [some bit ≥ S+L set] by a second
 *   IsZero (zo = 1 − over), so with f(v) = T(min(v, J)) on v ∈ [0, 2^L) the output is
 *   y = T(J) + zo·(f(v) − T(J)) = T(min(j, J)), the lookup of the clamped requant.
 * - f(v) is the multilinear polynomial in v's L bits (exact on {0,1}^L, the bits being
 *   boolean): its monomials are products of booleans (low group: every monomial a signal;
 *   high group: each monomial times its linear cofactor over the low monomials).
 */
import { lookupValue } from '../ir/ops.js'
import type { IrModel, LinearOp, LookupOp, MaxOp, RequantOp, TensorBounds, TensorId } from '../ir/types.js'
import type { EmitOp } from './gadgets.js'
import { combination, type Ref, zeroCost } from './lc.js'

/** The four steps of one chain (indices into model.steps). */
export interface ChainSteps {
  max: number
  centre: number
  clamp: number
  exp: number
}

/** A monomial of the index bits as the gadget names it: one of e's bits, or a product signal. */
export type Mono = { kind: 'bit'; pos: number } | { kind: 'low'; i: number } | { kind: 'high'; i: number }

/** A product signal: left · right (a low or high monomial of degree ≥ 2). */
export interface MonoProduct {
  left: Mono
  right: Mono
}

/** c0 + Σ c·mono. */
export interface MonoLc {
  c0: bigint
  terms: { mono: Mono; c: bigint }[]
}

export interface FusedPlan {
  steps: ChainSteps
  /** Each max row's operand indices (into the max's concatenated operands). */
  rows: number[][]
  /** Element j: its row and its operand index (the linear row's x column). */
  elements: { row: number; col: number }[]
  S: number
  K: number
  L: number
  beta: bigint
  /** T(J), the value past the clamp. */
  tailValue: bigint
  low: MonoProduct[]
  high: MonoProduct[]
  /** The products high monomial · cofactor (each a signal). */
  products: { mono: Mono; lc: MonoLc }[]
  /** f(v) − T(J) = c0 + Σ c·mono + Σ products (the linear part over monomials). */
  f: MonoLc
  /** f(v) on v ∈ [0, 2^L), for the witness. */
  table: bigint[]
  /** Constraints an element beyond its K + 1 (bits and recomposition). */
  perElement: number
}

const bitLength = (v: bigint) => (v <= 0n ? 0 : v.toString(2).length)

/**
 * The chains the circuit backends fuse, keyed by the max's step index (the refs-free part of
 * the pattern; `planFused` checks the operands). None with private weights (their steps sit
 * in main, not in templates).
 */
export function softmaxChains(model: IrModel): Map<number, ChainSteps> {
  const readers = new Map<TensorId, number>()
  for (const s of model.steps) for (const i of s.op.inputs) readers.set(i, (readers.get(i) ?? 0) + 1)
  for (const o of model.outputs) readers.set(o.tensor, (readers.get(o.tensor) ?? 0) + 2)
  const readerOf = (id: TensorId): number | undefined => {
    if (readers.get(id) !== 1) return undefined
    const i = model.steps.findIndex((s) => s.op.inputs.includes(id))
    return i < 0 ? undefined : i
  }
  const chains = new Map<number, ChainSteps>()
  for (const [max, step] of model.steps.entries()) {
    if (step.op.op !== 'max') continue
    const centre = readerOf(step.output.id)
    if (centre === undefined) continue
    const clamp = readerOf(model.steps[centre].output.id)
    if (clamp === undefined) continue
    const exp = readerOf(model.steps[clamp].output.id)
    if (exp === undefined) continue
    const c = { max, centre, clamp, exp }
    if (matches(model, c)) chains.set(max, c)
  }
  return chains
}

function matches(model: IrModel, c: ChainSteps): boolean {
  const mx = model.steps[c.max].op
  const lin = model.steps[c.centre].op
  const rq = model.steps[c.clamp].op
  const lk = model.steps[c.exp].op
  if (mx.op !== 'max' || lin.op !== 'linear' || rq.op !== 'requant' || lk.op !== 'lookup') return false
  if (lin.inputs.length !== mx.inputs.length + 1) return false
  if (!mx.inputs.every((id, k) => lin.inputs[k] === id) || lin.inputs.at(-1) !== model.steps[c.max].output.id)
    return false
  if (rq.inputs[0] !== model.steps[c.centre].output.id || lk.inputs[0] !== model.steps[c.clamp].output.id) return false
  if (!centres(mx, lin)) return false
  if (rq.mul !== 1n || rq.zeroPoint !== 0n || rq.rounding === 'half-even' || rq.shift < 2) return false
  if (rq.lo === null || rq.lo > -1n || (rq.hi !== null && rq.hi < 0n)) return false
  return rq.lo >= lk.offset && lk.offset + BigInt(lk.table.length) > 0n
}

/**
 * Linear row j = x[cols[j]] − (a max output), bias 0, for every max entry in order (that the
 * max output is row j's own row is checked with the operand count, in `planFused`).
 */
function centres(mx: MaxOp, lin: LinearOp): boolean {
  const n = mx.cols.length
  if (lin.bias.length !== n) return false
  for (let j = 0; j < n; j++) {
    if (lin.bias[j] !== 0n || lin.rowPtr[j + 1] - lin.rowPtr[j] !== 2) return false
    const k = lin.rowPtr[j]
    const [v0, v1] = [lin.vals[k], lin.vals[k + 1]]
    const x = v0 === 1n && v1 === -1n ? lin.cols[k] : v1 === 1n && v0 === -1n ? lin.cols[k + 1] : -1
    if (x !== mx.cols[j]) return false
  }
  return true
}

/**
 * The gadget's plan for this chain over the max's operand refs (signal or not), or null when
 * the pattern does not hold for them (a constant operand, a column that is not the max row).
 */
export function planFused(
  model: IrModel,
  bounds: Map<TensorId, TensorBounds>,
  steps: ChainSteps,
  x: readonly { sig: unknown; mul: bigint }[],
): FusedPlan | null {
  const mx = model.steps[steps.max].op as MaxOp
  const lin = model.steps[steps.centre].op as LinearOp
  const rq = model.steps[steps.clamp].op as RequantOp
  const lk = model.steps[steps.exp].op as LookupOp
  const nx = x.length
  const lo = mx.inputs.flatMap((i) => bounds.get(i)!.lo)
  const hi = mx.inputs.flatMap((i) => bounds.get(i)!.hi)
  const rows: number[][] = []
  const elements: { row: number; col: number }[] = []
  for (let r = 0; r + 1 < mx.rowPtr.length; r++) {
    const row = Array.from(mx.cols.slice(mx.rowPtr[r], mx.rowPtr[r + 1]))
    if (row.length < 2) return null
    rows.push(row)
    for (const [k, col] of row.entries()) {
      const j = mx.rowPtr[r] + k
      const at = lin.rowPtr[j]
      const mCol = lin.vals[at] === -1n ? lin.cols[at] : lin.cols[at + 1]
      // The max's output follows its operands in the linear's inputs: column (operand count) + row.
      if (mCol !== nx + r) return null
      elements.push({ row: r, col })
    }
  }
  if (x.some((ref) => ref.sig === null || ref.mul === 0n)) return null
  const S = rq.shift
  const beta = (1n << BigInt(S - 1)) - 1n
  let emax = 0n
  for (const { row, col } of elements) {
    const top = rows[row].reduce((m, c) => (hi[c] > m ? hi[c] : m), hi[rows[row][0]])
    const e = top - lo[col] + beta
    if (e > emax) emax = e
  }
  const K = bitLength(emax)
  const J = Number(-rq.lo!)
  const L = bitLength(BigInt(J))
  // No bit past the index: the clamp never acts, today's gadgets are as cheap. K ≤ 240: 2^K ≪ p.
  // Past 2^10 table entries the monomials cost more than the Lookup gadget's one-hot split.
  if (K <= S + L || K > 240 || L > 10) return null
  const T = (j: number) => lookupValue(lk, -BigInt(Math.min(j, J)))
  const table = Array.from({ length: 2 ** L }, (_, v) => T(v))
  return { steps, rows, elements, S, K, L, beta, tailValue: T(J), table, ...polynomial(table, L, S) }
}

/**
 * f − T(J) as a multilinear polynomial in the L index bits (bits S..S+L−1 of e): the low l
 * bits' monomials are product signals, each high monomial multiplies its cofactor over them.
 */
function polynomial(
  table: bigint[],
  L: number,
  S: number,
): Pick<FusedPlan, 'low' | 'high' | 'products' | 'f' | 'perElement'> {
  const tail = table[table.length - 1]
  // Möbius transform: c[mask] = Σ_{sub ⊆ mask} (−1)^{|mask − sub|} f(sub).
  const c = table.map((t) => t - tail)
  for (let i = 0; i < L; i++) for (let m = 0; m < c.length; m++) if (m & (1 << i)) c[m] -= c[m ^ (1 << i)]
  let best = { l: 1, cost: Infinity }
  for (let l = 1; l <= L; l++) {
    const h = L - l
    const cost = 2 ** l - 1 - l + (2 ** h - 1 - h) + (2 ** h - 1)
    if (cost < best.cost) best = { l, cost }
  }
  const l = best.l
  const h = L - l
  const low: MonoProduct[] = []
  const high: MonoProduct[] = []
  const lowMono = new Map<number, Mono>()
  const highMono = new Map<number, Mono>()
  const monos = (bits: number, base: number, into: MonoProduct[], map: Map<number, Mono>, kind: 'low' | 'high') => {
    for (let m = 1; m < 2 ** bits; m++) {
      const top = 31 - Math.clz32(m)
      const rest = m ^ (1 << top)
      const bit: Mono = { kind: 'bit', pos: S + base + top }
      if (rest === 0) map.set(m, bit)
      else {
        map.set(m, { kind, i: into.length })
        into.push({ left: map.get(rest)!, right: bit })
      }
    }
  }
  monos(l, 0, low, lowMono, 'low')
  const f: MonoLc = { c0: c[0], terms: [] }
  for (let nu = 1; nu < 2 ** l; nu++) if (c[nu] !== 0n) f.terms.push({ mono: lowMono.get(nu)!, c: c[nu] })
  // High monomials only where their cofactor is not zero.
  const cofactor = (mu: number): MonoLc => {
    const lc: MonoLc = { c0: c[mu << l], terms: [] }
    for (let nu = 1; nu < 2 ** l; nu++) {
      const k = c[(mu << l) | nu]
      if (k !== 0n) lc.terms.push({ mono: lowMono.get(nu)!, c: k })
    }
    return lc
  }
  // Every high monomial (single bits among them); the products are kept below only where needed.
  const allMap = new Map<number, Mono>()
  monos(h, l, [], allMap, 'high')
  const needed = new Set<number>()
  for (let mu = 1; mu < 2 ** h; mu++) {
    const lc = cofactor(mu)
    if (lc.c0 === 0n && lc.terms.length === 0) continue
    for (let sub = mu; sub > 0; sub = (sub - 1) & mu) needed.add(sub)
  }
  // Keep the needed products (and the ones they are built from), renumbered in order.
  for (let mu = 1; mu < 2 ** h; mu++) {
    const top = 31 - Math.clz32(mu)
    const rest = mu ^ (1 << top)
    if (rest === 0) highMono.set(mu, allMap.get(mu)!)
    else if (needed.has(mu)) {
      highMono.set(mu, { kind: 'high', i: high.length })
      high.push({ left: highMono.get(rest)!, right: { kind: 'bit', pos: S + l + top } })
    }
  }
  const products: { mono: Mono; lc: MonoLc }[] = []
  for (let mu = 1; mu < 2 ** h; mu++) {
    const lc = cofactor(mu)
    if (lc.c0 === 0n && lc.terms.length === 0) continue
    if (lc.terms.length === 0) f.terms.push({ mono: highMono.get(mu)!, c: lc.c0 })
    else products.push({ mono: highMono.get(mu)!, lc })
  }
  // Past the bits and recomposition: sl = sh·w, the over IsZero, monomials, products, y.
  const perElement = 1 + 2 + low.length + high.length + products.length + 1
  return { low, high, products, f, perElement }
}

/** Constraints of the planned gadget: K + 1 + perElement an element, n − 1 a row. */
export function fusedConstraints(plan: FusedPlan): number {
  const rows = plan.rows.reduce((s, r) => s + r.length - 1, 0)
  return plan.elements.length * (plan.K + 1 + plan.perElement) + rows
}

/** The gadget's signal array sizes, in declaration (label) order. */
export function fusedArrays(plan: FusedPlan): { name: string; dims: number[] }[] {
  const n = plan.elements.length
  const chain = plan.rows.reduce((s, r) => s + r.length - 2, 0)
  const arrays = [
    { name: 'fm', dims: [plan.rows.length] },
    { name: 'fe', dims: [n, plan.K] },
    { name: 'fq', dims: [chain] },
    { name: 'fzi', dims: [n] },
    { name: 'foi', dims: [n] },
    { name: 'fo', dims: [n] },
    { name: 'fl', dims: [n, plan.low.length] },
    { name: 'fh', dims: [n, plan.high.length] },
    { name: 'fp', dims: [n, plan.products.length] },
    { name: 'fy', dims: [n] },
  ]
  return arrays.filter((a) => a.dims.every((d) => d > 0))
}

/** The circom text of a monomial of element `j` (inside the loop over j: index `j`). */
function monoText(m: Mono, j: string): string {
  if (m.kind === 'bit') return `fe[${j}][${m.pos}]`
  return `${m.kind === 'low' ? 'fl' : 'fh'}[${j}][${m.i}]`
}

function lcText(lc: MonoLc, j: string): string {
  const terms = lc.terms.map(({ mono, c }) => (c === 1n ? monoText(mono, j) : `(${c})*${monoText(mono, j)}`))
  return [...terms, `(${lc.c0})`].join(' + ')
}

/**
 * The gadget's circom lines over the max's operand refs `x` (the step template's local refs),
 * and its output refs (fy[j], the exp of element j). Names are local to the step template.
 */
export function fusedLines(plan: FusedPlan, x: Ref[]): { lines: string[]; out: Ref[] } {
  const { K, S, L, beta } = plan
  const n = plan.elements.length
  const lines: string[] = []
  for (const a of fusedArrays(plan)) lines.push(`    signal ${a.name}${a.dims.map((d) => `[${d}]`).join('')};`)
  lines.push('    var t;', '    var s;', '    var sh;', '    var sl;', '    var so;')
  const a = (col: number) => combination([{ w: 1n, ref: x[col] }], 0n).text
  let q = 0
  for (const [r, row] of plan.rows.entries()) {
    lines.push(`    t = ${a(row[0])};`)
    for (const col of row.slice(1)) lines.push(`    t = ${a(col)} > t ? ${a(col)} : t;`)
    lines.push(`    fm[${r}] <-- t;`)
    // Π (m − a_k) = 0: a running product, its last factor folded into the zero constraint.
    const f = (col: number) => `(fm[${r}] - (${a(col)}))`
    if (row.length === 2) lines.push(`    ${f(row[0])} * ${f(row[1])} === 0;`)
    else {
      lines.push(`    fq[${q}] <== ${f(row[0])} * ${f(row[1])};`)
      for (let k = 2; k < row.length - 1; k++, q++) lines.push(`    fq[${q + 1}] <== fq[${q}] * ${f(row[k])};`)
      lines.push(`    fq[${q}] * ${f(row[row.length - 1])} === 0;`)
      q++
    }
  }
  for (const [j, { row, col }] of plan.elements.entries()) {
    const e = `fm[${row}] - (${a(col)}) + ${beta}`
    lines.push(
      `    s = 0; for (var k = 0; k < ${K}; k++) { fe[${j}][k] <-- ((${e}) >> k) & 1; fe[${j}][k] * (fe[${j}][k] - 1) === 0; s += fe[${j}][k] * 2 ** k; }`,
      `    s === ${e};`,
    )
  }
  const low = plan.low.map((p, i) => `        fl[j][${i}] <== ${monoText(p.left, 'j')} * ${monoText(p.right, 'j')};`)
  const high = plan.high.map((p, i) => `        fh[j][${i}] <== ${monoText(p.left, 'j')} * ${monoText(p.right, 'j')};`)
  const products = plan.products.map(
    (p, i) => `        fp[j][${i}] <== ${monoText(p.mono, 'j')} * (${lcText(p.lc, 'j')});`,
  )
  const fText = [lcText(plan.f, 'j'), ...plan.products.map((_, i) => `fp[j][${i}]`)].join(' + ')
  lines.push(
    `    for (var j = 0; j < ${n}; j++) {`,
    `        sh = 0; for (var k = ${S - 1}; k < ${K}; k++) sh += fe[j][k];`,
    `        sl = 0; for (var k = 0; k < ${S - 1}; k++) sl += 1 - fe[j][k];`,
    '        fzi[j] <-- sh != 0 ? sl / sh : 0;',
    '        sl === sh * fzi[j];',
    `        so = 0; for (var k = ${S + L}; k < ${K}; k++) so += fe[j][k];`,
    '        foi[j] <-- so != 0 ? 1 / so : 0;',
    '        fo[j] <== 1 - so * foi[j];',
    '        so * fo[j] === 0;',
    ...low,
    ...high,
    ...products,
    `        fy[j] <== ${plan.tailValue} + fo[j] * (${fText});`,
    '    }',
  )
  return { lines, out: plan.elements.map((_, j) => ({ sig: `fy[${j}]`, mul: 1n, add: 0n })) }
}

/**
 * The operand refs as a step template sees them (emitStepTemplates: `x[k]`, one per distinct
 * operand signal in order of first use), over either backend's refs (a signal name or id).
 */
export function localRefs(x: readonly { sig: unknown; mul: bigint; add: bigint }[]): Ref[] {
  const slot = new Map<unknown, number>()
  return x.map((r): Ref => {
    if (r.sig === null) return { sig: null, mul: r.mul, add: r.add }
    let k = slot.get(r.sig)
    if (k === undefined) slot.set(r.sig, (k = slot.size))
    return { sig: `x[${k}]`, mul: r.mul, add: r.add }
  })
}

/** Whether the gadget's text fits one step template (it is never chunked: else today's gadgets). */
export function fusedFits(plan: FusedPlan, x: readonly { sig: unknown; mul: bigint; add: bigint }[], limit: number) {
  const { lines } = fusedLines(plan, localRefs(x))
  return lines.reduce((s, l) => s + l.length + 1, 0) <= limit
}

/** An EmitOp for emitStepTemplates that writes the fused gadget over the template's local operand refs. */
export function fusedEmitter(plan: FusedPlan): EmitOp {
  return (_op, x) => {
    const { lines, out } = fusedLines(plan, x)
    const cost = zeroCost()
    const n = plan.elements.length
    // The max's share: bits, recomposition, m ≥ a and the running products; the lookup's: the rest.
    cost.max = n * (plan.K + 1 + 1) + plan.rows.reduce((s, r) => s + r.length - 1, 0)
    cost.lookup = n * (plan.perElement - 1)
    cost.activations = n
    return { lines, cost, out }
  }
}
