/**
 * The direct backend against circom, on every fixture, on the requant gadget models and on the
 * max, lookup and mul models of the circom gadget tests (chunked steps included): the same wires
 * in the same order under the same names, the same constraints, each system satisfied by the
 * other's witness, and the public signals the reference executor defines.
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURES, fixturePath } from '../../../models/make-fixtures.js'
import { buildDirect, directWitness } from '../../../src/circuit/direct/build.js'
import { DirectWiresMismatchError } from '../../../src/circuit/direct/errors.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import type { IrModel } from '../../../src/ir/types.js'
import { lowerOnnx } from '../../../src/onnx/lower.js'
import { parseOnnx } from '../../../src/onnx/parse.js'
import { buildModel } from '../../../src/onnx/write.js'
import { quantizeInputs } from '../../../src/quantize/input.js'
import { quantize } from '../../../src/quantize/quantize.js'
import { shutdown } from '../../../src/shutdown.js'
import { sizeOf } from '../../../src/util/shape.js'
import { randInt, rng } from '../../helpers/circuit.js'
import { expectEquivalent, inputsOf } from '../../helpers/direct-equivalence.js'
import {
  lookupModel,
  maxModel,
  mulModel,
  mulReluOnnx,
  qdqMulOnnx,
  stepsModel,
  tinyQdq,
} from '../../helpers/op-models.js'
import { halfEvenModel, halfUpModel } from '../../helpers/requant-models.js'

afterAll(shutdown)

const PUBLIC: Visibility = { input: 'public', output: 'public' }
const PRIVATE_IN: Visibility = { input: 'private', output: 'public' }

/** A fixture quantised as fixtures.test.ts does, with `n` input vectors inside its domain. */
function fixture(file: string, n: number): { ir: IrModel; inputs: bigint[][][] } {
  const graph = lowerOnnx(parseOnnx(readFileSync(fixturePath(file))))
  const r = rng(11)
  const sample = () =>
    graph.inputs.map((i) => Float64Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1))
  const ir = quantize(graph, Array.from({ length: 16 }, sample))
  const inputs = Array.from({ length: n }, () =>
    quantizeInputs(
      ir.inputs,
      sample().map((v) => v.map((e) => e * 0.9)),
    ),
  )
  return { ir, inputs }
}

/** x ∈ int8³: the corners and random vectors (the requant models' one input). */
function int8Inputs(n: number): bigint[][][] {
  const r = rng(3)
  const corners = [-128n, 127n].flatMap((a) => [-128n, 127n].map((b) => [[a, b, 0n]]))
  return [...corners, ...Array.from({ length: n }, () => [[0, 1, 2].map(() => randInt(r, -128n, 127n))])]
}

const supported = FIXTURES.filter((f) => f.file !== 'unsupported.onnx')

describe('direct backend = circom (O1), on every fixture', () => {
  it.each(supported.map((f) => [f.file]))('%s, public and private inputs', async (file) => {
    const { ir, inputs } = fixture(file, 3)
    await expectEquivalent(ir, PUBLIC, inputs)
    await expectEquivalent(ir, PRIVATE_IN, inputs.slice(0, 1))
  })

  it('chunked steps (a 200-character template limit): the same chunks, names and constraints as circom', async () => {
    const { ir, inputs } = fixture('tiny-mlp.onnx', 2)
    const names = await expectEquivalent(ir, PUBLIC, inputs, 200)
    // Not vacuous: the steps were split (chunk components c1.. hold the gadgets' signals).
    expect(names.some((n) => /^main\.s\d+\.c1\./.test(n))).toBe(true)
  })
})

describe('direct backend = circom (O1), on the requant gadget models', () => {
  it('half up, every plan shape (signed/unsigned, HIMODE 0/1/2, constant and linear plans)', async () => {
    await expectEquivalent(halfUpModel(), PUBLIC, int8Inputs(12))
  })

  it('half even, both parities, ties included (every x0 in int8)', async () => {
    const sweep = Array.from({ length: 256 }, (_, i) => [[BigInt(i - 128), 5n, -3n]])
    await expectEquivalent(halfEvenModel('half-even'), PUBLIC, sweep)
  })

  it('half even on a model of half-up parameters (no EVEN gadget shape left out)', async () => {
    await expectEquivalent(halfEvenModel('half-up'), PRIVATE_IN, int8Inputs(4))
  })
})

describe('direct backend = circom (O1), on the max, lookup and mul models', () => {
  it('max: every tree shape, decided pairs, constant and affine operands (public and private inputs)', async () => {
    const ir = maxModel()
    const inputs = inputsOf(ir, 6, 7, [
      [
        [-128n, 127n, -128n, 127n, -128n, 127n],
        [200n, 0n, 200n, 0n],
      ],
      [Array(6).fill(5n), Array(4).fill(5n)],
    ])
    await expectEquivalent(ir, PUBLIC, inputs)
    await expectEquivalent(ir, PRIVATE_IN, inputs.slice(2, 3))
  })

  it('max chunked into 13 templates (c10 sorts before c2): the same names and wire order as circom', async () => {
    const ir = maxModel()
    const names = await expectEquivalent(ir, PUBLIC, inputsOf(ir, 2, 8), 100)
    // Chunks restart the row index: c10 holds the affine row (2 pairs), c11 the window-9 row
    // (8 pairs); each row's root y is named by the chunk's o[m], the others keep theirs.
    expect(names.filter((n) => /^main\.s6\.c1[01]\.mx6_0_\d+\.y$/.test(n))).toHaveLength(1 + 7)
  })

  it('lookup: gadget, constant and linear plans, ≥ 10 steps (s10 sorts before s9), private inputs', async () => {
    // Private inputs here; public ones below (u and k are one-element inputs packed alone).
    const ir = lookupModel()
    const sweep: bigint[][][] = [
      [[-45n, 0n, 0n, 0n], [0n], [5n]],
      [[-102n, -103n, 100n, 127n], [255n], [5n]],
    ]
    const names = await expectEquivalent(ir, PRIVATE_IN, inputsOf(ir, 4, 3, sweep))
    // Not vacuous: a step past s9 whose template input names its copy class, as circom's .sym does.
    expect(names.some((n) => /^main\.s1\d\.x\[\d+\]$/.test(n))).toBe(true)
  })

  it('mul: products, same-signal and affine operands, constant factors (arrays with unassigned elements)', async () => {
    const ir = mulModel()
    const inputs = inputsOf(ir, 5, 9)
    await expectEquivalent(ir, PUBLIC, inputs)
    await expectEquivalent(ir, PRIVATE_IN, inputs.slice(0, 1))
  })

  it('mul in quantised ONNX models: broadcast Mul then Relu, and a QDQ Mul (centred uint8 operands)', async () => {
    const relu = lowerOnnx(parseOnnx(mulReluOnnx()))
    const r = rng(4)
    const sample = () => relu.inputs.map((i) => Float64Array.from({ length: sizeOf(i.shape) }, () => r() * 2 - 1))
    const reluIr = quantize(relu, Array.from({ length: 16 }, sample))
    await expectEquivalent(reluIr, PUBLIC, inputsOf(reluIr, 2, 5))
    const qdq = quantize(lowerOnnx(parseOnnx(qdqMulOnnx())), [])
    expect(qdq.steps.map((s) => s.op.op)).toContain('mul')
    await expectEquivalent(qdq, PRIVATE_IN, inputsOf(qdq, 2, 6))
  })

  it('a QDQ CNN: Conv → Relu → MaxPool → Gemm → Sigmoid (max pooling and a lookup from ONNX)', async () => {
    const ir = quantize(lowerOnnx(parseOnnx(buildModel(tinyQdq()))), [])
    expect(ir.steps.map((s) => s.op.op)).toEqual(['linear', 'requant', 'max', 'linear', 'requant', 'lookup'])
    const inputs = inputsOf(ir, 2, 10)
    await expectEquivalent(ir, PUBLIC, inputs)
    await expectEquivalent(ir, PRIVATE_IN, inputs.slice(2, 3))
  })

  it('every constrained kind in one model: whole, hashed weights (all in main) and chunked (a 100-character template limit)', async () => {
    const ir = stepsModel()
    const inputs = inputsOf(ir, 3, 8)
    await expectEquivalent(ir, PUBLIC, inputs)
    await expectEquivalent(ir, PRIVATE_IN, inputs.slice(0, 1))
    // Hashed weights: every step inline in main (no step templates), gadgets named under main.
    const hashed = await expectEquivalent(ir, PUBLIC, inputs.slice(0, 1), undefined, { weights: 'hashed' })
    expect(hashed.some((n) => n.startsWith('main.mx3_0_0.'))).toBe(true)
    const names = await expectEquivalent(ir, PUBLIC, inputs, 100)
    // Split: gadgets in chunks past c0 (mul's products are all named by the step's o[m]; steps.test checks its chunks).
    for (const gadget of ['mx3_', 'lk4_'])
      expect(names.some((n) => new RegExp(`^main\\.s\\d\\.c[1-9]\\.${gadget}`).test(n))).toBe(true)
  })
})

describe('a public input packed alone', () => {
  it('in_packed[e] <== in1[0] is a copy: the input loses its wire and still counts in nPrvIn, as in circom', async () => {
    const ir = lookupModel()
    const inputs = inputsOf(ir, 2, 5, [[[-45n, 0n, 0n, 0n], [0n], [5n]]])
    const names = await expectEquivalent(ir, PUBLIC, inputs)
    // Not vacuous: u's one element (input 1) has no wire of its own; in_packed[1] carries it.
    expect(names).not.toContain('main.in1[0]')
    const { system } = buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility: PUBLIC })
    expect(system.privateInputCount).toBe(names.filter((n) => /^main\.in\d+\[/.test(n)).length + 1)
  })
})

describe('the prove-time witness pass', () => {
  it('a wire map from another build: the witness pass names the mismatch', () => {
    const ir = halfUpModel()
    const bounds = analyzeBounds(ir)
    const { wires, signalCount, stepChunks } = buildDirect({ model: ir, bounds, visibility: PUBLIC })
    const inputs = [[1n, 2n, 3n]]
    expect(() =>
      directWitness({ model: ir, bounds, visibility: PUBLIC, inputs, wires, stepChunks, signalCount: signalCount + 1 }),
    ).toThrow(DirectWiresMismatchError)
  })
})
