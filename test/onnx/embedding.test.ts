/**
 * Token and position embeddings (src/onnx/ops/embedding.ts): Gather of a constant table by
 * int64 token ids, imported as one lookup per column and an index map, equal to onnxruntime in
 * float and close to it once quantised; ids outside the table (negative, past the end, with a
 * fraction) refused by input name, position and range; ids used as anything but indices refused
 * by node. Then the tiny nanoGPT-shaped decoder from token ids (models/gpt.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type GptConfig, GPT_DEFAULTS, gptOnnx } from '../../models/gpt.js'
import { planLookup } from '../../src/circuit/lookup.js'
import { inspectModel } from '../../src/inspect.js'
import { IrInputError } from '../../src/ir/errors.js'
import { execute } from '../../src/ir/execute.js'
import { executeFloat } from '../../src/onnx/graph.js'
import { LoweringError, lowerOnnx } from '../../src/onnx/lower.js'
import { parseOnnx } from '../../src/onnx/parse.js'
import { compareOutputs, runOnnxruntime } from '../../src/onnx/runtime.js'
import { type BuildModelParameters, type NodeSpec, type TensorSpec, buildModel } from '../../src/onnx/write.js'
import { defaultCalibration } from '../../src/prove/compile.js'
import { dequantize, parseInputs, quantizeInputs } from '../../src/quantize/input.js'
import { quantize } from '../../src/quantize/quantize.js'
import { rng } from '../helpers/circuit.js'
import { f32, i64, int, node } from './ort-diff.js'

const V = 7
const r0 = rng(1)
const WTE = f32(r0, 'wte', [V, 4], 2)
const WPE = f32(r0, 'wpe', [3, 4], 0.5)

/** ids [2, 3] (int64) → Gather(wte) + wpe → y [2, 3, 4], plus whatever `extra` adds. */
function embeddingModel(
  nodes: NodeSpec[] = [node('Gather', ['wte', 'ids'], ['tok']), node('Add', ['tok', 'wpe'], ['y'])],
  initializers: (TensorSpec & { name: string })[] = [WTE, WPE],
  inputs: BuildModelParameters['inputs'] = [{ name: 'ids', shape: [2, 3], type: 'int64' }],
): Uint8Array {
  return buildModel({
    name: 'embedding',
    opset: 13,
    inputs,
    outputs: [{ name: 'y', shape: ['a', 'b', 'c'] }],
    initializers,
    nodes,
  })
}

const randomIds = (r: () => number, n: number, rows = V) => Float64Array.from({ length: n }, () => int(r, 0, rows - 1))

/** The float graph against onnxruntime on `count` random id samples: equal up to float32 rounding. */
async function expectFloatEqual(bytes: Uint8Array, count = 4, rows = V): Promise<void> {
  const onnx = parseOnnx(bytes)
  const graph = lowerOnnx(onnx)
  const r = rng(7)
  const samples = Array.from({ length: count }, () =>
    onnx.inputs.map((i) =>
      randomIds(
        r,
        i.shape.reduce((a, b) => a * b, 1),
        rows,
      ),
    ),
  )
  const reference = await runOnnxruntime(bytes, onnx.inputs, samples)
  samples.forEach((s, k) => {
    const ours = executeFloat(graph, s).get(graph.outputs[0].id)!
    expect(ours).toHaveLength(reference[k][0].length)
    ours.forEach((v, i) => expect(v).toBeCloseTo(reference[k][0][i], 5))
  })
}

describe('Gather by int64 token ids', () => {
  it('imports as one lookup per table column, the input’s domain the table’s rows, equal to onnxruntime', async () => {
    const bytes = embeddingModel()
    const graph = lowerOnnx(parseOnnx(bytes))
    expect(graph.inputs[0].tokenIds).toEqual({ lo: 0, hi: V - 1, table: 'wte' })
    // The ids clamped to the rows (free in the circuit; the optimistic game's lane needs it), then the columns.
    expect(graph.steps.map((s) => s.op.kind)).toEqual(['clamp', 'unary', 'unary', 'unary', 'unary', 'affine'])
    await expectFloatEqual(bytes)
  })

  it('takes any axis, and ids reshaped or transposed on the way', async () => {
    const table = f32(rng(2), 'wte', [2, V, 3])
    await expectFloatEqual(
      embeddingModel(
        [
          node('Transpose', ['ids'], ['idsT'], { perm: { ints: [1, 0] } }),
          node('Gather', ['wte', 'idsT'], ['y'], { axis: { int: 1 } }),
        ],
        [table],
      ),
    )
    await expectFloatEqual(
      embeddingModel(
        [
          node('Reshape', ['ids', 'flat'], ['idsFlat']),
          node('Gather', ['wte', 'idsFlat'], ['y'], { axis: { int: -2 } }),
        ],
        [table, i64('flat', [6])],
      ),
    )
  })

  it('quantises to scale-1 ids and lookups at the whole table’s scale, close to onnxruntime', async () => {
    const bytes = embeddingModel()
    const onnx = parseOnnx(bytes)
    const graph = lowerOnnx(onnx)
    const r = rng(3)
    // Calibration that never sees id 6: the table's scale still covers its row.
    const calibration = Array.from({ length: 4 }, () => [randomIds(r, 6, V - 1)])
    const ir = quantize(graph, calibration)
    expect(ir.inputs[0]).toMatchObject({ quant: { scale: 1, zeroPoint: 0 }, lo: 0n, hi: BigInt(V - 1), integer: true })
    const lookups = ir.steps.filter((s) => s.op.op === 'lookup')
    expect(lookups).toHaveLength(4)
    // One table entry per id, no rescale between columns.
    for (const s of lookups) expect(s.op.op === 'lookup' && [s.op.offset, s.op.table.length]).toEqual([0n, V])
    expect(ir.steps.filter((s) => s.op.op === 'requant' && s.origin.includes('rescale'))).toEqual([])
    const samples = [[Float64Array.of(6, 0, 6, 5, 6, 1)], ...calibration]
    const reference = await runOnnxruntime(bytes, onnx.inputs, samples)
    const ours = samples.map((s) =>
      execute(ir, quantizeInputs(ir.inputs, s)).outputs.map((o, k) => dequantize(o, ir.outputs[k].quant)),
    )
    const { maxAbsError } = compareOutputs(reference, ours)
    // 2 (|wte| ≤ 2) at 8 bits: half a step of 2^-6 per lookup, then the sum's requantisation.
    expect(maxAbsError).toBeLessThan(0.05)
  })

  it('refuses negative, past-the-end and fractional ids by input, position and range', () => {
    const graph = lowerOnnx(parseOnnx(embeddingModel()))
    const ir = quantize(graph, [[Float64Array.of(0, 1, 2, 3, 4, 5)]])
    const run = (ids: number[]) => () => quantizeInputs(ir.inputs, [Float64Array.from(ids)])
    expect(run([0, 1, -1, 3, 4, 5])).toThrow(IrInputError)
    expect(run([0, 1, -1, 3, 4, 5])).toThrow(
      /input "ids": expected token ids: integers in \[0, 6\] .*found -1 at index 2/,
    )
    expect(run([0, 1, 2, 3, 4, 7])).toThrow(/found 7 at index 5/)
    expect(run([0, 1.5, 2, 3, 4, 5])).toThrow(/found 1.5 at index 1/)
    // The same check on calibration samples, naming the sample; and through an input file.
    expect(() => quantize(graph, [[Float64Array.of(0, 1, 2, 3, 4, 5)], [Float64Array.of(0, 1, 2, 3, 4, -6)]])).toThrow(
      /input "ids": expected token ids: integers in \[0, 6\] .*found -6 at index 5 of sample 1/,
    )
    const fromFile = parseInputs(
      {
        ids: [
          [0, 1, 2],
          [3, 4, 8],
        ],
      },
      graph.inputs,
    )
    expect(() => quantizeInputs(ir.inputs, fromFile[0])).toThrow(/found 8 at index 5/)
    expect(quantizeInputs(ir.inputs, [Float64Array.of(6, 5, 4, 3, 2, 1)])).toEqual([[6n, 5n, 4n, 3n, 2n, 1n]])
    // Without a samples file, compile calibrates on ids drawn from the rows (not floats in [-1, 1)).
    const drawn = defaultCalibration(graph.inputs).flatMap((s) => Array.from(s[0]))
    expect(drawn.every((x) => Number.isInteger(x) && x >= 0 && x <= V - 1)).toBe(true)
    expect(new Set(drawn).size).toBe(V)
  })

  it('refuses token ids used as values, arithmetic on ids as indices, and input-dependent tables', () => {
    const lower = (bytes: Uint8Array) => () => lowerOnnx(parseOnnx(bytes))
    const asValues = embeddingModel(
      [
        node('Gather', ['wte', 'ids'], ['tok']),
        node('Cast', ['ids'], ['idsF'], { to: { int: 1 } }),
        node('Unsqueeze', ['idsF', 'last'], ['idsU']),
        node('Add', ['tok', 'idsU'], ['y']),
      ],
      [WTE, i64('last', [2])],
    )
    expect(lower(asValues)).toThrow(LoweringError)
    expect(lower(asValues)).toThrow(/node "y" \(Add\): reads the token ids "ids" as values/)
    const doubled = embeddingModel(
      [node('Mul', ['ids', 'two'], ['ids2']), node('Gather', ['wte', 'ids2'], ['y'])],
      [WTE, i64('two', [2], [])],
    )
    expect(lower(doubled)).toThrow(/node "y" \(Gather\): the indices are arithmetic on the token ids/)
    const dynamicTable = embeddingModel(
      [node('Gather', ['x', 'ids'], ['y'])],
      [],
      [
        { name: 'x', shape: [V, 4] },
        { name: 'ids', shape: [2, 3], type: 'int64' },
      ],
    )
    expect(lower(dynamicTable)).toThrow(/node "y" \(Gather\): both the data and the indices depend on the model input/)
    // Not valid ONNX (Gather takes int32/int64 indices), but lowering names it rather than guessing.
    const fromFloats = embeddingModel([node('Gather', ['wte', 'x'], ['y'])], [WTE], [{ name: 'x', shape: [2, 3] }])
    expect(lower(fromFloats)).toThrow(/not read from an int32\/int64 graph input/)
  })
})

const TINY: GptConfig = { ...GPT_DEFAULTS, block: 8, vocab: 65, layers: 1, heads: 2, embd: 16, seed: 3, input: 'ids' }

describe('the tiny nanoGPT-shaped decoder from token ids', () => {
  const bytes = gptOnnx(TINY)
  const onnx = parseOnnx(bytes)
  const r = rng(11)
  const ids = () => [randomIds(r, TINY.block, TINY.vocab)]

  it('imports and quantises: one 65-entry lookup per embedding column, close to onnxruntime', async () => {
    const graph = lowerOnnx(onnx)
    expect(graph.inputs[0].tokenIds).toEqual({ lo: 0, hi: 64, table: 'transformer.wte.weight' })
    const ir = quantize(
      graph,
      Array.from({ length: 16 }, () => ids()),
    )
    const embedding = ir.steps.filter((s) => s.op.op === 'lookup' && s.origin === 'transformer.wte')
    expect(embedding).toHaveLength(TINY.embd)
    // Each (token, column) is one Lookup gadget of 2A + B = 23 constraints over 65 entries.
    const perElement = embedding.map((s) => s.op.op === 'lookup' && planLookup(s.op, 0n, 64n))
    for (const p of perElement) expect(p && p.kind === 'gadget' && p.constraints).toBe(23)
    const samples = Array.from({ length: 8 }, () => ids())
    const reference = await runOnnxruntime(bytes, onnx.inputs, samples)
    const ours = samples.map((s) =>
      execute(ir, quantizeInputs(ir.inputs, s)).outputs.map((o, k) => dequantize(o, ir.outputs[k].quant)),
    )
    const acc = compareOutputs(reference, ours)
    console.log(
      `tiny ids GPT: max |error| ${acc.maxAbsError.toFixed(3)}, argmax agreement ${acc.argmaxAgreement} over ${acc.samples} sequences; embedding ${TINY.block * TINY.embd * 23} constraints`,
    )
    expect(acc.maxAbsError).toBeLessThan(1.5)
    expect(acc.argmaxAgreement).toBeGreaterThanOrEqual(0.75)
  })

  it('inspect prints its estimate from a samples file of token ids', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'veriml-ids-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'gpt.onnx'), bytes)
    const samples = Array.from({ length: 4 }, () => [Array.from(ids()[0])])
    await writeFile(join(dir, 'ids.json'), JSON.stringify({ input_ids: samples }))
    const report = await inspectModel({ onnxPath: join(dir, 'gpt.onnx'), calibrationPath: join(dir, 'ids.json') })
    expect(report.unsupported).toEqual([])
    expect(report.estimatedConstraints).toBeGreaterThan(TINY.block * TINY.embd * 23)
    expect(report.text).toMatch(/estimated constraints .*lookup \d+/)
  })
})
