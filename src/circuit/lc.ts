/**
 * Linear-combination primitives every gadget shares: an element as an affine expression of
 * one signal (`Ref`), sums as circom text, and the per-kind constraint tally (`Cost`).
 * Kept apart from emit.ts so the gadgets (lookup, max, weights) import them without an
 * import cycle through the emitter.
 */

/** An element as an affine expression of one signal: mul·sig + add (sig null: a constant). */
export interface Ref {
  sig: string | null
  mul: bigint
  add: bigint
}

/** A constant element (no signal, no constraint). */
export const constRef = (v: bigint): Ref => ({ sig: null, mul: 0n, add: v })

/** c · r, still one signal's affine expression. */
export const scaleRef = (r: Ref, c: bigint): Ref =>
  r.sig === null || c === 0n ? constRef(r.add * c) : { sig: r.sig, mul: r.mul * c, add: r.add * c }

/** Appends `items` to `target` in place; `push(...items)` overflows the call stack past ~100k items. */
export function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item)
}

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
export function combination(parts: { w: bigint; ref: Ref }[], c: bigint): { text: string; constant: boolean } {
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

/**
 * Constraints by kind, from the emitter's own plan (the compiler's count is authoritative);
 * `max` and `lookup` are the constraints of the pairwise-max and lookup gadgets, and
 * `activations` counts the non-linear gadgets (requant, lookup and pairwise max); `mul` the
 * products of two input-dependent elements (one constraint each, not an activation); `div`
 * and `isqrt` the constraints of their gadgets (div.ts, isqrt.ts).
 */
export type Cost = {
  inputRangeChecks: number
  requant: number
  linear: number
  hashing: number
  activations: number
  weights: number
  max: number
  lookup: number
  mul: number
  /** Div and Isqrt gadgets (not activations: like mul, they are arithmetic the model asks for). */
  div: number
  isqrt: number
}

export const zeroCost = (): Cost => ({
  inputRangeChecks: 0,
  requant: 0,
  linear: 0,
  hashing: 0,
  activations: 0,
  weights: 0,
  max: 0,
  lookup: 0,
  mul: 0,
  div: 0,
  isqrt: 0,
})

export function addCost(to: Cost, from: Cost): void {
  for (const k of Object.keys(to) as (keyof Cost)[]) to[k] += from[k]
}
