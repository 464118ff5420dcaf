/**
 * circuits/veriml.circom's Requant and circomlib's Num2Bits and IsZero, transcribed into the
 * pre-O1 circuit (o1.ts): the same signals, names, declaration order and constraints, so O1
 * leaves what circom leaves. The sizes come from planRequant, the one plan both backends use.
 */
import type { RequantPlan } from '../requant.js'
import { type Component, INPUT, INTERMEDIATE, inverse, OUTPUT, type PreCircuit, type Term } from './o1.js'

/** A linear combination with the witness value it has. */
export interface Affine {
  terms: Term[]
  value: () => bigint
}

/** The value of `terms` (witness builds). */
export const lcValue = (pc: PreCircuit, terms: readonly Term[]): bigint =>
  terms.reduce((acc, [s, k]) => acc + k * (s === 0 ? 1n : pc.value(s)), 0n)

const pow2 = (n: number) => 1n << BigInt(n)
const bit = (v: bigint, i: number) => (v >> BigInt(i)) & 1n

/** Σ_i bits[from + i]·2^i for i < count. */
const weighted = (bits: number[], from: number, count: number, shift = 0): Term[] =>
  Array.from({ length: count }, (_, i): Term => [bits[from + i]!, pow2(i + shift)])

/**
 * circomlib Num2Bits(n) as component `name` of `parent`, its input driven by `input`
 * (`comp.in <== input`): out[0..n) outputs, in the input; n booleans and the recomposition.
 */
export function num2Bits(pc: PreCircuit, parent: Component, name: string, n: number, input: Affine): number[] {
  const comp = pc.component(parent, name)
  const out = Array.from({ length: n }, (_, i) => pc.signal(comp, OUTPUT, `out[${i}]`, () => bit(input.value(), i)))
  const inn = pc.signal(comp, INPUT, 'in', input.value)
  pc.linear([[inn, 1n], ...input.terms.map(([s, k]): Term => [s, -k])])
  for (const o of out)
    pc.quadratic(
      [[o, 1n]],
      [
        [o, 1n],
        [0, -1n],
      ],
      [],
    )
  pc.linear([...weighted(out, 0, n), [inn, -1n]])
  return out
}

/** circomlib IsZero as component `name` of `parent` (`comp.in <== input`); returns its out. */
function isZero(pc: PreCircuit, parent: Component, name: string, input: Affine): number {
  const comp = pc.component(parent, name)
  const out = pc.signal(comp, OUTPUT, 'out', () => (input.value() === 0n ? 1n : 0n))
  const inn = pc.signal(comp, INPUT, 'in', input.value)
  const inv = pc.signal(comp, INTERMEDIATE, 'inv', () => (input.value() === 0n ? 0n : inverse(input.value())))
  pc.linear([[inn, 1n], ...input.terms.map(([s, k]): Term => [s, -k])])
  // out <== -in·inv + 1, then in·out === 0.
  pc.quadratic(
    [[inn, 1n]],
    [[inv, 1n]],
    [
      [0, 1n],
      [out, -1n],
    ],
  )
  pc.quadratic([[inn, 1n]], [[out, 1n]], [])
  return out
}

/**
 * One Requant(S, KD, SIGNED, HIMODE, J, W, EVEN, PAR) instance `name` under `parent` with
 * `comp.u <== u`; returns its output y (the caller adds BASE). Declaration order is the
 * template's: y, u, then e, winv (EVEN), m (HIMODE ≠ 0); components bits, then isz or cmp.
 */
export function requantGadget(
  pc: PreCircuit,
  parent: Component,
  name: string,
  plan: Extract<RequantPlan, { kind: 'gadget' }>,
  u: Affine,
): number {
  const { S, KD, SIGNED, HIMODE, J, W, EVEN, PAR } = plan
  const comp = pc.component(parent, name)
  const N = S + KD + SIGNED
  // The witness of every hint, from u alone, computed once.
  let hints: { y: bigint; e: bigint; winv: bigint; m: bigint } | null = null
  const h = () => (hints ??= requantHints(plan, u.value()))
  const y = pc.signal(comp, OUTPUT, 'y', () => h().y)
  const uSig = pc.signal(comp, INPUT, 'u', u.value)
  pc.linear([[uSig, 1n], ...u.terms.map(([s, k]): Term => [s, -k])])
  const e = EVEN ? pc.signal(comp, INTERMEDIATE, 'e', () => h().e) : 0
  const winv = EVEN ? pc.signal(comp, INTERMEDIATE, 'winv', () => h().winv) : 0
  const m = HIMODE !== 0 ? pc.signal(comp, INTERMEDIATE, 'm', () => h().m) : 0
  const bitsIn: Term[] = EVEN
    ? [
        [uSig, 1n],
        [e, -1n],
      ]
    : [[uSig, 1n]]
  const bits = num2Bits(pc, comp, 'bits', N, { terms: bitsIn, value: () => u.value() - h().e })
  if (EVEN) {
    pc.quadratic(
      [[e, 1n]],
      [
        [e, 1n],
        [0, -1n],
      ],
      [],
    )
    const rem = weighted(bits, 0, S)
    // par = PAR + (1 − 2·PAR)·bits[S]
    const par: Term[] = [
      [0, BigInt(PAR)],
      [bits[S]!, BigInt(1 - 2 * PAR)],
    ]
    const neg = (t: Term[], k: bigint): Term[] => t.map(([s, v]): Term => [s, v * k])
    pc.quadratic([[e, 1n]], [[0, pow2(S) - 1n], ...neg(rem, -1n), ...par], [])
    // rem + (1 − par)·2^S + e·2^(S+1)
    pc.quadratic([[winv, 1n]], [...rem, [0, pow2(S)], ...neg(par, -pow2(S)), [e, pow2(S + 1)]], [[0, 1n]])
  }
  const low = weighted(bits, S, KD)
  let capped: Term[]
  if (HIMODE === 0) capped = low
  else if (HIMODE === 1) {
    const high: Term[] = Array.from({ length: KD - J }, (_, i): Term => [bits[S + J + i]!, pow2(J + i)])
    const isz = isZero(pc, comp, 'isz', { terms: high, value: () => lcValue(pc, high) })
    pc.quadratic([[isz, 1n]], [...weighted(bits, S, J), [0, -W]], [[m, 1n]])
    capped = [
      [0, W],
      [m, 1n],
    ]
  } else {
    const cmpIn: Term[] = [...low, [0, pow2(KD) - W - 1n]]
    const cmp = num2Bits(pc, comp, 'cmp', KD + 1, { terms: cmpIn, value: () => lcValue(pc, cmpIn) })
    pc.quadratic([[cmp[KD]!, 1n]], [[0, W], ...low.map(([s, v]): Term => [s, -v])], [[m, 1n]])
    capped = [...low, [m, 1n]]
  }
  if (SIGNED) pc.quadratic([[bits[S + KD]!, 1n]], capped, [[y, 1n]])
  else pc.linear([...capped, [y, -1n]])
  return y
}

/** Requant's hint values from u: its output (before BASE), e, winv and m. */
function requantHints(
  { S, KD, SIGNED, HIMODE, J, W, EVEN, PAR }: Extract<RequantPlan, { kind: 'gadget' }>,
  u: bigint,
): { y: bigint; e: bigint; winv: bigint; m: bigint } {
  const e = EVEN && u % pow2(S) === 0n && (u / pow2(S)) % 2n !== BigInt(PAR) ? 1n : 0n
  const v = u - e
  const rem = v % pow2(S)
  const par = BigInt(PAR) + BigInt(1 - 2 * PAR) * bit(v, S)
  const winv = EVEN ? inverse(rem + (1n - par) * pow2(S) + e * pow2(S + 1)) : 0n
  const low = (v >> BigInt(S)) % pow2(KD)
  let m = 0n
  let capped = low
  if (HIMODE === 1) {
    const high = low >> BigInt(J)
    m = high === 0n ? (low % pow2(J)) - W : 0n
    capped = W + m
  } else if (HIMODE === 2) {
    const over = bit(low - W - 1n + pow2(KD), KD)
    m = over * (W - low)
    capped = low + m
  }
  return { y: SIGNED ? bit(v, S + KD) * capped : capped, e, winv, m }
}
