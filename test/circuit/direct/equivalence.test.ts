/**
 * The direct backend against circom, on every fixture and on the requant gadget models (the
 * models whose ops are all ones the direct backend builds: linear, requant, gather): the same
 * wires and constraints over the same names, each system satisfied by the other's witness,
 * and the public signals the reference executor defines.
 */
import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { FIXTURES, fixturePath } from '../../../models/make-fixtures.js'
import { buildDirect, directWitness } from '../../../src/circuit/direct/build.js'
import { DirectOpError, DirectVisibilityError, DirectWiresMismatchError } from '../../../src/circuit/direct/errors.js'
import type { Visibility } from '../../../src/circuit/layout.js'
import { publicSignals } from '../../../src/circuit/public.js'
import { checkWitness } from '../../../src/circuit/r1cs/witness.js'
import { analyzeBounds } from '../../../src/ir/bounds.js'
import { execute } from '../../../src/ir/execute.js'
import type { IrModel } from '../../../src/ir/types.js'
import { lowerOnnx } from '../../../src/onnx/lower.js'
import { parseOnnx } from '../../../src/onnx/parse.js'
import { quantizeInputs } from '../../../src/quantize/input.js'
import { quantize } from '../../../src/quantize/quantize.js'
import { shutdown } from '../../../src/shutdown.js'
import { buildCircuit, randInt, rng } from '../../helpers/circuit.js'
import { violated } from '../../helpers/r1cs.js'
import { builderNamed, compareR1cs, mapWitness, readCircomNamed } from '../../helpers/r1cs-parity.js'
import { halfEvenModel, halfUpModel } from '../../helpers/requant-models.js'

afterAll(shutdown)

const PUBLIC: Visibility = { input: 'public', output: 'public' }
const PRIVATE_IN: Visibility = { input: 'private', output: 'public' }

/**
 * Compiles `ir` with circom and builds it directly; checks structure once and witnesses on
 * every input vector. Returns the direct system's wire names.
 */
async function expectEquivalent(
  ir: IrModel,
  visibility: Visibility,
  inputs: bigint[][][],
  templateTextLimit?: number,
): Promise<string[]> {
  const circuit = await buildCircuit(ir, visibility, { templateTextLimit })
  const circom = await readCircomNamed(circuit.dir, 'model')
  const bounds = analyzeBounds(ir)
  const structure = buildDirect({ model: ir, bounds, visibility, templateTextLimit })
  const ours = builderNamed(structure.system)
  const report = compareR1cs(ours, circom)
  expect(report).toEqual({
    wireCounts: [circom.r1cs.nVars, circom.r1cs.nVars],
    constraintCounts: [circom.r1cs.nConstraints, circom.r1cs.nConstraints],
    onlyFirst: [],
    onlySecond: [],
    namesOnlyFirst: [],
    namesOnlySecond: [],
  })
  expect([ours.r1cs.nOutputs, ours.r1cs.nPubInputs, ours.r1cs.nPrvInputs]).toEqual([
    circom.r1cs.nOutputs,
    circom.r1cs.nPubInputs,
    circom.r1cs.nPrvInputs,
  ])
  expect(structure.layout).toEqual(circuit.emitted.layout)
  expect(structure.witness).toBeNull()
  for (const x of inputs) {
    const { system, witness } = buildDirect({ model: ir, bounds, visibility, templateTextLimit, inputs: x })
    expect(system.constraintCount).toBe(structure.system.constraintCount)
    expect(checkWitness(system, witness!)).toBeNull()
    // The prove-time pass (values only, the compile's wire map) gives the very same witness.
    const { wires } = structure
    expect(
      directWitness({
        model: ir,
        bounds,
        visibility,
        templateTextLimit,
        inputs: x,
        wires,
        signalCount: structure.signalCount,
        stepChunks: structure.stepChunks,
      }),
    ).toEqual(witness)
    expect(violated(circom.r1cs, mapWitness(witness!, ours, circom))).toEqual([])
    const theirs = await circuit.witness(x)
    expect(checkWitness(system, mapWitness(theirs, circom, ours))).toBeNull()
    const expected = await publicSignals(structure.layout, x, execute(ir, x).outputs)
    expect(witness!.slice(1, 1 + expected.length)).toEqual(expected)
  }
  return Array.from({ length: structure.system.wireCount }, (_, w) => structure.system.nameOf(w))
}

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

describe('what the direct backend refuses', () => {
  it('a wire map from another build: the witness pass names the mismatch', () => {
    const ir = halfUpModel()
    const bounds = analyzeBounds(ir)
    const { wires, signalCount, stepChunks } = buildDirect({ model: ir, bounds, visibility: PUBLIC })
    const inputs = [[1n, 2n, 3n]]
    expect(() =>
      directWitness({ model: ir, bounds, visibility: PUBLIC, inputs, wires, stepChunks, signalCount: signalCount + 1 }),
    ).toThrow(DirectWiresMismatchError)
  })

  it('hashed visibility and hashed weights, by name', () => {
    const ir = halfUpModel()
    const bounds = analyzeBounds(ir)
    expect(() => buildDirect({ model: ir, bounds, visibility: { input: 'hashed', output: 'public' } })).toThrow(
      DirectVisibilityError,
    )
    expect(() => buildDirect({ model: ir, bounds, visibility: { input: 'public', output: 'hashed' } })).toThrow(
      /output visibility "hashed"/,
    )
    expect(() => buildDirect({ model: ir, bounds, visibility: PUBLIC, weights: 'hashed' })).toThrow(DirectOpError)
  })

  it('an op kind it does not build yet (max), before building anything', () => {
    const ir: IrModel = {
      name: 'max',
      inputs: [{ id: 0, name: 'x', shape: [2], quant: { scale: 1, zeroPoint: 0 }, lo: -128n, hi: 127n }],
      steps: [
        {
          origin: 'pool',
          output: { id: 1, name: 'm', shape: [1] },
          op: { op: 'max', inputs: [0], rowPtr: Int32Array.of(0, 2), cols: Int32Array.of(0, 1) },
        },
      ],
      outputs: [{ tensor: 1, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() => buildDirect({ model: ir, bounds: analyzeBounds(ir), visibility: PUBLIC })).toThrow(
      /cannot build "max" yet/,
    )
  })
})
