/**
 * The public part of a direct build, as emitPublic (src/circuit/emit.ts) writes it: inputs,
 * then outputs, each packed into main's outputs `<p>_packed` (public) or into internal
 * `<p>_pk` hashed by a Poseidon chain into main's output `<p>_hash` (hashed); then, with
 * hashed weights, their commitment `wt_hash` (weights.ts), declared last so it is the last
 * public signal.
 */
import type { IrModel, TensorBounds, TensorId } from '../../ir/types.js'
import type { PublicLayout, Visibility } from '../layout.js'
import { type PackLayout, packedElementCount, publicLayouts, publicSignalCount } from '../packing.js'
import type { PoseidonTables } from './gadgets/poseidon-constants.js'
import { hashPart } from './hash.js'
import { type Component, INTERMEDIATE, OUTPUT, type PreCircuit, type Term } from './o1.js'
import type { DirectRef, Terms } from './refs.js'
import { lcValue } from './requant.js'
import type { DirectWeights } from './weights.js'

export interface PublicPartParameters {
  model: IrModel
  bounds: Map<TensorId, TensorBounds>
  visibility: Visibility
}

/** The public part after the steps (emitPublic's order); `tables` non-null whenever something is hashed. */
export function publicPart(
  pc: PreCircuit,
  main: Component,
  p: PublicPartParameters,
  refs: Map<TensorId, DirectRef[]>,
  terms: Terms,
  tables: PoseidonTables | null,
  weights: DirectWeights | null,
): PublicLayout {
  const layouts = publicLayouts(p.model, p.bounds)
  const inTensors = p.model.inputs.map((i, k) => ({ refs: refs.get(i.id)!, layout: layouts.inputs[k] }))
  const outTensors = p.model.outputs.map((o, k) => ({ refs: refs.get(o.tensor)!, layout: layouts.outputs[k] }))
  packPart(pc, main, 'in', inTensors, p.visibility.input, terms, tables)
  packPart(pc, main, 'out', outTensors, p.visibility.output, terms, tables)
  // Declared last, so the weight commitment is the last public signal.
  const weightsLayout = weights?.commit(p.model.name, tables!)
  return {
    visibility: p.visibility,
    inputs: inTensors.map((t) => t.layout),
    outputs: outTensors.map((t) => t.layout),
    count: publicSignalCount({
      input: p.visibility.input,
      inputLayouts: inTensors.map((t) => t.layout),
      output: p.visibility.output,
      outputLayouts: outTensors.map((t) => t.layout),
      weightCommitment: weightsLayout !== undefined,
    }),
    ...(weightsLayout ? { weights: weightsLayout } : {}),
  }
}

/**
 * One part: public, `<prefix>_packed[e] <== Σ_j (v[e·L + j] − lo)·2^(B·j)` as outputs of main;
 * hashed, the same sums into intermediates `<prefix>_pk[e]` and their chain; private, nothing.
 */
function packPart(
  pc: PreCircuit,
  main: Component,
  prefix: string,
  tensors: { refs: DirectRef[]; layout: PackLayout }[],
  mode: 'public' | 'hashed' | 'private',
  terms: Terms,
  tables: PoseidonTables | null,
): void {
  if (mode === 'private') return
  const [rank, name, role] =
    mode === 'public'
      ? ([OUTPUT, `${prefix}_packed`, 'output'] as const)
      : ([INTERMEDIATE, `${prefix}_pk`, 'internal'] as const)
  const elements: number[] = []
  for (const { refs, layout } of tensors) {
    for (let el = 0; el < packedElementCount(layout); el++) {
      const lc: Term[] = []
      for (let j = 0; j < layout.lanesPerElement && el * layout.lanesPerElement + j < layout.count; j++) {
        const w = 1n << BigInt(layout.laneBits * j)
        for (const t of terms(refs[el * layout.lanesPerElement + j]!, w)) lc.push(t)
        lc.push([0, -w * layout.lo])
      }
      const s = pc.signal(main, rank, `${name}[${elements.length}]`, () => lcValue(pc, lc), role)
      pc.linear([...lc, [s, -1n]])
      elements.push(s)
    }
  }
  if (mode === 'hashed') hashPart(pc, main, prefix, elements, tables!)
}
