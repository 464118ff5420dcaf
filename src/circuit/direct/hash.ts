/**
 * What every hashed part of a direct build shares (public.ts's hashed inputs and outputs,
 * weights.ts's commitment): whether a build hashes at all, the Poseidon tables it then needs,
 * and emitHashes's chain into one of main's outputs.
 */
import type { Visibility, WeightVisibility } from '../layout.js'
import { MissingPoseidonTablesError } from './errors.js'
import { poseidonChain } from './gadgets/poseidon-chain.js'
import type { PoseidonTables } from './gadgets/poseidon-constants.js'
import { type Component, OUTPUT, type PreCircuit } from './o1.js'

/** Whether a build with these options hashes anything (and so needs the Poseidon tables). */
export const hashesAnything = (visibility: Visibility, weights: WeightVisibility = 'constant'): boolean =>
  visibility.input === 'hashed' || visibility.output === 'hashed' || weights === 'hashed'

/** The Poseidon tables a build needs: `given` when it hashes anything (refused when missing), else none. */
export function poseidonTablesFor(
  visibility: Visibility,
  weights: WeightVisibility | undefined,
  given: PoseidonTables | undefined,
): PoseidonTables | null {
  if (!hashesAnything(visibility, weights)) return null
  if (given) return given
  const what = [
    ...(['input', 'output'] as const).filter((k) => visibility[k] === 'hashed').map((k) => `hashed ${k}`),
    ...(weights === 'hashed' ? ['hashed weights'] : []),
  ]
  throw new MissingPoseidonTablesError({ what: what.join(', ') })
}

/**
 * emitHashes for one part: the chain `h<name><link>` over `elements` (main's signals), its
 * hash copied into main's output `<name>_hash` (declared after every output before it).
 */
export function hashPart(
  pc: PreCircuit,
  main: Component,
  name: string,
  elements: readonly number[],
  tables: PoseidonTables,
): number {
  // Filled by the chain's witness step (the last link's out is this wire).
  const hash = pc.signal(main, OUTPUT, `${name}_hash`, () => 0n, 'output')
  // The links are subcomponents of main created here: their signals are labelled after main's.
  const chain = poseidonChain(pc.sink(pc.component(main, `h${name}`)), main.path, name, elements, tables, hash)
  pc.runWitness(chain.witness)
  return hash
}
