/**
 * The direct R1CS backend: an IR model becomes the ConstraintSystem circom would produce from
 * emitCircuit's source at O1, and (given inputs) its witness, without a circom process.
 *
 * Design (issue 15, session 1):
 * - One transcription, two uses. Every gadget here is a literal transcription of what the
 *   circom emitter writes (same components, signal names, declaration order, constraints) into
 *   a pre-O1 circuit (o1.ts); o1.ts then replays circom's O1 (copy classes keep their lowest
 *   label, constants fold) and numbers the kept signals as circom does. So names come out as
 *   circom's `.sym` has them (`main.s3.o[2]`, `main.s2.rq2_5.bits.out[4]`, `main.rc0[1].in`)
 *   and nothing depends on guessing which copy survives.
 * - Shared plans, not shared text: the gadget sizes come from the emitter's own planning
 *   (planRequant, packLayout, tensorRange, SLICE), so the two backends cannot drift on what a
 *   gadget is; the constraints are written twice (circom text in gadgets.ts/veriml.circom,
 *   terms here). The better end state is one abstract constraint list printed as circom and
 *   fed to the builder; not done yet.
 * - Step templates: a step with constraints is component s<id> (chunks s<id>.c<c>, split
 *   where emitStepTemplates splits them: the chunk count is measured on the emitter's text
 *   for the step, the one remaining text cost, and every op kind is sliced with templates.ts
 *   SLICE); its inputs x[k] (and each chunk's) are declared as copies of their sources, so O1
 *   names each copy class by its lowest label as circom does (s10.x[k] sorts before s9.o[m]);
 *   its outputs o[m] copy the signals it makes, and usually keep the name.
 * - Ops: linear, requant and gather here; max, lookup and mul in ops.ts over the gadgets/
 *   transcriptions (Max2, Lookup, products), one component per gadget instance (mx<id>_<i>_<g>,
 *   lk<id>_<j>) written through PreCircuit.sink, their hints from the gadget's witness step.
 *   o1.ts orders sibling components by name, as circom labels them (mx5_0_10 before mx5_0_9).
 *   div and isqrt in div.ts, transcribed like requant.ts (every template signal declared, O1
 *   removes the copies): components dv<id>_<i>, sq<id>_<j>.
 * - Witness: the same pass with values (PreCircuit(true)): inputs from the caller, every
 *   other signal computed from the values of its operands as the template's `<--`/`<==` do
 *   (Requant's bits, e, winv, m; IsZero's inv; the gadgets' witness steps). The reference
 *   executor is not consulted; the tests check the public signals against it.
 * - Hashing (public.ts, weights.ts): hashed inputs/outputs pack into main's `<p>_pk` and a
 *   Poseidon chain (gadgets/poseidon-chain.ts, written through the pre-O1 circuit's sink) into
 *   main's output `<p>_hash`; hashed weights are main's private inputs with every step in main
 *   (no step templates, as emitSteps), committed last as `wt_hash`. The Poseidon constants load
 *   asynchronously, so the caller passes them (`poseidon`) whenever something is hashed.
 * - A main input that O1 merges into a main output (a one-lane public input with lower bound 0:
 *   `in_packed[e] <== in1[0]`) has no wire and still counts in nPrvIn, as in circom (o1.ts).
 *   Every op kind, visibility and weight mode is built; assertDirectSupported guards new kinds.
 * - Witness at prove time: directWitness runs the transcription with values only (no
 *   constraint stored, no O1) and lays the values out with the compile's wire map.
 * Memory: the pre-O1 constraints are typed arrays (pre-constraints.ts, 12 bytes a term), then
 * the typed-array system: about 25 bytes a weight term in all.
 */
import { operands } from '../../ir/execute.js'
import type { IrModel, PrimitiveOp, TensorBounds, TensorId } from '../../ir/types.js'
import { sizeOf } from '../../util/shape.js'
import { opEmitter } from '../gadgets.js'
import type { PublicLayout, Visibility, WeightVisibility } from '../layout.js'
import type { Ref } from '../lc.js'
import type { ConstraintSystem } from '../r1cs/system.js'
import { SLICE, TEMPLATE_TEXT_LIMIT } from '../templates.js'
import { DirectOpError, DirectWiresMismatchError } from './errors.js'
import type { PoseidonTables } from './gadgets/poseidon-constants.js'
import { type Component, INPUT, OUTPUT, PreCircuit, type Term } from './o1.js'
import { poseidonTablesFor } from './hash.js'
import { inputRangeCheck } from '../packing.js'
import { type ChainSteps, type FusedPlan, fusedFits, planFused, softmaxChains } from '../softmax-fused.js'
import { fusedStep } from './softmax-fused.js'
import { gadget } from './gadget.js'
import { publicPart } from './public.js'
import { type DirectRef, type Terms, termsOf } from './refs.js'
import { num2Bits, lcValue } from './requant.js'
import { directWeights } from './weights.js'

export interface BuildDirectParameters {
  model: IrModel
  bounds: Map<TensorId, TensorBounds>
  visibility: Visibility
  weights?: WeightVisibility
  templateTextLimit?: number
  /** The quantised inputs: given, the witness is built too. */
  inputs?: readonly (readonly bigint[])[]
  /** `await loadPoseidonTables()`: required when anything is hashed (MissingPoseidonTablesError). */
  poseidon?: PoseidonTables
  /** false: softmax chains as four gadgets, as emitCircuit's `fuseSoftmax` (default true). */
  fuseSoftmax?: boolean
  /** Templates per step as a compile measured them (BuildDirectReturnType.stepChunks); default: measured now. */
  stepChunks?: readonly number[]
}

export interface BuildDirectReturnType {
  system: ConstraintSystem
  /** The full witness in the system's wire order (when inputs were given). */
  witness: bigint[] | null
  layout: PublicLayout
  /** The signal id (pre-O1) of each wire: what the values-only witness pass needs (directWitness). */
  wires: Int32Array
  /** Pre-O1 signals declared (the values-only pass checks it declares as many). */
  signalCount: number
  /** Templates per step (0: none): the values-only pass takes them rather than measuring the emitter's text again. */
  stepChunks: number[]
}

/** The op kinds built directly (all of them: the check stays for the next op kind). */
const DIRECT_OPS = new Set(['linear', 'requant', 'gather', 'max', 'lookup', 'mul', 'div', 'isqrt'])

/**
 * Throws the typed error of the first thing the direct backend cannot build yet (an op
 * kind): compile calls it before any work. Every visibility and weight mode is built.
 */
export function assertDirectSupported(
  model: IrModel,
  _visibility: Visibility,
  _weights: WeightVisibility = 'constant',
): void {
  const op = model.steps.find((s) => !DIRECT_OPS.has(s.op.op))
  if (op) throw new DirectOpError({ op: op.op.op, details: [`first at step ${op.origin}`] })
}

/** Builds the model's system (and witness, given inputs) as circom compiles emitCircuit's source. */
export function buildDirect(p: BuildDirectParameters): BuildDirectReturnType {
  assertDirectSupported(p.model, p.visibility, p.weights)
  poseidonTablesFor(p.visibility, p.weights, p.poseidon) // refused before any work when missing
  const pc = new PreCircuit(p.inputs !== undefined)
  const { layout, stepChunks } = describe(pc, p)
  const { system, witness, wires } = pc.toSystem()
  return { system, witness, layout, wires, signalCount: pc.signalCount, stepChunks }
}

export interface DirectWitnessParameters extends BuildDirectParameters {
  inputs: readonly (readonly bigint[])[]
  /** The compile's wire map (BuildDirectReturnType.wires): the signal id of each wire. */
  wires: Int32Array
  /** The number of pre-O1 signals the compile declared (its check that both passes agree). */
  signalCount: number
  stepChunks: readonly number[]
}

/**
 * The witness alone: the same transcription with values, no constraint stored and no O1
 * (the compile ran it once and recorded which signal each wire is). Throws
 * DirectWiresMismatchError when the pass declares another number of signals than the compile
 * did (a wire map from another build).
 */
export function directWitness(p: DirectWitnessParameters): bigint[] {
  assertDirectSupported(p.model, p.visibility, p.weights)
  if (p.stepChunks.length !== p.model.steps.length)
    throw new DirectWiresMismatchError({ what: 'steps', expected: p.stepChunks.length, actual: p.model.steps.length })
  const pc = new PreCircuit('values')
  describe(pc, p)
  if (pc.signalCount !== p.signalCount)
    throw new DirectWiresMismatchError({ what: 'signals', expected: p.signalCount, actual: pc.signalCount })
  return pc.witnessFor(p.wires)
}

/** Every signal and constraint of the model, in circom's order, into `pc`; returns the public layout. */
function describe(pc: PreCircuit, p: BuildDirectParameters): { layout: PublicLayout; stepChunks: number[] } {
  const main = pc.component(null, 'main')
  const stepChunks: number[] = []
  const refs = new Map<TensorId, DirectRef[]>()
  const terms = termsOf

  // Inputs: private inputs of main, each element range-checked by a Num2Bits of its own.
  for (const [k, input] of p.model.inputs.entries()) {
    const n = sizeOf(input.shape)
    const ids = Array.from({ length: n }, (_, i) =>
      pc.signal(main, INPUT, `in${k}[${i}]`, () => BigInt(p.inputs![k]![i]!), 'privateInput'),
    )
    refs.set(
      input.id,
      ids.map((sig) => ({ sig, mul: 1n, add: 0n })),
    )
  }
  for (const [k, input] of p.model.inputs.entries()) {
    const { bits, capped } = inputRangeCheck(input)
    for (const [i, r] of refs.get(input.id)!.entries()) {
      const t: Term[] = [...terms(r, 1n), [0, -input.lo]]
      num2Bits(pc, main, `rc${k}[${i}]`, bits, { terms: t, value: () => lcValue(pc, t) })
      if (!capped) continue
      const h: Term[] = [...terms(r, -1n), [0, input.hi]]
      num2Bits(pc, main, `rh${k}[${i}]`, bits, { terms: h, value: () => lcValue(pc, h) })
    }
  }

  const limit = p.templateTextLimit ?? TEMPLATE_TEXT_LIMIT
  // Private weights are signals of main: their steps stay in main.
  const weights = p.weights === 'hashed' ? directWeights(pc, main, p.model, terms) : null
  // Softmax chains as emitSteps fuses them (softmax-fused.ts): decided at the max, built at the lookup.
  const chains = p.fuseSoftmax !== false && !weights ? softmaxChains(p.model) : new Map<number, ChainSteps>()
  const fused = new Map<number, { plan: FusedPlan; x: DirectRef[] }>()
  const skipped = new Set<number>()
  for (const [i, step] of p.model.steps.entries()) {
    if (skipped.has(i)) {
      stepChunks.push(0)
      continue
    }
    const x = operands(refs, step.op.inputs)
    const chain = chains.get(i)
    const plan = chain && planFused(p.model, p.bounds, chain, x)
    if (chain && plan && fusedFits(plan, x, limit)) {
      fused.set(chain.exp, { plan, x })
      for (const k of [chain.centre, chain.clamp]) skipped.add(k)
      stepChunks.push(0)
      continue
    }
    const f = fused.get(i)
    if (f) {
      stepChunks.push(1)
      refs.set(step.output.id, fusedStep(pc, main, f.plan, f.x, step.output.id, declareInputs))
      continue
    }
    const xb = {
      lo: step.op.inputs.flatMap((i) => p.bounds.get(i)!.lo),
      hi: step.op.inputs.flatMap((i) => p.bounds.get(i)!.hi),
    }
    const id = step.output.id
    if (weights) {
      stepChunks.push(0)
      refs.set(
        id,
        step.op.op === 'linear' ? weights.linear(step.op, x, id) : gadget(pc, main, step.op, x, xb, id, terms),
      )
      continue
    }
    // The chunk count is measured on the emitter's text: once, at compile (the witness pass is given it).
    const given = p.stepChunks?.[i]
    const nChunks = step.op.op === 'gather' ? 0 : (given ?? chunkCount(step.op, x, xb, id, limit))
    stepChunks.push(nChunks)
    refs.set(id, buildStep(pc, main, step.op, x, xb, id, nChunks, terms))
  }

  const tables = poseidonTablesFor(p.visibility, p.weights, p.poseidon)
  return { layout: publicPart(pc, main, p, refs, terms, tables, weights), stepChunks }
}

/**
 * One step as emitStepTemplates wires it: nothing for a step without constraints, else
 * component s<id> (chunks s<id>.c<c>) whose outputs o[m] copy each new signal it makes.
 */
function buildStep(
  pc: PreCircuit,
  main: Component,
  op: PrimitiveOp,
  x: DirectRef[],
  xb: TensorBounds,
  id: TensorId,
  nChunks: number,
  terms: Terms,
): DirectRef[] {
  if (op.op === 'gather') return gadget(pc, main, op, x, xb, id, terms)
  if (nChunks === 0) return gadget(pc, main, op, x, xb, id, terms)
  const step = pc.component(main, `s${id}`)
  const stepInputs = declareInputs(pc, step, x)
  const out: DirectRef[] = []
  const n = outputCount(op, x)
  for (let c = 0; c < nChunks; c++) {
    const comp = nChunks === 1 ? step : pc.component(step, `c${c}`)
    const inputs = nChunks === 1 ? stepInputs : declareInputs(pc, comp, stepInputs.local, stepInputs.outer)
    const s =
      nChunks === 1
        ? { op, x: inputs.local, xb }
        : sliceOp(op, inputs.local, xb, Math.floor((c * n) / nChunks), Math.floor(((c + 1) * n) / nChunks))
    const first = pc.names.length
    const own = new Map<number, number>()
    for (const r of gadget(pc, comp, s.op, s.x, s.xb, id, terms)) {
      if (r.sig === null || r.sig < first) {
        // An operand passed through: the signal the template input copies (emitStepTemplates' `outside`).
        out.push(r.sig === null ? r : { ...r, sig: inputs.outer.get(r.sig) ?? r.sig })
        continue
      }
      let o = own.get(r.sig)
      if (o === undefined) {
        const sig = r.sig
        const m = own.size
        o = pc.signal(comp, OUTPUT, `o[${m}]`, () => pc.value(sig), 'internal', m)
        pc.linear([
          [o, 1n],
          [sig, -1n],
        ])
        own.set(sig, o)
      }
      out.push({ ...r, sig: o })
    }
  }
  if (nChunks > 1) wrapChunks(pc, step, out)
  return out
}

/**
 * A template's inputs x[k], one per distinct operand signal in order of first use, each a copy
 * of its source (`s.x[k] <== src`; a chunk's `c.x[i] <== x[i]` for every i). Declared, not
 * skipped, because the copy class's name is its lowest label: usually the source's, but
 * s10.x[k] sorts before s9.o[m] and then names the class, as in circom. `outer`: each x[k]
 * signal's source outside the step (for a chunk, `through` gives the step's).
 */
function declareInputs(
  pc: PreCircuit,
  comp: Component,
  x: DirectRef[],
  through?: Map<number, number>,
): { local: DirectRef[]; outer: Map<number, number> } {
  const slot = new Map<number, number>()
  const outer = new Map<number, number>()
  const local = x.map((r): DirectRef => {
    if (r.sig === null) return r
    let sig = slot.get(r.sig)
    if (sig === undefined) {
      const src = r.sig
      sig = pc.signal(comp, INPUT, `x[${slot.size}]`, () => pc.value(src), 'internal', slot.size)
      pc.linear([
        [sig, 1n],
        [src, -1n],
      ])
      slot.set(src, sig)
      outer.set(sig, through?.get(src) ?? src)
    }
    return { ...r, sig }
  })
  return { local, outer }
}

/** How many outputs the op has (what a chunk slices). */
function outputCount(op: PrimitiveOp, x: DirectRef[]): number {
  if (op.op === 'linear') return op.bias.length
  if (op.op === 'max') return op.rowPtr.length - 1
  if (op.op === 'mul') return op.left.length
  if (op.op === 'div') return op.num.length
  return x.length
}

/** Outputs [a, b) of the op as emitStepTemplates slices them (templates.ts SLICE works on any ref type). */
const slice = SLICE as unknown as Record<
  string,
  (
    op: PrimitiveOp,
    x: DirectRef[],
    xb: TensorBounds,
    a: number,
    b: number,
  ) => { op: PrimitiveOp; x: DirectRef[]; xb: TensorBounds }
>
const sliceOp = (op: PrimitiveOp, x: DirectRef[], xb: TensorBounds, a: number, b: number) =>
  slice[op.op]!(op, x, xb, a, b)

/** The wrapper of a chunked step: its o[base + m] copies chunk c's o[m], in chunk order. */
function wrapChunks(pc: PreCircuit, step: Component, out: DirectRef[]): void {
  const own = new Map<number, number>()
  for (const [i, r] of out.entries()) {
    if (r.sig === null || !pc.names[r.sig]!.startsWith(`${step.path}.c`)) continue
    let o = own.get(r.sig)
    if (o === undefined) {
      const sig = r.sig
      o = pc.signal(step, OUTPUT, `o[${own.size}]`, () => pc.value(sig), 'internal', own.size)
      pc.linear([
        [o, 1n],
        [sig, -1n],
      ])
      own.set(sig, o)
    }
    out[i] = { ...r, sig: o }
  }
}

/**
 * How many templates emitStepTemplates writes for this step (0: none, the step has no
 * constraint): measured on the emitter's own text with the same local operand names.
 */
function chunkCount(op: PrimitiveOp, x: DirectRef[], xb: TensorBounds, id: TensorId, limit: number): number {
  const slot = new Map<number, number>()
  const local = x.map((r): Ref => {
    if (r.sig === null) return { sig: null, mul: r.mul, add: r.add }
    let k = slot.get(r.sig)
    if (k === undefined) slot.set(r.sig, (k = slot.size))
    return { sig: `x[${k}]`, mul: r.mul, add: r.add }
  })
  const whole = opEmitter(null)(op, local, xb, id)
  if (whole.lines.length === 0) return 0
  const size = whole.lines.reduce((s, l) => s + l.length + 1, 0)
  return Math.min(whole.out.length, Math.ceil(size / limit))
}
