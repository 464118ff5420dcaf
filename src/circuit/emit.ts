import { BaseError, type ErrorParameters } from '../errors.js'
import { LookupDomainError } from '../ir/errors.js'
import { operands } from '../ir/execute.js'
import type { IrModel, TensorBounds, TensorId } from '../ir/types.js'
import { sizeOf } from '../util/shape.js'
import { opEmitter } from './gadgets.js'
import type { PublicLayout, Visibility, WeightVisibility } from './layout.js'
import { addCost, append, type Cost, combination, type Ref, zeroCost } from './lc.js'
import { inputRangeCheck, type PackLayout, packedElementCount, publicLayouts, publicSignalCount } from './packing.js'
import { type ChainSteps, type FusedPlan, fusedEmitter, fusedFits, planFused, softmaxChains } from './softmax-fused.js'
import { emitStepTemplates, TEMPLATE_TEXT_LIMIT } from './templates.js'
import { type PrivateWeightsEmitter, privateWeightsEmitter } from './weights.js'

export interface EmitCircuitParameters {
  model: IrModel
  /** Proven bounds of every tensor (`analyzeBounds`): they size every gadget. */
  bounds: Map<TensorId, TensorBounds>
  visibility: Visibility
  /** Comment lines at the top of the source (default none). */
  header?: string[]
  /** Weights as circuit constants (default) or private and Poseidon-committed (weights.ts). */
  weights?: WeightVisibility
  /** Circom text allowed in one step template (default TEMPLATE_TEXT_LIMIT). */
  templateTextLimit?: number
  /** false: the plan and its cost only, no source text (`inspect`'s estimate). Default true. */
  source?: boolean
  /** Longest source allowed (default and most: V8's largest string); smaller in tests. */
  maxSourceChars?: number
  /** false: softmax's max → centre → index → exp chain as four gadgets (softmax-fused.ts). Default true. */
  fuseSoftmax?: boolean
}

export interface EmitCircuitReturnType {
  source: string
  layout: PublicLayout
  /** Constraints by kind, from the emitter's own plan (see `Cost`). */
  cost: Cost
}

/** What the sections of one emission share: the main template's lines, the tally, each tensor's refs. */
interface Emission {
  model: IrModel
  bounds: Map<TensorId, TensorBounds>
  body: string[]
  cost: Cost
  refs: Map<TensorId, Ref[]>
  privateWeights: PrivateWeightsEmitter | null
}

/** The tensor's overall [lo, hi]: its pack layout's range (the direct backend packs with it too). */
/** Kept here for its importers; defined with the packing it serves. */
export { tensorRange } from './packing.js'

/**
 * Emits the circom circuit of an integer model: weights as constants (linear ops cost one
 * linear constraint per output element, no multiplication), one requant gadget per
 * activation, a tree of pairwise maxes per max row (max.ts), a one-hot table gadget per
 * lookup (lookup.ts) and a Div or Isqrt gadget per div or isqrt element (div.ts, isqrt.ts),
 * each sized from the proven bounds, inputs range-checked to their domain, and inputs and
 * outputs packed (or Poseidon-hashed) into few public signals.
 */
export function emitCircuit(p: EmitCircuitParameters): EmitCircuitReturnType {
  const body: string[] = []
  const cost = zeroCost()
  const e: Emission = {
    model: p.model,
    bounds: p.bounds,
    body,
    cost,
    refs: new Map(),
    privateWeights: p.weights === 'hashed' ? privateWeightsEmitter(body, cost) : null,
  }
  emitInputs(e)
  const templates = emitSteps(e, p.templateTextLimit ?? TEMPLATE_TEXT_LIMIT, p.fuseSoftmax ?? true)
  const { layout, hashed } = emitPublic(e, p.visibility)
  const source =
    p.source === false
      ? ''
      : circuitSource(p.header ?? [], templates, body, hashed, p.maxSourceChars ?? MAX_SOURCE_CHARS)
  return { source, layout, cost }
}

/** V8's largest string (2^29 − 24 UTF-16 units): the circom source is one string. */
const MAX_SOURCE_CHARS = 2 ** 29 - 24

/** A model whose circom source would exceed the largest string JavaScript can hold. */
export class CircuitSourceTooLargeError extends BaseError {
  override name = 'CircuitSourceTooLargeError'
  readonly chars: number
  constructor(p: ErrorParameters<{ chars: number }>) {
    super(
      `the model's circom source would be ${Math.round(p.chars / 2 ** 20)} MB, beyond the ${Math.floor(MAX_SOURCE_CHARS / 2 ** 20)} MB JavaScript can hold in one string`,
      {
        details: [
          'The model is too large for the zk path on this build: `veriml inspect --calibration …` gives its estimated constraints; `compile --target optimistic` takes it on the optimistic path.',
          ...(p.details ?? []),
        ],
        cause: p.cause,
      },
    )
    this.chars = p.chars
  }
}

/** Each input a signal array, every element range-checked to the input's domain. */
function emitInputs({ model, body, cost, refs }: Emission): void {
  for (const [k, input] of model.inputs.entries()) {
    const n = sizeOf(input.shape)
    const { bits, capped } = inputRangeCheck(input)
    body.push(`    signal input in${k}[${n}];`, `    component rc${k}[${n}];`)
    if (capped) body.push(`    component rh${k}[${n}];`)
    body.push(
      `    for (var i = 0; i < ${n}; i++) {`,
      `        rc${k}[i] = Num2Bits(${bits});`,
      `        rc${k}[i].in <== in${k}[i] - (${input.lo});`,
      ...(capped
        ? [`        rh${k}[i] = Num2Bits(${bits});`, `        rh${k}[i].in <== (${input.hi}) - in${k}[i];`]
        : []),
      '    }',
    )
    cost.inputRangeChecks += n * (bits + 1) * (capped ? 2 : 1)
    refs.set(
      input.id,
      Array.from({ length: n }, (_, i) => ({ sig: `in${k}[${i}]`, mul: 1n, add: 0n })),
    )
  }
}

/** Every step's gadgets, in model order; returns the step templates (main wires them). */
function emitSteps(
  { model, bounds, body, cost, refs, privateWeights }: Emission,
  templateTextLimit: number,
  fuse: boolean,
): string[] {
  const emitOp = opEmitter(privateWeights)
  const templates: string[] = []
  // Softmax chains as one gadget at their lookup's step (not with private weights: those steps sit in main).
  const chains = fuse && !privateWeights ? softmaxChains(model) : new Map<number, ChainSteps>()
  const fused = new Map<number, { plan: FusedPlan; x: Ref[] }>()
  const skipped = new Set<number>()
  for (const [i, step] of model.steps.entries()) {
    if (skipped.has(i)) continue
    const x = operands(refs, step.op.inputs)
    const chain = chains.get(i)
    const plan = chain && planFused(model, bounds, chain, x)
    if (chain && plan && fusedFits(plan, x, templateTextLimit)) {
      fused.set(chain.exp, { plan, x })
      for (const k of [chain.centre, chain.clamp]) skipped.add(k)
      continue
    }
    const f = fused.get(i)
    if (f) {
      const r = emitStepTemplates(
        step.op,
        f.x,
        { lo: [], hi: [] },
        step.output.id,
        fusedEmitter(f.plan),
        templates,
        body,
        templateTextLimit,
      )
      addCost(cost, r.cost)
      refs.set(step.output.id, r.out)
      continue
    }
    const xb = {
      lo: step.op.inputs.flatMap((i) => bounds.get(i)!.lo),
      hi: step.op.inputs.flatMap((i) => bounds.get(i)!.hi),
    }
    const id = step.output.id
    try {
      // Private weights are signals of main: those steps stay in main.
      let r: { cost: Cost; out: Ref[] }
      if (privateWeights) {
        const emitted = emitOp(step.op, x, xb, id)
        append(body, emitted.lines)
        r = emitted
      } else r = emitStepTemplates(step.op, x, xb, id, emitOp, templates, body, templateTextLimit)
      addCost(cost, r.cost)
      refs.set(id, r.out)
    } catch (error) {
      // Bounds not from analyzeBounds may leave a table's domain: name the step.
      if (error instanceof LookupDomainError && error.params.step === undefined)
        throw new LookupDomainError({ ...error.params, step: step.origin })
      throw error
    }
  }
  return templates
}

/**
 * Public part: packed elements (or a Poseidon hash of them) of the inputs, then of the
 * outputs, then (hashed weights) the weight commitment, so it is the last public signal.
 * `hashed`: whether any Poseidon was emitted (the source must include it).
 */
function emitPublic(e: Emission, visibility: Visibility): { layout: PublicLayout; hashed: boolean } {
  const { model, bounds, body, cost, refs } = e
  const layouts = publicLayouts(model, bounds)
  const inTensors = model.inputs.map((i, k) => ({ refs: refs.get(i.id)!, layout: layouts.inputs[k] }))
  const outTensors = model.outputs.map((o, k) => ({ refs: refs.get(o.tensor)!, layout: layouts.outputs[k] }))
  const hashedIn = packPart(body, cost, 'in', inTensors, visibility.input)
  const hashedOut = packPart(body, cost, 'out', outTensors, visibility.output)
  // Declared last, so the weight commitment is the last public signal.
  const weightsLayout = e.privateWeights?.commit(model.name)
  if (weightsLayout) emitHashes(body, [{ name: 'wt', size: weightsLayout.elements }], cost)
  const count = publicSignalCount({
    input: visibility.input,
    inputLayouts: inTensors.map((t) => t.layout),
    output: visibility.output,
    outputLayouts: outTensors.map((t) => t.layout),
    weightCommitment: weightsLayout !== undefined,
  })
  return {
    layout: {
      visibility,
      inputs: inTensors.map((t) => t.layout),
      outputs: outTensors.map((t) => t.layout),
      count,
      ...(weightsLayout ? { weights: weightsLayout } : {}),
    },
    hashed: hashedIn || hashedOut || weightsLayout !== undefined,
  }
}

/**
 * One part (inputs or outputs) of the public signals: public, its packed elements are
 * outputs of main; hashed, they are internal and their Poseidon chain is (returns true);
 * private, nothing.
 */
function packPart(
  body: string[],
  cost: Cost,
  prefix: string,
  tensors: { refs: Ref[]; layout: PackLayout }[],
  mode: 'public' | 'hashed' | 'private',
): boolean {
  if (mode === 'private') return false
  const total = tensors.reduce((s, t) => s + packedElementCount(t.layout), 0)
  const target = mode === 'public' ? `${prefix}_packed` : `${prefix}_pk`
  body.push(mode === 'public' ? `    signal output ${target}[${total}];` : `    signal ${target}[${total}];`)
  let e = 0
  for (const { refs: r, layout } of tensors) {
    for (let el = 0; el < packedElementCount(layout); el++, e++) {
      const parts: { w: bigint; ref: Ref }[] = []
      let c = 0n
      for (let j = 0; j < layout.lanesPerElement && el * layout.lanesPerElement + j < layout.count; j++) {
        const w = 1n << BigInt(layout.laneBits * j)
        parts.push({ w, ref: r[el * layout.lanesPerElement + j] })
        c -= w * layout.lo
      }
      body.push(`    ${target}[${e}] <== ${combination(parts, c).text};`)
    }
  }
  if (mode !== 'hashed') return false
  emitHashes(body, [{ name: prefix, size: total }], cost)
  return true
}

/** The circom source: header comments, includes, the step templates, then main. */
function circuitSource(
  header: string[],
  templates: string[],
  body: string[],
  poseidon: boolean,
  maxChars: number,
): string {
  let chars = 0
  for (const part of [templates, body]) for (const line of part) chars += line.length + 1
  if (chars > maxChars) throw new CircuitSourceTooLargeError({ chars })
  return [
    ...header.map((h) => `// ${h}`),
    'pragma circom 2.1.0;',
    '',
    'include "veriml.circom";',
    ...(poseidon ? ['include "circomlib/circuits/poseidon.circom";'] : []),
    '',
    ...templates,
    'template Model() {',
    ...body,
    '}',
    '',
    'component main = Model();',
    '',
  ].join('\n')
}

/** circomlib's partial rounds of Poseidon with t = n + 1 state elements, t = 2..17 (poseidon.circom N_ROUNDS_P). */
const POSEIDON_PARTIAL_ROUNDS = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]

/**
 * Constraints of circomlib's Poseidon(n) after circom's O1: 8 full rounds of t S-boxes and R
 * partial rounds of one, 3 constraints per S-box (x², x⁴, x⁵), plus the mixing and output
 * linear constraints circom keeps: 3(8t + R) + 15t + R(t + 1) + 1 (415 for n = 1, 2,092 for
 * n = 16, matched against circom's r1cs by test/circuit/direct/gadgets).
 */
export function poseidonConstraints(n: number): number {
  const t = n + 1
  const R = POSEIDON_PARTIAL_ROUNDS[t - 2]
  return 3 * (8 * t + R) + 15 * t + R * (t + 1) + 1
}

/** Poseidon over the packed elements: 16 at first, then 15 more per link with the previous hash first. */
function emitHashes(body: string[], hashes: { name: string; size: number }[], cost: Cost): void {
  for (const { name, size } of hashes) {
    let done = 0
    let link = 0
    let prev: string | null = null
    while (done < size || link === 0) {
      const take = Math.min(size - done, prev === null ? 16 : 15)
      const width = take + (prev === null ? 0 : 1)
      const c = `h${name}${link}`
      body.push(`    component ${c} = Poseidon(${width});`)
      let slot = 0
      if (prev !== null) body.push(`    ${c}.inputs[${slot++}] <== ${prev};`)
      for (let i = 0; i < take; i++) body.push(`    ${c}.inputs[${slot++}] <== ${name}_pk[${done + i}];`)
      cost.hashing += poseidonConstraints(width)
      prev = `${c}.out`
      done += take
      link++
    }
    body.push(`    signal output ${name}_hash;`, `    ${name}_hash <== ${prev};`)
  }
}
