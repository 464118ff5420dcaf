import { expect } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel, IsqrtOp, MulOp, OpKind, PrimitiveOp, Step } from '../../src/ir/types.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type BuildModelParameters, type NodeSpec, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { f32, ortRun, samples } from '../onnx/ort-diff.js'

/**
 * Helpers of the quantised transformer-op tests (normalization.test.ts, transformer-ops.test.ts):
 * a model through the reference executor against onnxruntime's float output on the calibration
 * samples. Reported: the largest error relative to the output's range over the samples, and how
 * often the argmax of each output row agrees.
 */

export interface Accuracy {
  /** max |quantised − onnxruntime| / (max − min of onnxruntime's output), over every sample. */
  relative: number
  /** Fraction of rows (last axis) whose argmax agrees. */
  argmax: number
  ir: IrModel
  /** Every IR tensor's values, per sample. */
  values: Map<number, bigint[]>[]
}

export const argmax = (v: ArrayLike<number>, from: number, n: number) => {
  let best = from
  for (let i = from; i < from + n; i++) if (v[i] > v[best]) best = i
  return best - from
}

export async function accuracy(params: BuildModelParameters, seed: number, lo = -2, hi = 2): Promise<Accuracy> {
  const bytes = buildModel(params)
  // The primitives as lowered, unfused (elementwise fusion: test/onnx/fuse-elementwise.test.ts).
  const graph = lowerOnnx(parseOnnx(bytes), { fuseElementwise: false })
  const cal = samples(rng(seed), graph.inputs, 32, lo, hi)
  const ir = quantize(graph, cal)
  analyzeBounds(ir) // divisors ≥ 1, roots ≥ 0, lookups in their domain, nothing beyond the field
  const reference = await ortRun(bytes, graph.inputs, cal)
  let err = 0,
    min = Infinity,
    max = -Infinity,
    rows = 0,
    agree = 0
  const values: Map<number, bigint[]>[] = []
  cal.forEach((x, k) => {
    const run = execute(ir, quantizeInputs(ir.inputs, x))
    values.push(run.values)
    const out = run.outputs[0]
    const got = dequantize(out, ir.outputs[0].quant)
    const want = reference[k][0]
    const n = want.dims[want.dims.length - 1]
    want.data.forEach((w, i) => {
      err = Math.max(err, Math.abs(got[i] - w))
      min = Math.min(min, w)
      max = Math.max(max, w)
    })
    for (let r = 0; r < want.data.length; r += n, rows++) agree += Number(argmax(got, r, n) === argmax(want.data, r, n))
  })
  return { relative: err / (max - min), argmax: agree / rows, ir, values }
}

export const kinds = (ir: IrModel): Record<string, number> => {
  const count: Partial<Record<OpKind, number>> = {}
  for (const s of ir.steps) count[s.op.op] = (count[s.op.op] ?? 0) + 1
  return count
}

/** x [rows, C] → block → Gemm [C, 4]: the normalised or soft-maxed values feed a linear layer. */
export function block(
  name: string,
  nodes: NodeSpec[],
  initializers: (TensorSpec & { name: string })[],
  r: () => number,
  opset = 17,
  C = 16,
  rows = 3,
): BuildModelParameters {
  return {
    name,
    opset,
    inputs: [{ name: 'x', shape: [rows, C] }],
    outputs: [{ name: 'y', shape: [rows, 4] }],
    initializers: [...initializers, f32(r, 'w_out', [C, 4]), f32(r, 'b_out', [4], 0.1)],
    nodes: [...nodes, { op: 'Gemm', name: 'out', inputs: ['h', 'w_out', 'b_out'], outputs: ['y'] }],
  }
}

export const gammaBeta = (r: () => number, C = 16) => [
  { name: 'gamma', dims: [C], data: Float32Array.from({ length: C }, () => 0.5 + r()) },
  { name: 'beta', dims: [C], data: Float32Array.from({ length: C }, () => r() - 0.5) },
]

export const decomposedLayerNorm = (opset: number): NodeSpec[] => {
  const axes = opset >= 18 ? { inputs: ['axes'] } : { attributes: { axes: { ints: [-1] } } }
  const mean = (i: string, o: string, n: string): NodeSpec => ({
    op: 'ReduceMean',
    name: n,
    inputs: [i, ...(axes.inputs ?? [])],
    outputs: [o],
    ...(axes.attributes ? { attributes: axes.attributes } : {}),
  })
  return [
    mean('x', 'mu', 'mean'),
    { op: 'Sub', name: 'sub', inputs: ['x', 'mu'], outputs: ['d'] },
    { op: 'Pow', name: 'pow', inputs: ['d', 'two'], outputs: ['d2'] },
    mean('d2', 'var', 'var'),
    { op: 'Add', name: 'add_eps', inputs: ['var', 'eps'], outputs: ['ve'] },
    { op: 'Sqrt', name: 'sqrt', inputs: ['ve'], outputs: ['sd'] },
    { op: 'Div', name: 'div', inputs: ['d', 'sd'], outputs: ['n'] },
    { op: 'Mul', name: 'mul_gamma', inputs: ['n', 'gamma'], outputs: ['ng'] },
    { op: 'Add', name: 'add_beta', inputs: ['ng', 'beta'], outputs: ['h'] },
  ]
}

export const scalars = [
  { name: 'two', dims: [], data: Float32Array.of(2) },
  { name: 'eps', dims: [], data: Float32Array.of(1e-5) },
  { name: 'axes', dims: [1], data: BigInt64Array.of(-1n) },
]

export const stepOf = (ir: IrModel, id: number): Step => ir.steps.find((s) => s.output.id === id)!
export const only = <K extends OpKind>(ir: IrModel, kind: K): Extract<PrimitiveOp, { op: K }> => {
  const found = ir.steps.filter((s) => s.op.op === kind)
  expect(found).toHaveLength(1)
  return found[0].op as Extract<PrimitiveOp, { op: K }>
}
export const report = (what: string, a: Accuracy) =>
  console.log(
    `${what}: max error ${(100 * a.relative).toFixed(2)} % of the output range, argmax ${(100 * a.argmax).toFixed(1)} %, steps ${JSON.stringify(kinds(a.ir))}`,
  )

/**
 * The normalisation rules, checked on the IR: the variance's mean sums the x·x products as they
 * are (no requant between the mul and the linear step), σ keeps 16 bits (its largest value on
 * the samples in [2^15, 2^16)), and the one division per row is a reciprocal (num = -1) followed
 * by one product per element.
 */
export function expectNormalisationRules(a: Accuracy, rows: number, C: number, sigma: 'isqrt'): void {
  const root = a.ir.steps.find((s) => s.op.op === sigma)!
  // The variance is a sum of squares, proven ≥ 0: its scaling is not clamped (no range check).
  expect(stepOf(a.ir, (root.op as IsqrtOp).inputs[0]).op).toMatchObject({ op: 'requant', lo: null, hi: null })
  // From the root's operand back to the x·x products: linear steps only (the mean, + ε), no requant.
  let at = stepOf(a.ir, stepOf(a.ir, (root.op as IsqrtOp).inputs[0]).op.inputs[0])
  const path: OpKind[] = []
  while (at.op.op === 'linear') {
    path.push(at.op.op)
    at = stepOf(a.ir, at.op.inputs[0])
  }
  expect([...path, at.op.op]).toEqual(['linear', 'linear', 'mul'])
  const largest = a.values.reduce((m, v) => v.get(root.output.id)!.reduce((mm, x) => (x > mm ? x : mm), m), 0n)
  expect(largest >= 1n << 15n && largest < 1n << 16n).toBe(true)
  const div = only(a.ir, 'div')
  expect(div.num.length).toBe(rows)
  expect(div.num.every((n) => n === -1)).toBe(true)
  const products = a.ir.steps.filter(
    (s) => s.op.op === 'mul' && s.op.inputs.includes(a.ir.steps.find((t) => t.op === div)!.output.id),
  )
  expect(products.map((s) => (s.op as MulOp).left.length)).toEqual([rows * C])
}
