/**
 * A rank-1 constraint system over BN254's scalar field, built directly (no circom): wires,
 * their signal names, and constraints A·B = C of sparse linear combinations.
 *
 * Wire order is snarkjs's and circom's: 0 is the constant one, then outputs, public inputs,
 * private inputs, then every internal wire; declaring out of that order throws, so a wire's
 * number is final when it is declared. Terms live in three typed arrays (wire, coefficient
 * slot, end of each linear combination), about 12 bytes a term, so millions of terms cost tens
 * of megabytes rather than millions of objects.
 *
 * A linear constraint is stored as circom stores one: A = B = ∅ and C = the combination (the
 * prover checks A·B − C = 0, so C = 0). Terms are sorted by wire and merged, coefficients
 * reduced into [0, p), zero terms dropped, as in circom's output.
 */
import { CoefficientTable, reduce } from './coefficients.js'
import { SignalOrderError, UnknownWireError } from './errors.js'

export type Wire = number

/** A linear combination: (wire, coefficient) pairs, wire 0 being the constant one. Repeated wires add up. */
export type Lc = Iterable<readonly [Wire, bigint]>

/** In wire order: outputs and public inputs are the public signals, in this order. */
export const SIGNAL_ROLES = ['output', 'publicInput', 'privateInput', 'internal'] as const
export type SignalRole = (typeof SIGNAL_ROLES)[number]

/** Consecutive wires declared together: one scalar signal or one array `name[0..count)`. */
export interface SignalBlock {
  name: string
  role: SignalRole
  firstWire: Wire
  count: number
  array: boolean
  /** Index of the component path (the name up to its last `.`), in order of first use. */
  component: number
}

/** Where constraint k's parts are: linear combination 3k + part spans terms [start, end). */
export interface TermRange {
  start: number
  end: number
}

export class ConstraintSystem {
  readonly coefficients = new CoefficientTable()
  private wires = 1
  private readonly blocks: SignalBlock[] = []
  private readonly components = new Map<string, number>()
  private readonly roleWires: Record<SignalRole, number> = { output: 0, publicInput: 0, privateInput: 0, internal: 0 }
  private mergedInputs = 0
  private termWire = new Uint32Array(1 << 12)
  private termSlot = new Float64Array(1 << 12)
  private terms = 0
  /** lcEnd[k] = one past the last term of linear combination k (three per constraint). */
  private lcEnd = new Float64Array(3 << 10)
  private lcs = 0

  /** Declares one signal; returns its wire. */
  signal(role: SignalRole, name: string): Wire {
    return this.declare(role, name, 1, false)
  }

  /** Declares `name[0..count)`; returns their wires (consecutive). */
  signals(role: SignalRole, name: string, count: number): Wire[] {
    const first = this.declare(role, name, count, true)
    return Array.from({ length: count }, (_, i) => first + i)
  }

  /** Adds A·B = C; returns the constraint's index. */
  constrain(a: Lc, b: Lc, c: Lc): number {
    this.pushLc(a)
    this.pushLc(b)
    this.pushLc(c)
    return this.lcs / 3 - 1
  }

  /** Adds the linear constraint lc = 0 (circom's form: A = B = ∅, C = lc); returns its index. */
  linear(lc: Lc): number {
    this.pushLc([])
    this.pushLc([])
    this.pushLc(lc)
    return this.lcs / 3 - 1
  }

  get wireCount(): number {
    return this.wires
  }
  get constraintCount(): number {
    return this.lcs / 3
  }
  /** Non-zero coefficients in all A, B and C: what snarkjs's setup and prover pay for. */
  get termCount(): number {
    return this.terms
  }
  get outputCount(): number {
    return this.roleWires.output
  }
  get publicInputCount(): number {
    return this.roleWires.publicInput
  }
  /** The header's nPrvIn: private input wires, plus the inputs circom's O1 merged into an output (no wire). */
  get privateInputCount(): number {
    return this.roleWires.privateInput + this.mergedInputs
  }

  /**
   * Counts `n` private inputs that have no wire (merged into a main output by O1, as circom
   * merges `in_packed[e] <== in1[0]`): circom still counts them in nPrvIn, which no prover reads.
   */
  countMergedInputs(n: number): void {
    this.mergedInputs += n
  }

  signalBlocks(): readonly SignalBlock[] {
    return this.blocks
  }

  /** Component paths in index order (`main`, `main.bits[0]`, …). */
  componentNames(): string[] {
    return [...this.components.keys()]
  }

  /** The signal name of a wire (`one` for wire 0, as snarkjs names it). */
  nameOf(wire: Wire): string {
    if (wire === 0) return 'one'
    this.checkWire(wire)
    let lo = 0
    let hi = this.blocks.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.blocks[mid]!.firstWire <= wire) lo = mid
      else hi = mid - 1
    }
    const b = this.blocks[lo]!
    return b.array ? `${b.name}[${wire - b.firstWire}]` : b.name
  }

  /** Terms of linear combination `lc` (= 3·constraint + part, part 0 A, 1 B, 2 C). */
  lcRange(lc: number): TermRange {
    return { start: lc === 0 ? 0 : this.lcEnd[lc - 1]!, end: this.lcEnd[lc]! }
  }

  /** The wire of every term, in storage order (a view: do not modify). */
  termWires(): Uint32Array {
    return this.termWire.subarray(0, this.terms)
  }

  /** The coefficient slot of every term (decode with `coefficients`; a view: do not modify). */
  termSlots(): Float64Array {
    return this.termSlot.subarray(0, this.terms)
  }

  /** The terms of constraint `index`'s A, B and C with their coefficients as field elements. */
  constraint(index: number): [[Wire, bigint][], [Wire, bigint][], [Wire, bigint][]] {
    const part = (p: number): [Wire, bigint][] => {
      const { start, end } = this.lcRange(3 * index + p)
      const out: [Wire, bigint][] = []
      for (let t = start; t < end; t++) out.push([this.termWire[t]!, this.coefficients.decode(this.termSlot[t]!)])
      return out
    }
    return [part(0), part(1), part(2)]
  }

  private declare(role: SignalRole, name: string, count: number, array: boolean): Wire {
    const rank = SIGNAL_ROLES.indexOf(role)
    const later = SIGNAL_ROLES.slice(rank + 1).find((r) => this.roleWires[r] > 0)
    if (later) throw new SignalOrderError({ signal: name, role, after: later })
    const dot = name.lastIndexOf('.')
    const path = dot < 0 ? '' : name.slice(0, dot)
    let component = this.components.get(path)
    if (component === undefined) {
      component = this.components.size
      this.components.set(path, component)
    }
    const firstWire = this.wires
    this.blocks.push({ name, role, firstWire, count, array, component })
    this.wires += count
    this.roleWires[role] += count
    return firstWire
  }

  private checkWire(wire: number): void {
    if (!Number.isInteger(wire) || wire < 0 || wire >= this.wires)
      throw new UnknownWireError({ wire, wireCount: this.wires })
  }

  /** Appends one linear combination: sorted by wire, repeated wires merged, zero terms dropped. */
  private pushLc(lc: Lc): void {
    const wires: number[] = []
    const coefs: bigint[] = []
    let sorted = true
    for (const [w, c] of lc) {
      this.checkWire(w)
      if (wires.length > 0 && w <= wires[wires.length - 1]!) sorted = false
      wires.push(w)
      coefs.push(c)
    }
    let order: number[] | null = null
    if (!sorted) order = Array.from(wires.keys()).sort((i, j) => wires[i]! - wires[j]!)
    this.reserve(wires.length)
    for (let k = 0; k < wires.length; ) {
      const i = order ? order[k]! : k
      const w = wires[i]!
      let c = coefs[i]!
      // Merge the run of equal wires (only when the input repeats a wire).
      for (k++; k < wires.length && wires[order ? order[k]! : k] === w; k++) c += coefs[order ? order[k]! : k]!
      const r = reduce(c)
      if (r === 0n) continue
      this.termWire[this.terms] = w
      this.termSlot[this.terms] = this.coefficients.encode(r)
      this.terms++
    }
    if (this.lcs === this.lcEnd.length) this.lcEnd = grow(this.lcEnd, this.lcEnd.length * 2)
    this.lcEnd[this.lcs++] = this.terms
  }

  private reserve(extra: number): void {
    const need = this.terms + extra
    if (need <= this.termWire.length) return
    const size = Math.max(need, this.termWire.length * 2)
    this.termWire = grow(this.termWire, size)
    this.termSlot = grow(this.termSlot, size)
  }
}

function grow<T extends Uint32Array | Float64Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size)
  b.set(a)
  return b
}
