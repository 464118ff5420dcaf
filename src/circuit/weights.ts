/**
 * Private, Poseidon-committed weights (`--weights hashed`): the baseline veriml's default
 * weights-as-circuit-constants is measured against.
 *
 * With hashed weights every linear op's weights and biases are private witness inputs
 * `w<id>[nnz]` and `b<id>[rows]` (id = the step's output tensor id). Each product
 * weight · activation is one multiplication constraint; the sparsity pattern (rowPtr, cols)
 * stays public, as part of the circuit. One extra public signal, the last one, `wt_hash`,
 * is a Poseidon commitment to all the values, in this fixed order:
 *
 *   for each linear step, in model order:  its weights in CSR order (k = 0 .. nnz-1),
 *                                          then its biases (row 0 .. rows-1)
 *
 * Each of these tensors is packed on its own (no element straddles two tensors) with a
 * signed lane layout of B bits, lane = v + 2^(B-1) ∈ [0, 2^B) (B from the tensor's largest
 * magnitude: the circuit reveals only the bit width), and the packed elements of all
 * tensors are hashed with the same Poseidon chain as hashed inputs (public.ts `hashChain`).
 *
 * Why pack, and why that needs range checks: hashing each value as its own field element
 * costs a Poseidon permutation per 15 values (~45 constraints a weight); packing 252/B
 * lanes per element costs B + 1 (a Num2Bits range check of the lane) plus ~1.5 for the
 * hash at B = 8 — about 4× cheaper. The range check is what makes packing unambiguous: with
 * every lane in [0, 2^B) and lanesPerElement·B ≤ 252 < log2(p), an element determines its
 * lanes uniquely (no carry between lanes, no wrap mod p), so a commitment determines the
 * weights. Without it, lane j + 2^B and lane j+1 − 1 would pack to the same element.
 *
 * Why no other range check is needed: the bounds analysis (src/ir/bounds.ts) that sizes
 * every requant gadget was computed for the committed weights. The verifier checks the
 * commitment signal against the one in the manifest (or the registry), and Poseidon is
 * collision resistant, so a proof that verifies used exactly those weights: every
 * intermediate value then lies inside its proven bounds, as with constant weights.
 */
import type { IrModel, LinearOp, TensorId } from '../ir/types.js'
import { BaseError, type BaseErrorParameters } from '../errors.js'
import type { WeightsLayout } from './layout.js'
import { append, balancedSum, type Ref } from './lc.js'
import { type PackLayout, pack, packedElementCount, packLayout } from './packing.js'
import { hashChain } from './public.js'

/** `--weights hashed` on a model with no linear op: there is nothing to make private. */
export class NoWeightsError extends BaseError {
  override name = 'NoWeightsError'
  readonly model: string
  constructor({ model, details = [], cause }: { model: string } & BaseErrorParameters) {
    super(`model "${model}" has no linear op, so it has no weights to commit to`, {
      details: ['Compile it with --weights constant.', ...details],
      cause,
    })
    this.model = model
  }
}

/** One committed tensor: the weights or the biases of one linear step. */
export interface CommittedTensor {
  /** Witness input name: w<id> (weights) or b<id> (biases). */
  name: string
  values: bigint[]
  layout: PackLayout
}

/** Signed lanes of B bits: B covers every value as v + 2^(B-1) ∈ [0, 2^B). */
export function signedLaneLayout(values: readonly bigint[]): PackLayout {
  let bits = 1
  for (const v of values) {
    const m = v < 0n ? -v - 1n : v
    const b = m === 0n ? 1 : m.toString(2).length + 1
    if (b > bits) bits = b
  }
  const half = 1n << BigInt(bits - 1)
  return packLayout(values.length, -half, half - 1n)
}

/** The committed tensors of one linear step (a step without weights has no w<id>). */
function stepTensors(op: LinearOp, id: TensorId): CommittedTensor[] {
  return [
    { name: `w${id}`, values: [...op.vals] },
    { name: `b${id}`, values: [...op.bias] },
  ]
    .filter((t) => t.values.length > 0)
    .map((t) => ({ ...t, layout: signedLaneLayout(t.values) }))
}

/** The committed tensors of a model, in commitment order. */
export function committedTensors(model: IrModel): CommittedTensor[] {
  return model.steps.flatMap((s) => (s.op.op === 'linear' ? stepTensors(s.op, s.output.id) : []))
}

/** The witness generator's weight inputs, by signal name (hashed weights only). */
export function weightInputs(model: IrModel): Record<string, bigint[]> {
  return Object.fromEntries(committedTensors(model).map((t) => [t.name, t.values]))
}

/** The public weight commitment the circuit computes, for the model's own weights. */
export async function weightCommitment(model: IrModel): Promise<bigint> {
  return hashChain(committedTensors(model).flatMap((t) => pack(t.values, t.layout)))
}

/** Lines of an affine ref mul·sig + add as circom text (sig non-null). */
function affineText(r: Ref): string {
  const s = r.mul === 1n ? r.sig! : `(${r.mul})*${r.sig}`
  return r.add === 0n ? s : `${s} + (${r.add})`
}

export interface PrivateWeightsEmitter {
  /** Emits one linear op over private weights; returns the refs of its outputs. */
  linear(op: LinearOp, x: Ref[], id: TensorId): Ref[]
  /** Emits the range checks and the packed elements `wt_pk` of every weight seen (throws NoWeightsError when none). */
  commit(model: string): WeightsLayout
}

/**
 * Emission of linear ops over private weights and of the weights' packed elements, into
 * `body`. Constraint counts go to `cost.weights` (products, sums, range checks, packing); the
 * caller hashes `wt_pk` (emitHashes) so the commitment chain is the one hashed inputs use.
 */
export function privateWeightsEmitter(body: string[], cost: { weights: number }): PrivateWeightsEmitter {
  const tensors: CommittedTensor[] = []
  return {
    linear(op, x, id) {
      const rows = op.bias.length
      const mine = stepTensors(op, id)
      tensors.push(...mine)
      for (const t of mine) body.push(`    signal input ${t.name}[${t.values.length}];`)
      body.push(`    signal l${id}[${rows}];`)
      const products: string[] = []
      const lines: string[] = []
      for (let j = 0; j < rows; j++) {
        const terms: string[] = [`b${id}[${j}]`]
        for (let k = op.rowPtr[j]; k < op.rowPtr[j + 1]; k++) {
          const r = x[op.cols[k]]
          if (r.sig === null || r.mul === 0n) {
            // A constant operand c: w·c is linear in the weight signal, no multiplication.
            if (r.add !== 0n) terms.push(r.add === 1n ? `w${id}[${k}]` : `(${r.add})*w${id}[${k}]`)
            continue
          }
          const p = `wp${id}[${products.length}]`
          products.push(`    ${p} <== w${id}[${k}] * (${affineText(r)});`)
          terms.push(p)
        }
        lines.push(`    l${id}[${j}] <== ${balancedSum(terms)};`)
      }
      if (products.length > 0) {
        body.push(`    signal wp${id}[${products.length}];`)
        append(body, products)
      }
      append(body, lines)
      cost.weights += products.length + rows
      return Array.from({ length: rows }, (_, j) => ({ sig: `l${id}[${j}]`, mul: 1n, add: 0n }))
    },
    commit(model) {
      const total = tensors.reduce((s, t) => s + packedElementCount(t.layout), 0)
      if (total === 0) throw new NoWeightsError({ model })
      body.push(`    signal wt_pk[${total}];`)
      let at = 0
      let values = 0
      for (const { name, layout } of tensors) {
        const n = layout.count
        const B = layout.laneBits
        const L = layout.lanesPerElement
        const half = -layout.lo
        // The range check that makes the packing unambiguous (see the file comment).
        body.push(
          `    component ${name}rc[${n}];`,
          `    for (var i = 0; i < ${n}; i++) {`,
          `        ${name}rc[i] = Num2Bits(${B});`,
          `        ${name}rc[i].in <== ${name}[i] + ${half};`,
          '    }',
          // Element e = Σ_j lane[e·L + j] · 2^(B·j), as packing.ts: at most 252 / B terms.
          `    for (var e = 0; e < ${packedElementCount(layout)}; e++) {`,
          '        var acc = 0;',
          `        for (var j = 0; j < ${L} && e * ${L} + j < ${n}; j++) { acc += (${name}[e * ${L} + j] + ${half}) * (2 ** (${B} * j)); }`,
          `        wt_pk[${at} + e] <== acc;`,
          '    }',
        )
        cost.weights += n * (B + 1) + packedElementCount(layout)
        at += packedElementCount(layout)
        values += n
      }
      return { values, elements: total }
    },
  }
}
