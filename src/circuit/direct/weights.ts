/**
 * Hashed (private, Poseidon-committed) weights built directly: src/circuit/weights.ts
 * `privateWeightsEmitter` transcribed into the pre-O1 circuit, with the same signals, names,
 * declaration order and constraints (see that file for why the lanes are range-checked):
 * - per linear step, main's private inputs `w<id>[nnz]`, `b<id>[rows]` (values: the model's
 *   own, `committedTensors`), intermediates `l<id>[rows]` then `wp<id>[products]`, each product
 *   `wp <== w[k]·x` one constraint, each sum `l[j] <== b[j] + Σ …` one linear constraint;
 * - at the end (`commit`), `wt_pk`, per tensor the lane range checks `<name>rc[i]` =
 *   Num2Bits(B) of `<name>[i] + 2^(B−1)` and the packed elements, then the chain into `wt_hash`.
 * Steps stay in main (no step templates), as emitSteps does with private weights.
 */
import type { IrModel, LinearOp, TensorId } from '../../ir/types.js'
import type { WeightsLayout } from '../layout.js'
import { packedElementCount } from '../packing.js'
import { type CommittedTensor, committedTensors, NoWeightsError } from '../weights.js'
import type { PoseidonTables } from './gadgets/poseidon-constants.js'
import { type Component, INPUT, INTERMEDIATE, type PreCircuit, type Term } from './o1.js'
import { hashPart } from './hash.js'
import type { DirectRef, Terms } from './refs.js'
import { lcValue, num2Bits } from './requant.js'

export interface DirectWeights {
  /** One linear op over private weights (signals of main); the refs of its outputs `l<id>[j]`. */
  linear(op: LinearOp, x: DirectRef[], id: TensorId): DirectRef[]
  /** Range checks, `wt_pk` and the chain into `wt_hash` over every weight seen (NoWeightsError when none). */
  commit(model: string, tables: PoseidonTables): WeightsLayout
}

/** The private-weights part of a build whose steps are all in `main`. */
export function directWeights(pc: PreCircuit, main: Component, model: IrModel, terms: Terms): DirectWeights {
  const byName = new Map(committedTensors(model).map((t) => [t.name, t]))
  /** The committed tensors seen so far, in commitment order, with their input signals. */
  const seen: { tensor: CommittedTensor; sigs: number[] }[] = []
  const inputs = (name: string): number[] => {
    const tensor = byName.get(name)
    if (!tensor) return []
    const sigs = tensor.values.map((v, i) => pc.signal(main, INPUT, `${name}[${i}]`, () => v, 'privateInput'))
    seen.push({ tensor, sigs })
    return sigs
  }
  return {
    linear(op, x, id) {
      const w = inputs(`w${id}`)
      const b = inputs(`b${id}`)
      const rows = op.bias.length
      // l<id> then wp<id>: circom labels each array at its declaration, l first.
      const isProduct = (k: number) => x[op.cols[k]!]!.sig !== null && x[op.cols[k]!]!.mul !== 0n
      let products = 0
      for (let k = 0; k < op.vals.length; k++) if (isProduct(k)) products++
      const base = main.declared[INTERMEDIATE]
      main.declared[INTERMEDIATE] += rows + products
      let p = 0
      return Array.from({ length: rows }, (_, j): DirectRef => {
        const lc: Term[] = [[b[j]!, 1n]]
        for (let k = op.rowPtr[j]!; k < op.rowPtr[j + 1]!; k++) {
          const r = x[op.cols[k]!]!
          if (!isProduct(k)) {
            // A constant operand c: c·w is linear in the weight signal, no multiplication.
            if (r.add !== 0n) lc.push([w[k]!, r.add])
            continue
          }
          const rx = terms(r, 1n)
          const name = `wp${id}[${p}]`
          const wp = pc.signal(
            main,
            INTERMEDIATE,
            name,
            () => pc.value(w[k]!) * lcValue(pc, rx),
            'internal',
            base + rows + p++,
          )
          pc.quadratic([[w[k]!, 1n]], rx, [[wp, 1n]])
          lc.push([wp, 1n])
        }
        const l = pc.signal(main, INTERMEDIATE, `l${id}[${j}]`, () => lcValue(pc, lc), 'internal', base + j)
        pc.linear([...lc, [l, -1n]])
        return { sig: l, mul: 1n, add: 0n }
      })
    },
    commit(modelName, tables) {
      const total = seen.reduce((s, t) => s + packedElementCount(t.tensor.layout), 0)
      if (total === 0) throw new NoWeightsError({ model: modelName })
      const elements: number[] = []
      let values = 0
      for (const { tensor, sigs } of seen) {
        const { laneBits: B, lanesPerElement: L, count: n } = tensor.layout
        const half = -tensor.layout.lo
        // The range check that makes the packing unambiguous (src/circuit/weights.ts).
        for (const [i, s] of sigs.entries()) {
          const t: Term[] = [
            [s, 1n],
            [0, half],
          ]
          num2Bits(pc, main, `${tensor.name}rc[${i}]`, B, { terms: t, value: () => lcValue(pc, t) })
        }
        for (let e = 0; e < packedElementCount(tensor.layout); e++) {
          const lc: Term[] = []
          for (let j = 0; j < L && e * L + j < n; j++) {
            const k = 1n << BigInt(B * j)
            lc.push([sigs[e * L + j]!, k], [0, half * k])
          }
          const pk = pc.signal(main, INTERMEDIATE, `wt_pk[${elements.length}]`, () => lcValue(pc, lc))
          pc.linear([...lc, [pk, -1n]])
          elements.push(pk)
        }
        values += n
      }
      hashPart(pc, main, 'wt', elements, tables)
      return { values, elements: total }
    },
  }
}
