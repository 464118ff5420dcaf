/**
 * circom's O1 simplification, replayed on a circuit the direct backend describes in circom's
 * own terms (pre-O1): every signal circom would declare, with its circom name and its label
 * (circom's numbering before simplification), and every constraint as circom's templates
 * write it. `toSystem` then removes what O1 removes and numbers what is left as circom does:
 * - a linear constraint s − t = 0 between two signals (coefficients c and −c, no constant)
 *   makes them one signal, named by its LOWEST label (a copy: `o[m] <== rq.y`, `bits.in <== u`);
 * - a linear constraint k·s + c = 0 fixes s to a constant, folded into the one-wire term;
 * - the constraints that defined them become 0 = 0 and are dropped; wires are the kept
 *   labels in label order (test/helpers/r1cs-parity.ts's header has the measurements).
 * Doing it generically, rather than never declaring a copy, keeps every gadget a literal
 * transcription of its circom template: which signal of a copy class survives depends on
 * labels across template boundaries (a step's o[m] swallows its Requant's y, which may
 * itself be a bit of the decomposition), and this pass gets that right for every shape.
 *
 * Labels: circom numbers main's outputs, inputs, intermediates, then each subcomponent depth
 * first the same way, siblings in STRING order of their names (s10 before s9, mx5_0_10 before
 * mx5_0_9; an array's elements by index: r[2] before r[10]; measured on circom 2.2.3). A
 * label here is the key (component creation index, rank 0 output / 1 input / 2 intermediate,
 * declaration index), packed in one double; `toSystem` maps creation index to that order.
 */
import { SCALAR_FIELD } from '../../util/field.js'
import { ConstraintSystem, type Lc, type SignalRole, type Wire } from '../r1cs/system.js'
import { EliminatedInputError } from './errors.js'
import type { ConstraintSink, WireValues, WitnessStep } from './gadgets/values.js'

const P = SCALAR_FIELD

/** A term (signal id, coefficient); signal 0 is the constant one. */
export type Term = readonly [number, bigint]

/** One template instance: its circom path and its preorder index (creation order, depth first). */
export interface Component {
  path: string
  index: number
  declared: [number, number, number]
}

export const OUTPUT = 0
export const INPUT = 1
export const INTERMEDIATE = 2
export type Rank = typeof OUTPUT | typeof INPUT | typeof INTERMEDIATE

const RANK_SPAN = 2 ** 26

const mod = (v: bigint): bigint => ((v % P) + P) % P

/** The pre-O1 circuit: signals with names, labels and (witness builds) values; constraints. */
export class PreCircuit {
  readonly names: string[] = ['one']
  readonly labels: number[] = [-1]
  readonly roles: SignalRole[] = ['internal']
  /** Values by signal id (witness builds only). */
  readonly values: bigint[] | null
  private readonly a: Term[][] = []
  private readonly b: Term[][] = []
  private readonly c: Term[][] = []
  /** Constraints O1 must keep as they are (a sink's: gadgets/ writes only what circom keeps). */
  private readonly kept = new Set<number>()
  private components = 0
  /** Each component's parent (creation index, −1 for main) and name, for circom's sibling order. */
  private readonly tree: { parent: number; name: string }[] = []

  constructor(withValues: boolean) {
    this.values = withValues ? [1n] : null
  }

  /** A new component under `parent` (null: main); any creation order (labels follow names, see the header). */
  component(parent: Component | null, name: string): Component {
    this.tree.push({ parent: parent?.index ?? -1, name })
    return { path: parent ? `${parent.path}.${name}` : 'main', index: this.components++, declared: [0, 0, 0] }
  }

  /** The labels with component creation indices replaced by circom's depth-first, name-ordered position. */
  private circomLabels(): Float64Array {
    const children = this.tree.map((): number[] => [])
    const roots: number[] = []
    for (const [i, c] of this.tree.entries()) (c.parent < 0 ? roots : children[c.parent]!).push(i)
    const position = new Float64Array(this.tree.length)
    let next = 0
    const keys = this.tree.map((c) => siblingKey(c.name))
    const visit = (i: number) => {
      position[i] = next++
      for (const child of children[i]!.sort((x, y) => siblingOrder(keys[x]!, keys[y]!))) visit(child)
    }
    for (const r of roots) visit(r)
    const span = 3 * RANK_SPAN
    return Float64Array.from(this.labels, (l) => (l < 0 ? l : position[Math.floor(l / span)]! * span + (l % span)))
  }

  /**
   * Declares a signal of `comp`; `value` is called only by witness builds. `index`: its place
   * among the component's signals of that rank (an array element: circom labels the whole
   * array at its declaration); default, after those declared so far.
   */
  signal(
    comp: Component,
    rank: Rank,
    name: string,
    value: () => bigint,
    role: SignalRole = 'internal',
    index?: number,
  ): number {
    const id = this.names.length
    this.names.push(`${comp.path}.${name}`)
    const at = index ?? comp.declared[rank]++
    this.labels.push(comp.index * 3 * RANK_SPAN + rank * RANK_SPAN + at)
    this.roles.push(role)
    if (this.values) this.values.push(value())
    return id
  }

  value(id: number): bigint {
    return this.values![id]!
  }

  /** A·B = C; a constant factor makes it linear, as circom folds it when it generates the constraint. */
  quadratic(a: Term[], b: Term[], c: Term[]): void {
    const ka = constantOf(a)
    const kb = constantOf(b)
    if (ka !== null || kb !== null) {
      const other = ka !== null ? b : a
      const k = ka ?? kb!
      this.linear([...other.map(([s, v]): Term => [s, v * k]), ...c.map(([s, v]): Term => [s, -v])])
      return
    }
    this.a.push(a)
    this.b.push(b)
    this.c.push(c)
  }

  /** lc = 0. */
  linear(lc: Term[]): void {
    this.a.push([])
    this.b.push([])
    this.c.push(lc)
  }

  /**
   * A gadget's view of this circuit (gadgets/ functions take it as their ConstraintSink): its
   * signals are intermediates of `comp` in declaration order under the full names the gadget
   * gives, its constraints are kept as written (the gadget already declares only what circom's
   * O1 keeps; `p[k] = hb[k]` in a Lookup is not a copy to circom). A wire is a signal id.
   * Values: 0 until `runWitness` runs the gadget's hint step.
   */
  sink(comp: Component): ConstraintSink {
    const declare = (role: SignalRole, name: string): number => {
      const id = this.names.length
      this.names.push(name)
      this.labels.push(comp.index * 3 * RANK_SPAN + INTERMEDIATE * RANK_SPAN + comp.declared[INTERMEDIATE]++)
      this.roles.push(role)
      if (this.values) this.values.push(0n)
      return id
    }
    const terms = (lc: Lc): Term[] => Array.from(lc, ([w, k]): Term => [w, k])
    const keep = () => this.kept.add(this.c.length - 1)
    return {
      signal: declare,
      signals: (role, name, count) => Array.from({ length: count }, (_, i) => declare(role, `${name}[${i}]`)),
      constrain: (a, b, c) => {
        this.a.push(terms(a))
        this.b.push(terms(b))
        this.c.push(terms(c))
        keep()
        return this.c.length - 1
      },
      linear: (lc) => {
        this.linear(terms(lc))
        keep()
        return this.c.length - 1
      },
    }
  }

  /** Runs a sink gadget's hint step over this circuit's values (witness builds; structure builds skip it). */
  runWitness(step: WitnessStep): void {
    const values = this.values
    if (!values) return
    const view: WireValues = {
      get: (w) => values[w],
      set: (w, v) => {
        values[w] = v
      },
    }
    step(view)
  }

  /** What O1 keeps, as a ConstraintSystem, and (witness builds) the full witness in its wire order. */
  toSystem(): { system: ConstraintSystem; witness: bigint[] | null } {
    const n = this.names.length
    const labels = this.circomLabels()
    const parent = Int32Array.from({ length: n }, (_, i) => i)
    const find = (s: number): number => {
      while (parent[s] !== s) {
        parent[s] = parent[parent[s]!]!
        s = parent[s]!
      }
      return s
    }
    /** Constant value of an eliminated signal (by representative). */
    const constant = new Map<number, bigint>()
    const subst = (lc: Term[]): Map<number, bigint> => {
      const out = new Map<number, bigint>()
      for (const [s, k] of lc) {
        const r = s === 0 ? 0 : find(s)
        const fixed = constant.get(r)
        const [w, v] = fixed === undefined ? [r, k] : [0, k * fixed]
        out.set(w, mod((out.get(w) ?? 0n) + v))
      }
      for (const [w, v] of out) if (v === 0n) out.delete(w)
      return out
    }
    // Equalities and constants until none is left: a constant can turn a constraint into a copy.
    for (let changed = true; changed; ) {
      changed = false
      for (let k = 0; k < this.c.length; k++) {
        if (this.a[k]!.length > 0 || this.b[k]!.length > 0 || this.kept.has(k)) continue
        const lc = subst(this.c[k]!)
        const signals = [...lc.keys()].filter((w) => w !== 0)
        if (signals.length === 2 && !lc.has(0) && mod(lc.get(signals[0]!)! + lc.get(signals[1]!)!) === 0n) {
          const [x, y] = signals as [number, number]
          const [keep, drop] = labels[x]! < labels[y]! ? [x, y] : [y, x]
          parent[drop] = keep
          changed = true
        } else if (signals.length === 1 && this.roles[signals[0]!] === 'internal') {
          // main's inputs and outputs are never folded: `out_packed[e] <== 15` stays a constraint.
          const s = signals[0]!
          constant.set(s, mod(-(lc.get(0) ?? 0n) * inverse(lc.get(s)!)))
          changed = true
        }
      }
    }
    const kept: number[] = []
    for (let s = 1; s < n; s++) if (find(s) === s && !constant.has(s)) kept.push(s)
    for (let s = 1; s < n; s++)
      if (this.roles[s] !== 'internal' && (find(s) !== s || constant.has(s)))
        throw new EliminatedInputError({
          signal: this.names[s]!,
          into: constant.has(find(s)) ? 'a constant' : this.names[find(s)]!,
        })
    kept.sort((x, y) => labels[x]! - labels[y]!)
    const roleOrder: SignalRole[] = ['output', 'publicInput', 'privateInput', 'internal']
    const byRole = roleOrder.flatMap((r) => kept.filter((s) => this.roles[s] === r))
    const system = new ConstraintSystem()
    const wireOf = new Int32Array(n).fill(-1)
    wireOf[0] = 0
    for (const s of byRole) wireOf[s] = system.signal(this.roles[s]!, this.names[s]!)
    const wired = (lc: Map<number, bigint>): [Wire, bigint][] => [...lc].map(([s, v]) => [wireOf[s]!, v])
    // circom writes the non-linear constraints first, then the linear ones.
    for (const quadratic of [true, false])
      for (let k = 0; k < this.c.length; k++) {
        const isQuadratic = this.a[k]!.length > 0 && this.b[k]!.length > 0
        if (isQuadratic !== quadratic) continue
        const [a, b, c] = [subst(this.a[k]!), subst(this.b[k]!), subst(this.c[k]!)]
        if (!quadratic && c.size === 0) continue
        if (quadratic) system.constrain(wired(a), wired(b), wired(c))
        else system.linear(wired(c))
      }
    const witness = this.values ? byRole.map((s) => mod(this.values![s]!)) : null
    witness?.unshift(1n)
    return { system, witness }
  }
}

/** A component name as circom orders siblings: the name before any index, then the indices. */
type SiblingKey = { base: string; indices: number[] }

function siblingKey(name: string): SiblingKey {
  return { base: name.split('[', 1)[0]!, indices: Array.from(name.matchAll(/\[(\d+)\]/g), (m) => Number(m[1])) }
}

/**
 * circom's order of two sibling components: by name as a string (code units), elements of one
 * array (`rc0[2]`, `rc0[10]`) by their index.
 */
function siblingOrder(a: SiblingKey, b: SiblingKey): number {
  if (a.base !== b.base) return a.base < b.base ? -1 : 1
  for (let k = 0; k < Math.min(a.indices.length, b.indices.length); k++)
    if (a.indices[k] !== b.indices[k]) return a.indices[k]! - b.indices[k]!
  return a.indices.length - b.indices.length
}

/** The value of an LC made only of the constant one (or empty), else null. */
function constantOf(lc: Term[]): bigint | null {
  let k = 0n
  for (const [s, v] of lc) {
    if (s !== 0) return null
    k += v
  }
  return k
}

/** a⁻¹ mod p (a ≠ 0). */
export function inverse(a: bigint): bigint {
  let r = 1n
  let x = mod(a)
  for (let e = P - 2n; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * x) % P
    x = (x * x) % P
  }
  return r
}
