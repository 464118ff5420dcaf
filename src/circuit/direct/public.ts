/**
 * The public part of a direct build: inputs and outputs packed as emitPublic (src/circuit/emit.ts)
 * packs them, into main's outputs `in_packed` / `out_packed`.
 */
import type { IrModel, TensorBounds, TensorId } from '../../ir/types.js'
import { tensorRange } from '../emit.js'
import type { PublicLayout, Visibility } from '../layout.js'
import { type PackLayout, packedElementCount, packLayout, publicSignalCount } from '../packing.js'
import { type Component, OUTPUT, type PreCircuit, type Term } from './o1.js'
import type { DirectRef, Terms } from './refs.js'
import { lcValue } from './requant.js'

export /** in_packed / out_packed as emitPublic writes them (public and private parts only). */
function publicPart(
  pc: PreCircuit,
  main: Component,
  p: { model: IrModel; bounds: Map<TensorId, TensorBounds>; visibility: Visibility },
  refs: Map<TensorId, DirectRef[]>,
  terms: Terms,
): PublicLayout {
  const inTensors = p.model.inputs.map((i) => ({
    refs: refs.get(i.id)!,
    layout: packLayout(refs.get(i.id)!.length, i.lo, i.hi),
  }))
  const outTensors = p.model.outputs.map((o) => {
    const [lo, hi] = tensorRange(p.bounds.get(o.tensor)!)
    return { refs: refs.get(o.tensor)!, layout: packLayout(refs.get(o.tensor)!.length, lo, hi) }
  })
  if (p.visibility.input === 'public') packPart(pc, main, 'in', inTensors, terms)
  packPart(pc, main, 'out', outTensors, terms)
  return {
    visibility: p.visibility,
    inputs: inTensors.map((t) => t.layout),
    outputs: outTensors.map((t) => t.layout),
    count: publicSignalCount({
      input: p.visibility.input,
      inputLayouts: inTensors.map((t) => t.layout),
      output: p.visibility.output,
      outputLayouts: outTensors.map((t) => t.layout),
      weightCommitment: false,
    }),
  }
}

/** `<prefix>_packed[e] <== Σ_j (v[e·L + j] − lo)·2^(B·j)`: outputs of main, the public signals. */
function packPart(
  pc: PreCircuit,
  main: Component,
  prefix: string,
  tensors: { refs: DirectRef[]; layout: PackLayout }[],
  terms: Terms,
): void {
  let e = 0
  for (const { refs, layout } of tensors) {
    for (let el = 0; el < packedElementCount(layout); el++, e++) {
      const lc: Term[] = []
      for (let j = 0; j < layout.lanesPerElement && el * layout.lanesPerElement + j < layout.count; j++) {
        const w = 1n << BigInt(layout.laneBits * j)
        for (const t of terms(refs[el * layout.lanesPerElement + j]!, w)) lc.push(t)
        lc.push([0, -w * layout.lo])
      }
      const s = pc.signal(main, OUTPUT, `${prefix}_packed[${e}]`, () => lcValue(pc, lc), 'output')
      pc.linear([...lc, [s, -1n]])
    }
  }
}
