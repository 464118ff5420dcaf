import { describe, expect, it } from 'vitest'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import { irFromJson, irToJson } from '../../src/ir/serialize.js'
import type { IrModel, LookupOp, RequantOp, Step } from '../../src/ir/types.js'
import { sigmoid } from '../../src/onnx/ops/activation.js'
import { type FloatGraph, executeFloat } from '../../src/onnx/graph.js'
import { lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { type AttributeSpec, type BuildModelParameters, buildModel } from '../../src/onnx/write.js'
import { dequantize, quantizeInputs } from '../../src/quantize/input.js'
import { onnxOutputs, outputProbabilities } from '../../src/quantize/postprocess.js'
import { LookupTableError } from '../../src/quantize/nonlinear.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { type OrtOutput, f32, ortRun, samples } from '../onnx/ort-diff.js'

/**
 * The quantised integer model (reference executor, dequantised) against onnxruntime's float
 * output. Test inputs are calibration samples, so no activation saturates beyond its
 * calibrated range, and every tolerance below is a bound derived from the scales in the IR:
 *   - the input is rounded to its scale Δx: error ≤ Δx/2;
 *   - a lookup's input activation (scale Δin) is within Δin/2 of the accumulator it requantises
 *     (clamping into a domain that holds the true value never increases the error);
 *   - a table entry is round(f(q·Δin)/Δout): within Δout/2 of f at its input, and f is
 *     L-Lipschitz (sigmoid 1/4, tanh 1, LeakyRelu max(1, |alpha|), HardSigmoid |alpha|);
 *   - max is 1-Lipschitz in the largest elementwise error;
 *   - softmax moves by at most 1/2, log-softmax by at most 2, times the largest logit error.
 * Plus 1e-5 for onnxruntime's float32 arithmetic.
 */
const FLOAT32_SLACK = 1e-5

interface Run {
  bytes: Uint8Array
  graph: FloatGraph
  ir: IrModel
  xs: Float64Array[][]
  reference: OrtOutput[][]
  got: number[][][]
  values: Map<number, bigint[]>[]
}

async function quantised(
  params: BuildModelParameters,
  seed: number,
  { lo = -1, hi = 1, calibration = 48, tests = 8, finalSoftmax = 'probabilities' as 'probabilities' | 'logits' } = {},
): Promise<Run> {
  const bytes = buildModel(params)
  const graph = lowerOnnx(parseOnnx(bytes), { finalSoftmax })
  const cal = samples(rng(seed), graph.inputs, calibration, lo, hi)
  const ir = quantize(graph, cal)
  analyzeBounds(ir) // every lookup input inside its table's domain, or this throws
  const xs = cal.slice(0, tests)
  const reference = await ortRun(bytes, graph.inputs, xs)
  const runs = xs.map((x) => execute(ir, quantizeInputs(ir.inputs, x)))
  const got = runs.map((r) => r.outputs.map((o, k) => dequantize(o, ir.outputs[k].quant)))
  return { bytes, graph, ir, xs, reference, got, values: runs.map((r) => r.values) }
}

const stepOf = (ir: IrModel, id: number): Step => ir.steps.find((s) => s.output.id === id)!
const lookups = (ir: IrModel) => ir.steps.filter((s): s is Step & { op: LookupOp } => s.op.op === 'lookup')
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** Real scale of a tensor: the input's, or from the requant that made it (scale_in · 2^shift / mul). */
function scaleOf(ir: IrModel, id: number, accScale: number): number {
  const input = ir.inputs.find((i) => i.id === id)
  if (input) return input.quant.scale
  const op = stepOf(ir, id).op as RequantOp
  return (accScale * 2 ** op.shift) / Number(op.mul)
}

const UNARY: { op: string; attributes: Record<string, AttributeSpec>; lipschitz: number }[] = [
  { op: 'Sigmoid', attributes: {}, lipschitz: 0.25 },
  { op: 'Tanh', attributes: {}, lipschitz: 1 },
  { op: 'LeakyRelu', attributes: { alpha: { float: 0.25 } }, lipschitz: 1 },
  { op: 'HardSigmoid', attributes: { alpha: { float: 0.3 }, beta: { float: 0.45 } }, lipschitz: 0.3 },
]

describe('unary ops as lookup tables', () => {
  it.each(
    UNARY.flatMap((u) =>
      [
        [-4, 4],
        [0, 3],
      ].map(([lo, hi]) => [`${u.op} on inputs in [${lo}, ${hi})`, u, lo, hi] as const),
    ),
  )('%s: within L·Δx/2 + Δout/2 of onnxruntime', async (_, u, lo, hi) => {
    const { ir, reference, got } = await quantised(
      {
        name: u.op,
        inputs: [{ name: 'x', shape: [2, 16] }],
        outputs: [{ name: 'y', shape: [2, 16] }],
        nodes: [{ op: u.op, name: 'act', inputs: ['x'], outputs: ['y'], attributes: u.attributes }],
      },
      600,
      { lo, hi },
    )
    // The input is already an activation: signed inputs take 256 values, unsigned ones 256 from 0.
    const [step] = lookups(ir)
    expect(ir.steps).toEqual([step])
    expect(step.op.table).toHaveLength(256)
    expect(step.op.offset).toBe(lo < 0 ? -128n : 0n)
    const tolerance = (u.lipschitz * ir.inputs[0].quant.scale) / 2 + ir.outputs[0].quant.scale / 2 + FLOAT32_SLACK
    for (let k = 0; k < got.length; k++)
      expect(maxAbsDiff(got[k][0], reference[k][0].data)).toBeLessThanOrEqual(tolerance)
  })

  it('sizes the table to its input: after a ReLU the domain is [0, 127], 128 entries', async () => {
    const { ir, reference, got } = await quantised(
      {
        name: 'relu-tanh',
        inputs: [{ name: 'x', shape: [1, 32] }],
        outputs: [{ name: 'y', shape: [1, 32] }],
        nodes: [
          { op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['r'] },
          { op: 'Tanh', name: 'tanh', inputs: ['r'], outputs: ['y'] },
        ],
      },
      610,
      { lo: -2, hi: 2 },
    )
    const [step] = lookups(ir)
    expect([step.op.offset, step.op.table.length]).toEqual([0n, 128])
    const tolerance = ir.inputs[0].quant.scale / 2 + ir.outputs[0].quant.scale / 2 + FLOAT32_SLACK
    for (let k = 0; k < got.length; k++)
      expect(maxAbsDiff(got[k][0], reference[k][0].data)).toBeLessThanOrEqual(tolerance)
  })

  it('picks the finest output exp that fits the calibrated range (sigmoid over [-4, 4): 2^7, entries up to 127)', async () => {
    const { ir } = await quantised(
      {
        name: 's',
        inputs: [{ name: 'x', shape: [64] }],
        outputs: [{ name: 'y', shape: [64] }],
        nodes: [{ op: 'Sigmoid', name: 's', inputs: ['x'], outputs: ['y'] }],
      },
      620,
      { lo: -4, hi: 4 },
    )
    const [step] = lookups(ir)
    expect(ir.outputs[0].quant.scale).toBe(2 ** -7)
    // The table is monotone, reaches the top of the domain and is exact at every entry.
    const inScale = ir.inputs[0].quant.scale
    step.op.table.forEach((t, i) =>
      expect(t).toBe(BigInt(Math.min(127, Math.round(sigmoid((i - 128) * inScale) * 128)))),
    )
    expect(step.op.table[255]).toBe(127n)
  })

  it.each(UNARY.map((u) => [u.op, u] as const))(
    'Gemm → %s: the lookup reads the requantised accumulator (256 entries)',
    async (_, u) => {
      const r = rng(630)
      const { ir, reference, got, values } = await quantised(
        {
          name: 'gemm-act',
          inputs: [{ name: 'x', shape: [1, 8] }],
          outputs: [
            { name: 'z', shape: [1, 6] },
            { name: 'y', shape: [1, 6] },
          ],
          initializers: [f32(r, 'w', [8, 6]), f32(r, 'b', [6], 0.5)],
          nodes: [
            { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['z'] },
            { op: u.op, name: 'act', inputs: ['z'], outputs: ['y'], attributes: u.attributes },
          ],
        },
        631,
        { lo: -2, hi: 2 },
      )
      const [step] = lookups(ir)
      expect(step.op.table).toHaveLength(256)
      expect(stepOf(ir, step.op.inputs[0]).op.op).toBe('requant')
      const inScale = scaleOf(ir, step.op.inputs[0], ir.outputs[0].quant.scale)
      // The requant clamps where the table stops varying (src/quantize/lookup-clamps.ts): clamping
      // is 1-Lipschitz, so the pre-activation clamped there is what the lookup's input tracks.
      const req = stepOf(ir, step.op.inputs[0]).op as RequantOp
      const [cLo, cHi] = [Number(req.lo) * inScale, Number(req.hi) * inScale]
      for (let k = 0; k < got.length; k++) {
        // The lookup's input against onnxruntime's pre-activation: the accumulator's error plus the requant rounding.
        const q = values[k].get(step.op.inputs[0])!.map((v) => Number(v) * inScale)
        const zErr = maxAbsDiff(got[k][0], reference[k][0].data)
        const clamped = Array.from(reference[k][0].data, (v) => Math.min(Math.max(v, cLo), cHi))
        expect(maxAbsDiff(q, clamped)).toBeLessThanOrEqual(zErr + inScale / 2 + FLOAT32_SLACK)
        expect(maxAbsDiff(got[k][1], reference[k][1].data)).toBeLessThanOrEqual(
          u.lipschitz * (zErr + inScale / 2) + ir.outputs[1].quant.scale / 2 + FLOAT32_SLACK,
        )
      }
    },
  )
})

describe('lookup table limits', () => {
  it('refuses a table over more than 2^16 input values (17-bit activations), naming the step', () => {
    const graph = lowerOnnx(
      parseOnnx(
        buildModel({
          name: 'wide',
          inputs: [{ name: 'x', shape: [4] }],
          outputs: [{ name: 'y', shape: [4] }],
          nodes: [{ op: 'Tanh', name: 'tanh', inputs: ['x'], outputs: ['y'] }],
        }),
      ),
    )
    const cal = samples(rng(690), graph.inputs, 4)
    expect(() => quantize(graph, cal, { activationBits: 17 })).toThrow(LookupTableError)
    expect(() => quantize(graph, cal, { activationBits: 17 })).toThrow(
      /step "tanh" \(Tanh\): its input takes 131072 integer values, more than the 65536/,
    )
    expect(lookups(quantize(graph, cal, { activationBits: 12 }))[0].op.table).toHaveLength(4096)
  })
})

describe('MaxPool as an IR max', () => {
  it('on the input: max of rounded values is the rounded max, within Δx/2', async () => {
    const { ir, reference, got } = await quantised(
      {
        name: 'pool',
        inputs: [{ name: 'x', shape: [1, 2, 6, 6] }],
        outputs: [{ name: 'y', shape: [1, 2, 3, 3] }],
        nodes: [
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['x'],
            outputs: ['y'],
            attributes: { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 0, 0] } },
          },
        ],
      },
      640,
    )
    expect(ir.steps.map((s) => s.op.op)).toEqual(['max'])
    expect(ir.outputs[0].quant).toEqual(ir.inputs[0].quant)
    for (let k = 0; k < got.length; k++)
      expect(maxAbsDiff(got[k][0], reference[k][0].data)).toBeLessThanOrEqual(
        ir.inputs[0].quant.scale / 2 + FLOAT32_SLACK,
      )
  })

  it('Conv → MaxPool: requant to the activation, then max; within the conv error plus Δ/2', async () => {
    const r = rng(650)
    const { ir, reference, got } = await quantised(
      {
        name: 'conv-pool',
        inputs: [{ name: 'x', shape: [1, 2, 6, 6] }],
        outputs: [
          { name: 'c', shape: [1, 3, 4, 4] },
          { name: 'y', shape: [1, 3, 2, 2] },
        ],
        initializers: [f32(r, 'w', [3, 2, 3, 3]), f32(r, 'b', [3])],
        nodes: [
          { op: 'Conv', name: 'conv', inputs: ['x', 'w', 'b'], outputs: ['c'] },
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['c'],
            outputs: ['y'],
            attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
          },
        ],
      },
      651,
    )
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'requant', 'max'])
    const actScale = ir.outputs[1].quant.scale
    for (let k = 0; k < got.length; k++) {
      const convErr = maxAbsDiff(got[k][0], reference[k][0].data)
      expect(maxAbsDiff(got[k][1], reference[k][1].data)).toBeLessThanOrEqual(convErr + actScale / 2 + FLOAT32_SLACK)
    }
  })

  it('Concat(x, Relu(5·x)) → MaxPool: one max over both operands, the finer rescaled; within the operand rounding of onnxruntime', async () => {
    const { ir, reference, got } = await quantised(
      {
        name: 'cat-pool',
        inputs: [{ name: 'x', shape: [1, 1, 4, 4] }],
        outputs: [{ name: 'y', shape: ['n', 'c', 'h', 'w'] }],
        initializers: [{ name: 'five', dims: [], data: Float32Array.of(5) }],
        nodes: [
          { op: 'Mul', name: 'mul', inputs: ['x', 'five'], outputs: ['m'] },
          { op: 'Relu', name: 'relu', inputs: ['m'], outputs: ['r'] },
          { op: 'Concat', name: 'cat', inputs: ['x', 'r'], outputs: ['c'], attributes: { axis: { int: 3 } } },
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['c'],
            outputs: ['y'],
            attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
          },
        ],
      },
      655,
    )
    expect(ir.steps.map((st) => st.op.op)).toEqual(['linear', 'requant', 'requant', 'max'])
    const max = ir.steps[3].op
    expect(max.inputs).toEqual([ir.steps[2].output.id, ir.steps[1].output.id])
    // Operand x: its rounding Δx/2 plus the rescale's Δ/2. Operand relu(5x): five times x's rounding
    // (the weight 5 is exact) plus its requant's Δ/2. The max is within the larger of the two.
    const coarse = ir.outputs[0].quant.scale,
      dx = ir.inputs[0].quant.scale
    expect(coarse).toBeGreaterThan(dx)
    for (let k = 0; k < got.length; k++)
      expect(maxAbsDiff(got[k][0], reference[k][0].data)).toBeLessThanOrEqual((5 * dx) / 2 + coarse / 2 + FLOAT32_SLACK)
  })

  it('QDQ: DequantizeLinear → MaxPool → QuantizeLinear is exact, the max reads the int8 values', async () => {
    const { ir, reference, got } = await quantised(
      {
        name: 'qdq-pool',
        inputs: [{ name: 'x', shape: [1, 2, 4, 4] }],
        outputs: [{ name: 'y', shape: ['n', 'c', 'h', 'w'] }],
        initializers: [
          { name: 's', dims: [], data: Float32Array.of(0.0123) },
          { name: 'z', dims: [], data: Int8Array.of(3) },
        ],
        nodes: [
          { op: 'QuantizeLinear', name: 'q1', inputs: ['x', 's', 'z'], outputs: ['xq'] },
          { op: 'DequantizeLinear', name: 'dq1', inputs: ['xq', 's', 'z'], outputs: ['xd'] },
          {
            op: 'MaxPool',
            name: 'pool',
            inputs: ['xd'],
            outputs: ['p'],
            attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
          },
          { op: 'QuantizeLinear', name: 'q2', inputs: ['p', 's', 'z'], outputs: ['pq'] },
          { op: 'DequantizeLinear', name: 'dq2', inputs: ['pq', 's', 'z'], outputs: ['y'] },
        ],
      },
      657,
      { calibration: 16 },
    )
    // The per-tensor dequantisation is increasing, so it commutes with the max: no requant before it.
    expect(ir.steps[0].op).toMatchObject({ op: 'max', inputs: [ir.inputs[0].id] })
    // Only float32 rounding of onnxruntime's dequantised output separates the two.
    for (let k = 0; k < got.length; k++) expect(maxAbsDiff(got[k][0], reference[k][0].data)).toBeLessThanOrEqual(1e-6)
  })

  it('operands at different scales are rescaled to the coarsest first', () => {
    // A float graph with a two-input max (the ONNX lowering materialises one input, but the step allows several).
    const graph: FloatGraph = {
      name: 'two-scales',
      inputs: [
        { id: 0, name: 'a', shape: [4] },
        { id: 1, name: 'b', shape: [4] },
      ],
      steps: [
        {
          origin: 'max',
          id: 2,
          shape: [4],
          op: {
            kind: 'max',
            inputs: [0, 1],
            rowPtr: Int32Array.of(0, 2, 4, 6, 8),
            cols: Int32Array.of(0, 4, 1, 5, 2, 6, 3, 7),
          },
        },
      ],
      outputs: [{ id: 2, name: 'y' }],
    }
    const r = rng(660)
    const cal = Array.from({ length: 32 }, () => [
      Float64Array.from({ length: 4 }, () => r() * 2 - 1),
      Float64Array.from({ length: 4 }, () => (r() * 2 - 1) * 8),
    ])
    const ir = quantize(graph, cal)
    // a is finer than b (8 times smaller range): a is rescaled by a shift to b's exp, the max is at b's scale.
    const [ea, eb] = ir.inputs.map((i) => -Math.log2(i.quant.scale))
    expect(ea - eb).toBeGreaterThanOrEqual(3)
    expect(ir.steps.map((s) => [s.output.name, s.op.op])).toEqual([
      ['max:rescale', 'requant'],
      ['max:max', 'max'],
    ])
    expect(ir.steps[0].op).toMatchObject({ inputs: [ir.inputs[0].id], mul: 1n, shift: ea - eb, lo: null, hi: null })
    expect(ir.steps[1].op).toMatchObject({ inputs: [ir.steps[0].output.id, ir.inputs[1].id] })
    expect(ir.outputs[0].quant.scale).toBe(2 ** -eb)
    // Each operand: its own rounding (≤ 2^-eb / 2) plus, for a, the rescale's (2^-eb / 2).
    for (const x of cal) {
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
      expect(maxAbsDiff(got, executeFloat(graph, x).get(2)!)).toBeLessThanOrEqual(2 ** -eb)
    }
  })
})

describe("Softmax as the final op, proven as logits (finalSoftmax: 'logits')", () => {
  it.each(['Softmax', 'LogSoftmax'] as const)(
    'Gemm → %s: the IR outputs the logits with the note; probabilities within the logit error bound',
    async (op) => {
      const r = rng(670)
      const { ir, reference, got } = await quantised(
        {
          name: 'classifier',
          inputs: [{ name: 'x', shape: [1, 10] }],
          outputs: [
            { name: 'logits', shape: [1, 5] },
            { name: 'p', shape: [1, 5] },
          ],
          initializers: [f32(r, 'w', [10, 5]), f32(r, 'b', [5])],
          nodes: [
            { op: 'Gemm', name: 'fc', inputs: ['x', 'w', 'b'], outputs: ['logits'] },
            { op, name: 'sm', inputs: ['logits'], outputs: ['p'] },
          ],
        },
        671,
        { finalSoftmax: 'logits' },
      )
      // The proven output is the accumulator itself; the note rides on the IR output and its JSON.
      expect(ir.outputs[1]).toEqual({
        tensor: ir.outputs[0].tensor,
        name: 'p',
        quant: ir.outputs[0].quant,
        postprocess: { op: op.toLowerCase(), axis: 1, shape: [1, 5] },
      })
      expect(irFromJson(irToJson(ir)).outputs[1].postprocess).toEqual(ir.outputs[1].postprocess)
      const factor = op === 'Softmax' ? 0.5 : 2
      for (let k = 0; k < got.length; k++) {
        const zErr = maxAbsDiff(got[k][0], reference[k][0].data)
        const [, p] = onnxOutputs(ir.outputs, got[k])
        expect(maxAbsDiff(p, reference[k][1].data)).toBeLessThanOrEqual(factor * zErr + FLOAT32_SLACK)
        // The reported probabilities are softmax probabilities for both ops (they sum to 1).
        const probs = outputProbabilities(ir.outputs, got[k])!
        expect(probs[0]).toBeNull()
        expect(probs[1]!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
      }
    },
  )

  it('reports no probabilities for a model without a final Softmax', async () => {
    const { ir, got } = await quantised(
      {
        name: 'plain',
        inputs: [{ name: 'x', shape: [4] }],
        outputs: [{ name: 'y', shape: [4] }],
        nodes: [{ op: 'Relu', name: 'relu', inputs: ['x'], outputs: ['y'] }],
      },
      680,
      { tests: 1 },
    )
    expect(outputProbabilities(ir.outputs, got[0])).toBeUndefined()
    expect(ir.outputs[0]).not.toHaveProperty('postprocess')
  })
})

describe('max on one float sample', () => {
  it('the IR max is within Δx/2 of the float max of the same input', () => {
    const graph = lowerOnnx(
      parseOnnx(
        buildModel({
          name: 'p',
          inputs: [{ name: 'x', shape: [1, 1, 4, 4] }],
          outputs: [{ name: 'y', shape: [1, 1, 2, 2] }],
          nodes: [
            {
              op: 'MaxPool',
              name: 'pool',
              inputs: ['x'],
              outputs: ['y'],
              attributes: { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } },
            },
          ],
        }),
      ),
    )
    const x = [Float64Array.from({ length: 16 }, (_, i) => ((i * 7) % 16) / 16 - 0.5)]
    const ir = quantize(graph, [x])
    const want = executeFloat(graph, x).get(graph.outputs[0].id)!
    const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(ir.inputs[0].quant.scale / 2)
  })
})

describe('a clamp with only an upper bound, on an accumulator', () => {
  // y = clamp(0.75·x, ≤ hi) with x calibrated over [-1, 1]: the requant fusing the clamp.
  const clampRequant = (hi: number): RequantOp => {
    const graph: FloatGraph = {
      name: 'upper-clamp',
      inputs: [{ id: 0, name: 'x', shape: [4] }],
      steps: [
        {
          origin: 'scale',
          id: 1,
          shape: [4],
          op: {
            kind: 'affine',
            inputs: [0],
            rowPtr: Int32Array.of(0, 1, 2, 3, 4),
            cols: Int32Array.of(0, 1, 2, 3),
            vals: new Float64Array(4).fill(0.75),
            bias: new Float64Array(4),
          },
        },
        { origin: 'clip', id: 2, shape: [4], op: { kind: 'clamp', inputs: [1], lo: null, hi } },
      ],
      outputs: [{ id: 2, name: 'y' }],
    }
    const ir = quantize(graph, [[Float64Array.of(-1, -0.5, 0.5, 1)]])
    return ir.steps.at(-1)!.op as RequantOp
  }

  it('x − max ≤ 0 (softmax): [−127, 0], a power of two of values, giving up only the domain’s last', () => {
    expect([clampRequant(0).lo, clampRequant(0).hi]).toEqual([-127n, 0n])
  })

  it('any other upper bound keeps the whole activation domain below it', () => {
    const op = clampRequant(0.25)
    expect(op.lo).toBe(-128n)
    expect(op.hi! > 0n).toBe(true)
  })
})

describe('linear steps over products and shared factors', () => {
  const affine = (inputs: number[], vals: number[], width: number) => ({
    kind: 'affine' as const,
    inputs,
    rowPtr: Int32Array.from({ length: 5 }, (_, j) => j * width),
    cols: Int32Array.from({ length: 4 * width }, (_, k) => (width === 1 ? k : (k % width) * 4 + Math.floor(k / width))),
    vals: Float64Array.from({ length: 4 * width }, (_, k) => vals[k % width]),
    bias: new Float64Array(4),
  })

  it('divides out a power of two every weight shares: 1/4 weights are 1s at an exp 2 lower, the same values', () => {
    // y = x/4 + x/4 (two bases, one tensor twice): at wBits the weights would be 64·2^-…; here 1.
    const graph: FloatGraph = {
      name: 'quarter',
      inputs: [{ id: 0, name: 'x', shape: [4] }],
      steps: [{ origin: 'q', id: 1, shape: [4], op: affine([0], [0.25], 1) }],
      outputs: [{ id: 1, name: 'y' }],
    }
    const x = Float64Array.of(-1, -0.25, 0.5, 1)
    const ir = quantize(graph, [[x]])
    const linear = ir.steps.find((s) => s.op.op === 'linear')!.op as Extract<Step['op'], { op: 'linear' }>
    expect(linear.vals).toEqual([1n, 1n, 1n, 1n])
    const got = dequantize(execute(ir, quantizeInputs(ir.inputs, [x])).outputs[0], ir.outputs[0].quant)
    for (let i = 0; i < 4; i++) expect(Math.abs(got[i] - x[i] / 4)).toBeLessThanOrEqual(ir.outputs[0].quant.scale)
  })

  it('rescales a product tensor once for every affine that reads it at the same exp', () => {
    // p = x·x; a = 0.3·p + x and b = 0.3·p − x: both rescale p to the same exp, one requant.
    const graph: FloatGraph = {
      name: 'shared-rescale',
      inputs: [{ id: 0, name: 'x', shape: [4] }],
      steps: [
        {
          origin: 'p',
          id: 1,
          shape: [4],
          op: { kind: 'mul', inputs: [0], left: Int32Array.of(0, 1, 2, 3), right: Int32Array.of(0, 1, 2, 3) },
        },
        { origin: 'a', id: 2, shape: [4], op: affine([1, 0], [0.3, 1], 2) },
        { origin: 'b', id: 3, shape: [4], op: affine([1, 0], [0.3, -1], 2) },
        { origin: 'sum', id: 4, shape: [4], op: affine([2, 3], [1, 1], 2) },
      ],
      outputs: [{ id: 4, name: 'y' }],
    }
    const ir = quantize(graph, [[Float64Array.of(-1, -0.5, 0.5, 1)]])
    const rescales = ir.steps.filter((s) => s.output.name.endsWith(':rescale'))
    expect(rescales).toHaveLength(1)
    analyzeBounds(ir)
  })
})

describe('a mul whose sides read inputs at different scales', () => {
  it('is quantised at the finest of their scales, not mis-scaled (each side crossing two inputs)', () => {
    // a ∈ ±1, b ∈ ±100: their int8 scales differ by 2^6. y = [a0·a1, b0·b1] over the
    // concatenation [a0, a1, b0, b1]: each side reads both inputs (the first-input/last-input
    // rule would give both products the scale of a·b).
    const graph: FloatGraph = {
      name: 'mixed-mul',
      inputs: [
        { id: 0, name: 'a', shape: [2] },
        { id: 1, name: 'b', shape: [2] },
      ],
      steps: [
        {
          origin: 'mul',
          id: 2,
          shape: [2],
          op: { kind: 'mul', inputs: [0, 1], left: Int32Array.from([0, 2]), right: Int32Array.from([1, 3]) },
        },
      ],
      outputs: [{ id: 2, name: 'y' }],
    }
    const r = rng(12)
    const xs = Array.from({ length: 16 }, () => [
      Float64Array.from({ length: 2 }, () => 2 * r() - 1),
      Float64Array.from({ length: 2 }, () => 200 * r() - 100),
    ])
    const ir = quantize(graph, xs)
    for (const x of xs) {
      const want = executeFloat(graph, x).get(2)!
      const got = dequantize(execute(ir, quantizeInputs(ir.inputs, x)).outputs[0], ir.outputs[0].quant)
      // Each operand within half its input's step Δ of its value: |uv − u'v'| ≤ (|u| + |v|)·Δ/2 + Δ²/4.
      const [da, db] = ir.inputs.map((i) => i.quant.scale)
      const bound = (u: number, v: number, d: number) => ((Math.abs(u) + Math.abs(v)) * d) / 2 + (d * d) / 4 + 1e-9
      expect(Math.abs(got[0] - want[0])).toBeLessThanOrEqual(bound(x[0][0], x[0][1], da))
      expect(Math.abs(got[1] - want[1])).toBeLessThanOrEqual(bound(x[1][0], x[1][1], db))
    }
  })
})
