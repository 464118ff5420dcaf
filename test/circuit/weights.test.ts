import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { emitCircuit } from '../../src/circuit/emit.js'
import { pack } from '../../src/circuit/packing.js'
import { hashChain, MissingWeightCommitmentError, publicSignals } from '../../src/circuit/public.js'
import {
  NoWeightsError,
  committedTensors,
  signedLaneLayout,
  weightCommitment,
  weightInputs,
} from '../../src/circuit/weights.js'
import { analyzeBounds } from '../../src/ir/bounds.js'
import { execute } from '../../src/ir/execute.js'
import type { IrModel } from '../../src/ir/types.js'
import { shutdown } from '../../src/shutdown.js'
import { buildCircuit, randInt, rng, unconstrainedWires } from '../helpers/circuit.js'
import { weightsModel } from '../helpers/op-models.js'
import { violated } from '../helpers/r1cs.js'

describe('private Poseidon-committed weights', () => {
  const ir = weightsModel()
  let circuit: Awaited<ReturnType<typeof buildCircuit>>
  let commitment: bigint
  beforeAll(async () => {
    circuit = await buildCircuit(ir, undefined, { weights: 'hashed' })
    commitment = await weightCommitment(ir)
  })
  afterAll(shutdown)

  it('commits in the documented order: per linear step its weights (CSR order), then its biases, each tensor packed alone', async () => {
    const tensors = committedTensors(ir)
    expect(tensors.map((t) => t.name)).toEqual(['w1', 'b1', 'w4', 'b4'])
    expect(tensors.map((t) => t.layout.laneBits)).toEqual([10, 11, 5, 18])
    const lanes = (values: bigint[], B: number) =>
      pack(values, {
        count: values.length,
        laneBits: B,
        lo: -(1n << BigInt(B - 1)),
        lanesPerElement: Math.floor(252 / B),
      })
    const manual = await hashChain([
      ...lanes([37n, -21n, 5n, -128n, 0n, 127n, 1n, 1n, 1n, 300n, -2n, 9n], 10),
      ...lanes([3n, -1000n, 0n, 77n], 11),
      ...lanes([3n, -4n, 7n, 1n, -1n, -9n, 2n, -3n, 0n, 12n], 5),
      ...lanes([100000n, -5n], 18),
    ])
    expect(commitment).toBe(manual)
    expect(circuit.emitted.layout.weights).toEqual({ values: 28, elements: 4 })
    expect(circuit.emitted.layout.count).toBe(1 + 1 + 1)
  })

  it('signed lanes: B bits hold [-2^(B-1), 2^(B-1))', () => {
    expect(signedLaneLayout([127n, -128n])).toMatchObject({ laneBits: 8, lo: -128n })
    expect(signedLaneLayout([128n])).toMatchObject({ laneBits: 9, lo: -256n })
    expect(signedLaneLayout([-129n])).toMatchObject({ laneBits: 9 })
    expect(signedLaneLayout([0n])).toMatchObject({ laneBits: 1, lo: -1n })
  })

  it('equals the reference executor exactly, with the commitment as the last public signal', async () => {
    const layout = {
      ...circuit.emitted.layout,
      weights: { ...circuit.emitted.layout.weights!, commitment: commitment.toString() },
    }
    const r = rng(7)
    const inputs = [
      [-128n, -128n, -128n],
      [127n, 127n, 127n],
      [127n, -128n, 127n],
      [0n, 0n, 0n],
      ...Array.from({ length: 12 }, () => [0, 1, 2].map(() => randInt(r, -128n, 127n))),
    ]
    for (const x of inputs) {
      const w = await circuit.witness([x])
      const expected = await publicSignals(layout, [x], execute(ir, [x]).outputs)
      expect(expected.at(-1)).toBe(commitment)
      expect(w.slice(1, 1 + expected.length)).toEqual(expected)
      expect(violated(circuit.r1cs, w)).toEqual([])
    }
  })

  it('refuses public signals of hashed weights without their commitment', async () => {
    await expect(
      publicSignals(circuit.emitted.layout, [[0n, 0n, 0n]], execute(ir, [[0n, 0n, 0n]]).outputs),
    ).rejects.toThrow(MissingWeightCommitmentError)
  })

  it('rejects a witness with ANY single signal changed (weights, products, lanes, hash: all constrained)', async () => {
    for (const x of [
      [-77n, 101n, 13n],
      [127n, 127n, 127n],
    ]) {
      // The helper allows only IsZero.inv at a zero input (free there whatever it is).
      expect(unconstrainedWires(circuit, await circuit.witness([x]))).toEqual([])
    }
  })

  it('other weights give another commitment: a proof with them cannot carry the published one', async () => {
    const x = [12n, -99n, 45n]
    const tampered = weightInputs(ir)
    tampered.w4 = [...tampered.w4]
    tampered.w4[0] += 1n
    const w = await circuit.witness([x], tampered)
    // The witness is valid for the tampered weights, but its commitment is not the model's.
    expect(violated(circuit.r1cs, w)).toEqual([])
    const n = circuit.emitted.layout.count
    expect(w[n]).not.toBe(commitment)
    // Forcing the published commitment into that witness breaks the hash constraints.
    const forced = [...w]
    forced[n] = commitment
    expect(violated(circuit.r1cs, forced).length).toBeGreaterThan(0)
  })

  it('packing is unambiguous: weights that pack to the same elements without their range check are refused', async () => {
    // w1[0] + 2^B and w1[1] - 1 give the same packed element as (w1[0], w1[1]) when lanes are not range-checked.
    const B = BigInt(committedTensors(ir)[0].layout.laneBits)
    const alias = weightInputs(ir)
    alias.w1 = [...alias.w1]
    alias.w1[0] += 1n << B
    alias.w1[1] -= 1n
    const half = 1n << (B - 1n)
    const element = (w: bigint[]) => w.slice(0, 2).reduce((acc, v, j) => acc + (v + half) * (1n << (B * BigInt(j))), 0n)
    expect(element(alias.w1)).toBe(element(weightInputs(ir).w1))
    await expect(circuit.witness([[1n, 2n, 3n]], alias)).rejects.toThrow()
  })

  it('costs about one multiplication a weight plus B + 1 for its lane and the hash (budget)', () => {
    const nnzWithSignal = 12 + 4 * 2 // fc2's fill column is a constant operand: no product.
    const laneBits = committedTensors(ir).reduce((s, t) => s + t.values.length * (t.layout.laneBits + 1), 0)
    expect(circuit.emitted.cost.weights).toBe(nnzWithSignal + 6 + laneBits + 4)
    // What is left is one Poseidon(4) (O1 keeps its linear mixing constraints) and the packed outputs.
    const { inputRangeChecks, requant, weights } = circuit.emitted.cost
    const rest = circuit.compiled.constraintCount - (inputRangeChecks + requant + weights)
    console.log(
      `weights-cases: ${circuit.compiled.constraintCount} constraints, ${weights} for the weights, ${rest} for the hash and outputs`,
    )
    expect(rest).toBeGreaterThan(200)
    expect(rest).toBeLessThan(900)
  })

  it('refuses hashed weights for a model with no linear op', () => {
    const noLinear: IrModel = {
      ...ir,
      steps: [
        {
          origin: 'relu',
          output: { id: 1, name: 'r', shape: [3] },
          op: { op: 'requant', inputs: [0], mul: 1n, shift: 0, zeroPoint: 0n, lo: 0n, hi: null },
        },
      ],
      outputs: [{ tensor: 1, name: 'y', quant: { scale: 1, zeroPoint: 0 } }],
    }
    expect(() =>
      emitCircuit({
        model: noLinear,
        bounds: analyzeBounds(noLinear),
        visibility: { input: 'public', output: 'public' },
        weights: 'hashed',
      }),
    ).toThrow(NoWeightsError)
  })
})
