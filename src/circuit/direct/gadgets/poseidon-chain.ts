/**
 * The Poseidon chain src/circuit/emit.ts `emitHashes` writes for hashed inputs, outputs and
 * weights, built directly: link 0 hashes the first 16 elements, each later link the previous
 * hash and the next 15, as components `<prefix>.h<name><link>` = Poseidon(width).
 *
 * Names after O1: each `h<name><k+1>.inputs[0] <== h<name><k>.out` is a copy, and the lower
 * label keeps the name. Components are labelled in string order of their names, so from ten
 * links on `hx10` sorts before `hx9` and link 9's hash is named `<prefix>.hx10.inputs[0]`; the
 * last hash is a copy of main's `<name>_hash` output (the caller's `out` wire).
 */
import type { Wire } from '../../r1cs/system.js'
import { type PoseidonGadget, poseidon } from './poseidon.js'
import type { PoseidonTables } from './poseidon-constants.js'
import type { ConstraintSink, WitnessStep } from './values.js'

export interface PoseidonChain {
  links: PoseidonGadget[]
  /** The chain's hash: the caller's `out`, or the last link's out. */
  out: Wire
  witness: WitnessStep
}

/** Widths of emitHashes's links for `size` elements: 16 (or fewer), then 1 + up to 15. */
export function chainWidths(size: number): number[] {
  const widths: number[] = []
  let done = 0
  while (done < size || widths.length === 0) {
    const take = Math.min(size - done, widths.length === 0 ? 16 : 15)
    widths.push(take + (widths.length === 0 ? 0 : 1))
    done += take
  }
  return widths
}

/** The chain over `elements` (e.g. main's `in_pk[…]` wires) as `emitHashes` names it under `prefix` (`main`). */
export function poseidonChain(
  cs: ConstraintSink,
  prefix: string,
  name: string,
  elements: readonly Wire[],
  tables: PoseidonTables,
  out?: Wire,
): PoseidonChain {
  const widths = chainWidths(elements.length)
  const component = (link: number) => `h${name}${link}`
  const links: PoseidonGadget[] = []
  let done = 0
  let prev: Wire | null = null
  widths.forEach((width, link) => {
    const take = width - (prev === null ? 0 : 1)
    const inputs = [...(prev === null ? [] : [prev]), ...elements.slice(done, done + take)]
    const last = link === widths.length - 1
    const next = component(link + 1)
    // The copy class {this out, next inputs[0]} keeps the name of the component that sorts first.
    const outName = !last && next < component(link) ? `${prefix}.${next}.inputs[0]` : undefined
    const g = poseidon(cs, `${prefix}.${component(link)}`, inputs, tables, last ? { out } : { outName })
    links.push(g)
    prev = g.out
    done += take
  })
  const witness: WitnessStep = (values) => {
    for (const g of links) g.witness(values)
  }
  return { links, out: links[links.length - 1]!.out, witness }
}
