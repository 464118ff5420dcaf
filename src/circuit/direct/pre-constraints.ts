/**
 * The pre-O1 circuit's constraints in typed arrays: a term is a signal id (Int32Array) and a
 * coefficient slot (Float64Array, r1cs/coefficients.ts's encoding of the coefficient reduced
 * mod p), 12 bytes a term instead of a [number, bigint] tuple (~100 bytes), so a model with
 * millions of weight terms fits in tens of megabytes before O1.
 *
 * Coefficients are stored reduced and zero terms dropped: O1 works mod p and drops zero terms
 * itself, so nothing it decides changes. What the raw term lists said beyond that (was A·B
 * written with both sides non-empty, may O1 touch it) is kept as a flag per constraint.
 */
import { CoefficientTable, reduce } from '../r1cs/coefficients.js'

/** A term (signal id, coefficient); signal 0 is the constant one. */
export type Term = readonly [number, bigint]

/** Constraint flags: circom writes it as A·B = C (A and B both non-empty as written). */
export const QUADRATIC = 1
/** Constraint flags: O1 must keep it as written (a sink's constraint, or one with A or B). */
export const KEPT = 2

export class PreConstraints {
  readonly coefficients = new CoefficientTable()
  private sig = new Int32Array(1 << 12)
  private slot = new Float64Array(1 << 12)
  private terms = 0
  /** lcEnd[3k + part] = one past the last term of constraint k's A (0), B (1) or C (2). */
  private lcEnd = new Float64Array(3 << 10)
  private flag = new Uint8Array(1 << 10)
  private count = 0

  get constraintCount(): number {
    return this.count
  }

  /** Appends A·B = C with its flags; returns the constraint's index. */
  push(a: Iterable<Term>, b: Iterable<Term>, c: Iterable<Term>, flags: number): number {
    if (this.count === this.flag.length) {
      this.flag = grow(this.flag, this.flag.length * 2)
      this.lcEnd = grow(this.lcEnd, this.lcEnd.length * 2)
    }
    this.pushLc(a, 0)
    this.pushLc(b, 1)
    this.pushLc(c, 2)
    this.flag[this.count] = flags
    return this.count++
  }

  /** Appends the linear constraint Σ k·s = 0 given as parallel signal and coefficient arrays (no tuples). */
  pushLinear(sigs: ArrayLike<number>, coefs: ArrayLike<bigint>, n: number, flags: number): number {
    if (this.count === this.flag.length) {
      this.flag = grow(this.flag, this.flag.length * 2)
      this.lcEnd = grow(this.lcEnd, this.lcEnd.length * 2)
    }
    this.lcEnd[3 * this.count] = this.terms
    this.lcEnd[3 * this.count + 1] = this.terms
    this.reserve(n)
    for (let i = 0; i < n; i++) this.add(sigs[i]!, coefs[i]!)
    this.lcEnd[3 * this.count + 2] = this.terms
    this.flag[this.count] = flags
    return this.count++
  }

  flags(k: number): number {
    return this.flag[k]!
  }

  /** Terms [start, end) of constraint k's part (0 A, 1 B, 2 C). */
  start(k: number, part: number): number {
    const i = 3 * k + part
    return i === 0 ? 0 : this.lcEnd[i - 1]!
  }
  end(k: number, part: number): number {
    return this.lcEnd[3 * k + part]!
  }
  signalAt(t: number): number {
    return this.sig[t]!
  }
  slotAt(t: number): number {
    return this.slot[t]!
  }
  coefficientAt(t: number): bigint {
    return this.coefficients.decode(this.slot[t]!)
  }

  private pushLc(lc: Iterable<Term>, part: number): void {
    for (const [s, k] of lc) {
      this.reserve(1)
      this.add(s, k)
    }
    this.lcEnd[3 * this.count + part] = this.terms
  }

  private add(s: number, k: bigint): void {
    const r = reduce(k)
    if (r === 0n) return
    this.sig[this.terms] = s
    this.slot[this.terms] = this.coefficients.encode(r)
    this.terms++
  }

  private reserve(extra: number): void {
    const need = this.terms + extra
    if (need <= this.sig.length) return
    const size = Math.max(need, this.sig.length * 2)
    this.sig = grow(this.sig, size)
    this.slot = grow(this.slot, size)
  }
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size)
  b.set(a)
  return b
}
