/**
 * circomlib's `Poseidon(n)` built directly: the same signals circom keeps after O1, named as
 * circom names them under the component path, and the same constraints; plus the witness.
 *
 * Which signals survive O1 (measured on circom 2.2.3's .sym for n = 1, 2, 16): subcomponents
 * are labelled in ALPHABETICAL order of their names (ark, mix, mixLast, mixS, sigmaF, sigmaP;
 * array indices numerically), each as outputs, inputs, intermediates, and a copy class keeps
 * its lowest label. So, of Poseidon and PoseidonEx (`pEx`):
 * - `out` stays (pEx.out[0] and mixLast[0].out are its copies); inputs[i] and pEx.inputs[i]
 *   are copies of the caller's signals; pEx.initialState (= 0) and ark[0].in[0] are constants.
 *   ark[0].out[0] = C[0] still gets a wire: O1 substitutes once and does not fold the result.
 * - ark[r].out[j] (all r) and ark[r].in[j] (r ≥ 1: they swallow sigmaF[r-1][j].out, 'ark' <
 *   'sigmaF'); mix[r].out[j] (mix[r].in are ark's copies); mixLast[0].in[j] (swallowing
 *   sigmaF[7][j].out); mixS[r].out[j] and mixS[r].in[0] (= sigmaP[r].out + C, not a copy; its
 *   other inputs are copies of the previous state); sigmaF[r][j].in2/in4 (in, out are copies);
 *   sigmaP[r].out/in2/in4.
 * Constraints, t = n + 1, R = partial rounds: 3 per S-box (8t + R of them), t per Ark (8),
 * t per Mix (7), t + 1 per MixS (R), one for out: 3(8t + R) + 8t + 7t + R(t + 1) + 1.
 */
import { SCALAR_FIELD } from '../../../util/field.js'
import type { Lc, Wire } from '../../r1cs/system.js'
import { N_ROUNDS_F, type PoseidonConstants, type PoseidonTables } from './poseidon-constants.js'
import { type ConstraintSink, wireValue, type WireValues, type WitnessStep } from './values.js'

const P = SCALAR_FIELD
const HALF = N_ROUNDS_F / 2

export interface PoseidonGadget {
  /** The hash: `<path>.out`, or the caller's `out` wire. */
  out: Wire
  witness: WitnessStep
}

export interface PoseidonOptions {
  /**
   * A wire the caller already declared that `out` is a copy of (e.g. main's `x_hash` output
   * or a signal of a lower label): O1 keeps that one and `<path>.out` gets no wire.
   */
  out?: Wire
  /** The name to declare the hash under instead of `<path>.out` (a copy of a lower label: see poseidonChain). */
  outName?: string
}

/** One S-box x⁵ as circomlib's Sigma: in2 = x², in4 = in2², out = in4·x. */
interface Sbox {
  in2: Wire
  in4: Wire
}

/**
 * `Poseidon(inputs.length)` at component path `path` over the caller's input wires (tables from
 * `await loadPoseidonTables()`).
 */
export function poseidon(
  cs: ConstraintSink,
  path: string,
  inputs: readonly Wire[],
  tables: PoseidonTables,
  options: PoseidonOptions = {},
): PoseidonGadget {
  const k = tables.forInputs(inputs.length)
  const { t, nRoundsP: R } = k
  const ex = `${path}.pEx`
  const out = options.out ?? cs.signal('internal', options.outName ?? `${path}.out`)
  // Declared in circom's label order (see the file comment), so wire order matches too.
  const arkOut: Wire[][] = []
  const arkIn: Wire[][] = [[]]
  for (let r = 0; r < N_ROUNDS_F; r++) {
    arkOut.push(cs.signals('internal', `${ex}.ark[${r}].out`, t))
    if (r > 0) arkIn.push(cs.signals('internal', `${ex}.ark[${r}].in`, t))
  }
  const mixOut = Array.from({ length: N_ROUNDS_F - 1 }, (_, r) => cs.signals('internal', `${ex}.mix[${r}].out`, t))
  const lastIn = cs.signals('internal', `${ex}.mixLast[0].in`, t)
  const mixSOut: Wire[][] = []
  const mixSIn0: Wire[] = []
  for (let r = 0; r < R; r++) {
    mixSOut.push(cs.signals('internal', `${ex}.mixS[${r}].out`, t))
    mixSIn0.push(cs.signals('internal', `${ex}.mixS[${r}].in`, 1)[0]!)
  }
  const sboxF: Sbox[][] = Array.from({ length: N_ROUNDS_F }, (_, r) =>
    Array.from({ length: t }, (_, j) => ({
      in2: cs.signal('internal', `${ex}.sigmaF[${r}][${j}].in2`),
      in4: cs.signal('internal', `${ex}.sigmaF[${r}][${j}].in4`),
    })),
  )
  const sboxP: (Sbox & { out: Wire })[] = Array.from({ length: R }, (_, r) => ({
    out: cs.signal('internal', `${ex}.sigmaP[${r}].out`),
    in2: cs.signal('internal', `${ex}.sigmaP[${r}].in2`),
    in4: cs.signal('internal', `${ex}.sigmaP[${r}].in4`),
  }))

  const sigma = (x: Wire, s: Sbox, o: Wire) => {
    cs.constrain([[x, 1n]], [[x, 1n]], [[s.in2, 1n]])
    cs.constrain([[s.in2, 1n]], [[s.in2, 1n]], [[s.in4, 1n]])
    cs.constrain([[s.in4, 1n]], [[x, 1n]], [[o, 1n]])
  }
  const ark = (r: number, offset: number) => {
    for (let j = 0; j < t; j++)
      cs.linear([
        [arkOut[r]![j]!, 1n],
        [arkIn[r]![j]!, -1n],
        [0, -k.C[offset + j]!],
      ])
  }
  const mix = (r: number, m: bigint[][], from: Wire[]) => {
    for (let i = 0; i < t; i++) cs.linear(mixTerms(mixOut[r]![i]!, m, i, from))
  }
  // ark[0]: in[0] is the constant initial state 0, in[j] the caller's inputs.
  cs.linear([
    [arkOut[0]![0]!, 1n],
    [0, -k.C[0]!],
  ])
  for (let j = 1; j < t; j++)
    cs.linear([
      [arkOut[0]![j]!, 1n],
      [inputs[j - 1]!, -1n],
      [0, -k.C[j]!],
    ])
  for (let r = 0; r < HALF; r++) {
    for (let j = 0; j < t; j++) sigma(r === 0 ? arkOut[0]![j]! : mixOut[r - 1]![j]!, sboxF[r]![j]!, arkIn[r + 1]![j]!)
    ark(r + 1, (r + 1) * t)
    mix(r, r === HALF - 1 ? k.P : k.M, arkOut[r + 1]!)
  }
  for (let r = 0; r < R; r++) {
    const prev = r === 0 ? mixOut[HALF - 1]! : mixSOut[r - 1]!
    sigma(prev[0]!, sboxP[r]!, sboxP[r]!.out)
    cs.linear([
      [mixSIn0[r]!, 1n],
      [sboxP[r]!.out, -1n],
      [0, -k.C[(HALF + 1) * t + r]!],
    ])
    const base = (2 * t - 1) * r
    const inWire = (i: number) => (i === 0 ? mixSIn0[r]! : prev[i]!)
    const lc: [Wire, bigint][] = [[mixSOut[r]![0]!, -1n]]
    for (let i = 0; i < t; i++) lc.push([inWire(i), k.S[base + i]!])
    cs.linear(lc)
    for (let i = 1; i < t; i++)
      cs.linear([
        [mixSOut[r]![i]!, 1n],
        [prev[i]!, -1n],
        [mixSIn0[r]!, -k.S[base + t + i - 1]!],
      ])
  }
  for (let r = 0; r < HALF - 1; r++) {
    for (let j = 0; j < t; j++)
      sigma(r === 0 ? mixSOut[R - 1]![j]! : mixOut[HALF + r - 1]![j]!, sboxF[HALF + r]![j]!, arkIn[HALF + r + 1]![j]!)
    ark(HALF + r + 1, (HALF + 1) * t + R + r * t)
    mix(HALF + r, k.M, arkOut[HALF + r + 1]!)
  }
  for (let j = 0; j < t; j++) sigma(mixOut[N_ROUNDS_F - 2]![j]!, sboxF[N_ROUNDS_F - 1]![j]!, lastIn[j]!)
  cs.linear(mixTerms(out, k.M, 0, lastIn))

  const witness: WitnessStep = (values) => {
    const state = [0n, ...inputs.map((w) => wireValue(values, w, `Poseidon ${path}`))]
    run(k, state, {
      sbox: (round, j, x) => sboxValues(values, round < 0 ? sboxP[-round - 1]! : sboxF[round]![j]!, x),
      ark: (r, sboxed, arked) => {
        if (r > 0) setAll(values, arkIn[r]!, sboxed)
        setAll(values, arkOut[r]!, arked)
      },
      mix: (r, mixed) => setAll(values, mixOut[r]!, mixed),
      partial: (r, s, in0, next) => {
        values.set(sboxP[r]!.out, s)
        values.set(mixSIn0[r]!, in0)
        setAll(values, mixSOut[r]!, next)
      },
      last: (sboxed, hash) => {
        setAll(values, lastIn, sboxed)
        values.set(out, hash)
      },
    })
  }
  return { out, witness }
}

/** out − Σ_j m[j][i]·from[j] (circom's Mix column i). */
function mixTerms(out: Wire, m: bigint[][], i: number, from: readonly Wire[]): Lc {
  const lc: [Wire, bigint][] = [[out, -1n]]
  for (let j = 0; j < from.length; j++) lc.push([from[j]!, m[j]![i]!])
  return lc
}

function setAll(values: WireValues, wires: readonly Wire[], v: readonly bigint[]): void {
  for (let i = 0; i < wires.length; i++) values.set(wires[i]!, v[i]!)
}

function sboxValues(values: WireValues, s: Sbox, x: bigint): bigint {
  const in2 = (x * x) % P
  const in4 = (in2 * in2) % P
  values.set(s.in2, in2)
  values.set(s.in4, in4)
  return (in4 * x) % P
}

/** Where the permutation's intermediate values go; round < 0 in `sbox` is partial round −round − 1. */
interface Trace {
  sbox(round: number, j: number, x: bigint): bigint
  /** ark[r]'s inputs (the S-box outputs; none for r = 0) and outputs. */
  ark(r: number, sboxed: readonly bigint[], arked: readonly bigint[]): void
  mix(r: number, mixed: readonly bigint[]): void
  partial(r: number, sboxOut: bigint, in0: bigint, next: readonly bigint[]): void
  last(sboxed: readonly bigint[], hash: bigint): void
}

const pow5 = (x: bigint) => {
  const x2 = (x * x) % P
  return (((x2 * x2) % P) * x) % P
}

/** circomlib's Poseidon(inputs.length) of field elements, without a circuit (circomlibjs's value). */
export function poseidonHash(tables: PoseidonTables, inputs: readonly bigint[]): bigint {
  return run(tables.forInputs(inputs.length), [0n, ...inputs.map((v) => ((v % P) + P) % P)], null)
}

/** The permutation on `state` (initial state first), as circomlib's PoseidonEx computes it; returns out[0]. */
function run(k: PoseidonConstants, state: bigint[], trace: Trace | null): bigint {
  const { t, nRoundsP: R, C, S } = k
  const mul = (m: bigint[][], v: readonly bigint[]) =>
    v.map((_, i) => {
      let acc = 0n
      for (let j = 0; j < t; j++) acc += m[j]![i]! * v[j]!
      return acc % P
    })
  const addC = (v: readonly bigint[], offset: number) => v.map((x, j) => (x + C[offset + j]!) % P)
  const sboxAll = (round: number, v: readonly bigint[]) => v.map((x, j) => (trace ? trace.sbox(round, j, x) : pow5(x)))
  /** S-boxes of full round `round`, then ark[round + 1] and mix[round] with matrix m. */
  const fullRound = (round: number, v: readonly bigint[], offset: number, m: bigint[][]) => {
    const s = sboxAll(round, v)
    const a = addC(s, offset)
    const mixed = mul(m, a)
    trace?.ark(round + 1, s, a)
    trace?.mix(round, mixed)
    return mixed
  }
  let cur = addC(state, 0)
  trace?.ark(0, [], cur)
  for (let r = 0; r < HALF; r++) cur = fullRound(r, cur, (r + 1) * t, r === HALF - 1 ? k.P : k.M)
  for (let r = 0; r < R; r++) {
    const s = trace ? trace.sbox(-r - 1, 0, cur[0]!) : pow5(cur[0]!)
    const in0 = (s + C[(HALF + 1) * t + r]!) % P
    const base = (2 * t - 1) * r
    let out0 = in0 * S[base]!
    for (let i = 1; i < t; i++) out0 += cur[i]! * S[base + i]!
    const next = [out0 % P]
    for (let i = 1; i < t; i++) next.push((cur[i]! + in0 * S[base + t + i - 1]!) % P)
    trace?.partial(r, s, in0, next)
    cur = next
  }
  for (let r = 0; r < HALF - 1; r++) cur = fullRound(HALF + r, cur, (HALF + 1) * t + R + r * t, k.M)
  const s = sboxAll(N_ROUNDS_F - 1, cur)
  const hash = mul(k.M, s)[0]!
  trace?.last(s, hash)
  return hash
}
