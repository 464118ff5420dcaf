/** The direct backend's element refs: the twin of the emitter's `Ref` (lc.ts) over pre-O1 signal ids. */
import type { Term } from './o1.js'

/** An element as mul·signal + add over the pre-O1 circuit's signal ids (sig null: a constant). */
export interface DirectRef {
  sig: number | null
  mul: bigint
  add: bigint
}

export const constRef = (v: bigint): DirectRef => ({ sig: null, mul: 0n, add: v })

/** The terms of w·r (its constant part on signal 0). */
export const termsOf = (r: DirectRef, w: bigint): Term[] =>
  r.sig === null
    ? [[0, w * r.add]]
    : [
        [r.sig, w * r.mul],
        [0, w * r.add],
      ]

export type Terms = typeof termsOf
