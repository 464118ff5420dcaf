/**
 * Hand-built integer IR models for the optimistic path: a seeded PRNG, dense layers, a tiny
 * MLP and a 784-128-10-style MLP. Shared by bench/optimistic.ts and the tests (test/optimistic/
 * models.ts adds the random models), so benchmarks never import test/.
 */
import type { IrInput, IrModel, LinearOp, PrimitiveOp, RequantOp, Step, TensorInfo } from '../src/ir/types.js'

/** Deterministic PRNG (mulberry32) so failing seeds can be replayed. */
export function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1))
  return {
    next,
    int,
    big: (lo: number, hi: number) => BigInt(int(lo, hi)),
    pick: <T>(xs: readonly T[]) => xs[int(0, xs.length - 1)],
  }
}
export type Rng = ReturnType<typeof rng>

export const quant = { scale: 1, zeroPoint: 0 }

export function inputTensor(id: number, size: number, lo = -128n, hi = 127n): IrInput {
  return { id, name: `in${id}`, shape: [size], quant, lo, hi }
}

export function denseLinear(inputs: number[], inSize: number, outSize: number, r: Rng, w = 127): LinearOp {
  const rowPtr = new Int32Array(outSize + 1)
  const cols: number[] = []
  const vals: bigint[] = []
  for (let j = 0; j < outSize; j++) {
    for (let k = 0; k < inSize; k++) {
      cols.push(k)
      vals.push(r.big(-w, w))
    }
    rowPtr[j + 1] = cols.length
  }
  return {
    op: 'linear',
    inputs,
    rowPtr,
    cols: Int32Array.from(cols),
    vals,
    bias: Array.from({ length: outSize }, () => r.big(-1000, 1000)),
  }
}

export function relu(input: number, mul = 1n, shift = 0): RequantOp {
  return { op: 'requant', inputs: [input], mul, shift, zeroPoint: 0n, lo: 0n, hi: 127n }
}

export function step(id: number, op: PrimitiveOp, size: number): Step {
  const output: TensorInfo = { id, name: `t${id}`, shape: [size] }
  return { origin: `${op.op}_${id}`, op, output }
}

/** input[6] → linear 5 → requant (relu, ×3 >> 4) → linear 3. */
export function tinyModel(): IrModel {
  const r = rng(7)
  return {
    name: 'tiny-mlp',
    inputs: [inputTensor(0, 6)],
    steps: [step(1, denseLinear([0], 6, 5, r), 5), step(2, relu(1, 3n, 4), 5), step(3, denseLinear([2], 5, 3, r), 3)],
    outputs: [{ tensor: 3, name: 'logits', quant }],
  }
}

/** A dense MLP (e.g. 784-128-10) with int8 weights, requant + relu between layers. */
export function mlp(sizes: number[], seed = 1): IrModel {
  const r = rng(seed)
  const steps: Step[] = []
  let prev = 0
  let id = 1
  for (let l = 1; l < sizes.length; l++) {
    steps.push(step(id, denseLinear([prev], sizes[l - 1], sizes[l], r), sizes[l]))
    prev = id++
    if (l < sizes.length - 1) {
      steps.push(step(id, relu(prev, 1n, 8), sizes[l]))
      prev = id++
    }
  }
  return {
    name: `mlp-${sizes.join('-')}`,
    inputs: [inputTensor(0, sizes[0])],
    steps,
    outputs: [{ tensor: prev, name: 'out', quant }],
  }
}
