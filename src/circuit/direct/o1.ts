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
import { ConstraintSystem, type SignalRole, type Wire } from '../r1cs/system.js'
import { EliminatedInputError } from './errors.js'
import type { ConstraintSink, WireValues, WitnessStep } from './gadgets/values.js'
import { KEPT, PreConstraints, QUADRATIC, type Term } from './pre-constraints.js'

export type { Term } from './pre-constraints.js'

const P = SCALAR_FIELD

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

/**
 * What a PreCircuit records: 'structure' (compile: signals and constraints), 'full' (both
 * and values: the tests' reference witness), 'values' (prove: signals and values only, no
 * constraint stored and no O1; the wire of each signal comes from the compile's wire map).
 */
export type PreCircuitMode = 'structure' | 'full' | 'values'

/** The pre-O1 circuit: signals with names, labels and (witness builds) values; constraints. */
export class PreCircuit {
  readonly names: string[] = ['one']
  readonly labels: number[] = [-1]
  readonly roles: SignalRole[] = ['internal']
  /** Values by signal id (witness builds only). */
  readonly values: bigint[] | null
  /** The constraints (null in a values-only pass: nothing is stored). */
  readonly constraints: PreConstraints | null
  private components = 0
  /** Each component's parent (creation index, −1 for main) and name, for circom's sibling order. */
  private readonly tree: { parent: number; name: string }[] = []

  constructor(mode: PreCircuitMode | boolean) {
    const m: PreCircuitMode = mode === true ? 'full' : mode === false ? 'structure' : mode
    this.values = m === 'structure' ? null : [1n]
    this.constraints = m === 'values' ? null : new PreConstraints()
  }

  /** Signals declared so far (the next signal's id). */
  get signalCount(): number {
    return this.names.length
  }

  /** A new component under `parent` (null: main); any creation order (labels follow names, see the header). */
  component(parent: Component | null, name: string): Component {
    this.tree.push({ parent: parent?.index ?? -1, name })
    return { path: parent ? `${parent.path}.${name}` : 'main', index: this.components++, declared: [0, 0, 0] }
  }

  /** The labels with component creation indices replaced by circom's depth-first, name-ordered position. */
  circomLabels(): Float64Array {
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
    if (!this.constraints) return
    const ka = constantOf(a)
    const kb = constantOf(b)
    if (ka !== null || kb !== null) {
      const other = ka !== null ? b : a
      const k = ka ?? kb!
      this.linear([...other.map(([s, v]): Term => [s, v * k]), ...c.map(([s, v]): Term => [s, -v])])
      return
    }
    this.constraints.push(a, b, c, QUADRATIC | KEPT)
  }

  /** lc = 0. */
  linear(lc: Term[]): void {
    this.constraints?.push([], [], lc, 0)
  }

  /** Σ coefs[i]·sigs[i] = 0 over the first n entries: a long sum without a tuple per term (the linear op). */
  linearArrays(sigs: ArrayLike<number>, coefs: ArrayLike<bigint>, n: number): void {
    this.constraints?.pushLinear(sigs, coefs, n, 0)
  }

  /**
   * A gadget's view of this circuit (gadgets/ functions take it as their ConstraintSink): its
   * signals are intermediates of `comp` in declaration order under the full names the gadget
   * gives, its constraints are kept as written (the gadget already declares only what circom's
   * O1 keeps; `p[k] = hb[k]` in a Lookup is not a copy to circom). A wire is a signal id.
   * Values: 0 until `runWitness` runs the gadget's hint step. Constraint indices are -1 in a
   * values-only pass.
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
    return {
      signal: declare,
      signals: (role, name, count) => Array.from({ length: count }, (_, i) => declare(role, `${name}[${i}]`)),
      constrain: (a, b, c) => {
        if (!this.constraints) return -1
        const [ta, tb, tc] = [Array.from(a), Array.from(b), Array.from(c)] as Term[][]
        return this.constraints.push(ta, tb, tc, KEPT | (ta.length > 0 && tb.length > 0 ? QUADRATIC : 0))
      },
      linear: (lc) => this.constraints?.push([], [], Array.from(lc) as Term[], KEPT) ?? -1,
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

  /**
   * What O1 keeps, as a ConstraintSystem; `wires[w]` is the signal id that wire w is (0: the
   * constant one), what a values-only pass needs to lay out its witness; and (full builds) the
   * witness in wire order.
   */
  toSystem(): { system: ConstraintSystem; witness: bigint[] | null; wires: Int32Array } {
    if (!this.constraints) throw new Error('toSystem on a values-only PreCircuit')
    const { system, wires } = replayO1(this, this.constraints)
    return { system, witness: this.values ? witnessOf(this.values, wires) : null, wires }
  }

  /** The witness in wire order from the compile's wire map (values-only and full passes). */
  witnessFor(wires: Int32Array): bigint[] {
    return witnessOf(this.values!, wires)
  }
}

/** values[wires[w]] for every wire, reduced into [0, p) (wire 0: the constant one). */
function witnessOf(values: bigint[], wires: Int32Array): bigint[] {
  return Array.from(wires, (s) => mod(values[s]!))
}

/**
 * circom's O1 over the stored constraints: copy classes (union-find, lowest label kept) and
 * constants until none is left, then the kept signals numbered in circom's order.
 */
function replayO1(pc: PreCircuit, cs: PreConstraints): { system: ConstraintSystem; wires: Int32Array } {
  const n = pc.names.length
  const labels = pc.circomLabels()
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
  const isConstant = new Uint8Array(n)
  // subst's scratch: the entry of each representative in the current combination.
  const stamp = new Int32Array(n).fill(-1)
  const pos = new Int32Array(n)
  let epoch = 0
  const outSig: number[] = []
  const outCoef: bigint[] = []
  /** Constraint k's part as a combination of representatives (0: the constant), zero terms dropped. */
  const subst = (k: number, part: number): void => {
    epoch++
    outSig.length = 0
    outCoef.length = 0
    let merged = false
    for (let t = cs.start(k, part), end = cs.end(k, part); t < end; t++) {
      const s = cs.signalAt(t)
      const r = s === 0 ? 0 : find(s)
      let w = r
      let v = cs.coefficientAt(t)
      if (r !== 0 && isConstant[r]) {
        w = 0
        v *= constant.get(r)!
        merged = true
      }
      if (stamp[w] === epoch) {
        outCoef[pos[w]!]! += v
        merged = true
      } else {
        stamp[w] = epoch
        pos[w] = outSig.length
        outSig.push(w)
        outCoef.push(v)
      }
    }
    if (!merged) return // every coefficient is a stored one: reduced and non-zero
    let j = 0
    for (let i = 0; i < outSig.length; i++) {
      const v = mod(outCoef[i]!)
      if (v === 0n) continue
      outSig[j] = outSig[i]!
      outCoef[j++] = v
    }
    outSig.length = j
    outCoef.length = j
  }
  /**
   * More than two distinct non-constant signals, none repeated: no substitution can make this
   * a copy or a constant yet (each term keeps its non-zero coefficient), so the long weight
   * sums skip the bigint work.
   */
  const surelyWide = (k: number): boolean => {
    epoch++
    let distinct = 0
    for (let t = cs.start(k, 2), end = cs.end(k, 2); t < end; t++) {
      const s = cs.signalAt(t)
      if (s === 0) continue
      const r = find(s)
      if (isConstant[r]) continue
      if (stamp[r] === epoch) return false
      stamp[r] = epoch
      distinct++
    }
    return distinct > 2
  }
  // Equalities and constants until none is left: a constant can turn a constraint into a copy.
  for (let changed = true; changed; ) {
    changed = false
    for (let k = 0; k < cs.constraintCount; k++) {
      if (cs.flags(k) & KEPT || surelyWide(k)) continue
      subst(k, 2)
      const at0 = outSig.indexOf(0)
      const signals = outSig.length - (at0 < 0 ? 0 : 1)
      const sigAt = (i: number) => (at0 >= 0 && i >= at0 ? i + 1 : i)
      if (signals === 2 && at0 < 0 && mod(outCoef[0]! + outCoef[1]!) === 0n) {
        const [x, y] = [outSig[0]!, outSig[1]!]
        const [keep, drop] = labels[x]! < labels[y]! ? [x, y] : [y, x]
        parent[drop] = keep
        changed = true
      } else if (signals === 1 && pc.roles[outSig[sigAt(0)]!] === 'internal') {
        // main's inputs and outputs are never folded: `out_packed[e] <== 15` stays a constraint.
        const s = outSig[sigAt(0)]!
        const k0 = at0 < 0 ? 0n : outCoef[at0]!
        constant.set(s, mod(-k0 * inverse(outCoef[sigAt(0)]!)))
        isConstant[s] = 1
        changed = true
      }
    }
  }
  const kept: number[] = []
  for (let s = 1; s < n; s++) if (find(s) === s && !isConstant[s]) kept.push(s)
  // A main input that is a copy of a main output (`in_packed[e] <== in1[0]`, one lane with
  // lower bound 0: outputs have the lower labels) loses its wire as in circom, which still
  // counts it in the header's private inputs; anything else leaving main's interface is a bug.
  let mergedInputs = 0
  for (let s = 1; s < n; s++) {
    if (pc.roles[s] === 'internal' || (find(s) === s && !isConstant[s])) continue
    if (pc.roles[s] === 'privateInput' && !isConstant[find(s)] && pc.roles[find(s)] === 'output') {
      mergedInputs++
      continue
    }
    throw new EliminatedInputError({
      signal: pc.names[s]!,
      into: isConstant[find(s)] ? 'a constant' : pc.names[find(s)]!,
    })
  }
  kept.sort((x, y) => labels[x]! - labels[y]!)
  const roleOrder: SignalRole[] = ['output', 'publicInput', 'privateInput', 'internal']
  const byRole = roleOrder.flatMap((r) => kept.filter((s) => pc.roles[s] === r))
  const system = new ConstraintSystem()
  system.countMergedInputs(mergedInputs)
  const wireOf = new Int32Array(n).fill(-1)
  wireOf[0] = 0
  const wires = new Int32Array(byRole.length + 1)
  for (const [i, s] of byRole.entries()) {
    wireOf[s] = system.signal(pc.roles[s]!, pc.names[s]!)
    wires[i + 1] = s
  }
  const wired = (): [Wire, bigint][] => outSig.map((s, i) => [wireOf[s]!, outCoef[i]!])
  // circom writes the non-linear constraints first, then the linear ones.
  for (const quadratic of [true, false])
    for (let k = 0; k < cs.constraintCount; k++) {
      if (Boolean(cs.flags(k) & QUADRATIC) !== quadratic) continue
      if (quadratic) {
        subst(k, 0)
        const a = wired()
        subst(k, 1)
        const b = wired()
        subst(k, 2)
        system.constrain(a, b, wired())
      } else {
        subst(k, 2)
        if (outSig.length > 0) system.linear(wired())
      }
    }
  return { system, wires }
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
