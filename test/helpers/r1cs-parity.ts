/**
 * Parity between two R1CS of one circuit (circom's and the direct builder's): both are turned
 * into constraints over signal NAMES, each normalised up to the scalings that leave it the same
 * constraint, and compared as multisets. Wire numbers and constraint order may differ; names,
 * counts and constraints may not.
 *
 * Normal form of A·B = C (coefficients in [0, p)):
 * - linear (A or B empty or only the constant `one`): L = k·B − C (or A·k − C), scaled so its
 *   first term (by name) has coefficient 1: circom writes `lhs <== rhs` as C = rhs − lhs, the
 *   builder as it is told; both scale to one form;
 * - quadratic: A and B each scaled to a leading 1 (C scaled by the inverse of both factors),
 *   then A and B ordered: circom writes `t <== a*b` as (−a)·b = −t.
 *
 * circom 2.2.3 (circom2 0.2.23) at O1, as measured on small circuits (test/circuit/r1cs/parity.test.ts):
 * - Labels (.sym's first column) number every signal before simplification: main's outputs,
 *   then inputs (public ones first, whatever the declaration order), then intermediates; then
 *   each subcomponent depth-first in creation order, each as outputs, inputs, intermediates.
 * - O1 removes a signal equal to a constant (`k <== 5`, folded into the one-wire term) or to
 *   another signal (`v <== u`, `s.x <== v`): each copy class keeps its LOWEST label, which can
 *   be an output swallowing an input (`m <== a; y <== m` keeps y, not a; the header still
 *   counts a in nPrvIn). Removed signals are in .sym with wire −1.
 * - Wires are the kept labels in label order, renumbered 0.. (r1cs section 3 maps wire → label).
 * - Constraints come non-linear first (components depth-first, main first), then the linear
 *   ones; terms sorted by wire; `lhs <== rhs` is stored as A·B − C = lhs − rhs, so a linear
 *   one has A = B = ∅ and C = rhs − lhs.
 * - .sym's third column is the template instance's node id (equal for equal instances,
 *   children before parents, main last); snarkjs does not use it.
 * - Sections are written 2, 1, 3; nLabels counts label 0 (the one) too.
 */
import { readFile } from 'node:fs/promises'
import { r1csBytes } from '../../src/circuit/r1cs/write-r1cs.js'
import type { ConstraintSystem } from '../../src/circuit/r1cs/system.js'
import { parseR1cs, type R1cs, type R1csTerm } from '../../src/prove/r1cs.js'
import { SCALAR_FIELD } from '../../src/util/field.js'
import { readSym } from './r1cs.js'

const P = SCALAR_FIELD

/** An R1CS with a name for each wire (wire 0 is `one`). */
export interface NamedR1cs {
  r1cs: R1cs
  nameOf: (wire: number) => string
}

export interface ParityReport {
  wireCounts: [number, number]
  constraintCounts: [number, number]
  /** Normalised constraints in the first system and not the second (multiset difference), and back. */
  onlyFirst: string[]
  onlySecond: string[]
  /** Wire names (other than `one`) the other system has no wire for. */
  namesOnlyFirst: string[]
  namesOnlySecond: string[]
}

/** circom's output: `<dir>/<name>.r1cs` and its `.sym` (first name per wire; eliminated signals have none). */
export async function readCircomNamed(dir: string, name: string): Promise<NamedR1cs> {
  const r1cs = parseR1cs(await readFile(`${dir}/${name}.r1cs`))
  const sym = await readSym(`${dir}/${name}.sym`)
  return { r1cs, nameOf: (w) => (w === 0 ? 'one' : (sym.get(w) ?? `?wire${w}`)) }
}

/** The builder's system through its own .r1cs bytes (so the writer is in the loop too). */
export function builderNamed(system: ConstraintSystem): NamedR1cs {
  return { r1cs: parseR1cs(r1csBytes(system)), nameOf: (w) => system.nameOf(w) }
}

const modPow = (b: bigint, e: bigint): bigint => {
  let r = 1n
  let x = b % P
  let k = e
  while (k > 0n) {
    if (k & 1n) r = (r * x) % P
    x = (x * x) % P
    k >>= 1n
  }
  return r
}
const inv = (a: bigint) => modPow(a, P - 2n)

type NamedLc = Map<string, bigint>

function named(lc: R1csTerm[], nameOf: (w: number) => string): NamedLc {
  const out: NamedLc = new Map()
  for (const t of lc) {
    const n = nameOf(t.wire)
    out.set(n, ((out.get(n) ?? 0n) + t.coefficient) % P)
  }
  for (const [n, c] of out) if (c === 0n) out.delete(n)
  return out
}

/** The LC's value when it holds only the constant `one` (or nothing), else null. */
function constantOf(lc: NamedLc): bigint | null {
  if (lc.size === 0) return 0n
  return lc.size === 1 && lc.has('one') ? lc.get('one')! : null
}

function scaled(lc: NamedLc, k: bigint): NamedLc {
  return new Map([...lc].map(([n, c]) => [n, (c * k) % P]))
}

/** Sorted by name, scaled to a leading 1; returns the text and the factor divided out. */
function monic(lc: NamedLc): { text: string; lead: bigint } {
  const terms = [...lc].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
  if (terms.length === 0) return { text: '0', lead: 1n }
  const lead = terms[0]![1]
  const k = inv(lead)
  return { text: terms.map(([n, c]) => `${(c * k) % P}*${n}`).join(' + '), lead }
}

function sub(x: NamedLc, y: NamedLc): NamedLc {
  const out = new Map(x)
  for (const [n, c] of y) out.set(n, ((out.get(n) ?? 0n) - c + P) % P)
  for (const [n, c] of out) if (c === 0n) out.delete(n)
  return out
}

/** One constraint in normal form (see the file comment). */
export function normaliseConstraint(
  [a, b, c]: [R1csTerm[], R1csTerm[], R1csTerm[]],
  nameOf: (w: number) => string,
): string {
  const A = named(a, nameOf)
  const B = named(b, nameOf)
  const C = named(c, nameOf)
  const ka = constantOf(A)
  const kb = constantOf(B)
  if (ka !== null || kb !== null) {
    const prod = ka !== null ? scaled(B, ka) : scaled(A, kb!)
    return `L: ${monic(sub(prod, C)).text}`
  }
  const ma = monic(A)
  const mb = monic(B)
  // C takes both factors divided out of A and B, not a leading 1 of its own.
  const cText = [...scaled(C, inv((ma.lead * mb.lead) % P))]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([n, v]) => `${v}*${n}`)
    .join(' + ')
  const [first, second] = ma.text <= mb.text ? [ma.text, mb.text] : [mb.text, ma.text]
  return `Q: (${first}) * (${second}) = ${cText || '0'}`
}

function multisetDiff(x: string[], y: string[]): string[] {
  const counts = new Map<string, number>()
  for (const s of y) counts.set(s, (counts.get(s) ?? 0) + 1)
  const out: string[] = []
  for (const s of x) {
    const n = counts.get(s) ?? 0
    if (n > 0) counts.set(s, n - 1)
    else out.push(s)
  }
  return out
}

function wireNames(s: NamedR1cs): string[] {
  return Array.from({ length: s.r1cs.nVars - 1 }, (_, i) => s.nameOf(i + 1))
}

export function compareR1cs(first: NamedR1cs, second: NamedR1cs): ParityReport {
  const norm = (s: NamedR1cs) => s.r1cs.constraints.map((c) => normaliseConstraint(c, s.nameOf))
  const n1 = norm(first)
  const n2 = norm(second)
  const w1 = wireNames(first)
  const w2 = wireNames(second)
  return {
    wireCounts: [first.r1cs.nVars, second.r1cs.nVars],
    constraintCounts: [first.r1cs.nConstraints, second.r1cs.nConstraints],
    onlyFirst: multisetDiff(n1, n2),
    onlySecond: multisetDiff(n2, n1),
    namesOnlyFirst: multisetDiff(w1, w2),
    namesOnlySecond: multisetDiff(w2, w1),
  }
}

/** `witness` of `from` in `to`'s wire order, matched by name; a wire `from` lacks is an error. */
export function mapWitness(witness: readonly bigint[], from: NamedR1cs, to: NamedR1cs): bigint[] {
  const byName = new Map<string, number>()
  for (let w = 0; w < from.r1cs.nVars; w++) byName.set(from.nameOf(w), w)
  return Array.from({ length: to.r1cs.nVars }, (_, w) => {
    const src = byName.get(to.nameOf(w))
    if (src === undefined) throw new Error(`mapWitness: no wire named ${to.nameOf(w)} in the source system`)
    return witness[src]!
  })
}
